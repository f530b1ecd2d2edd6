"""Pages of the API's lists: `count`, `next`, `previous` and `results`, and the same links in an
RFC 8288 `Link` header.

A list with an in-memory index (talks/list_index.py) is counted and ordered by it, as its HTML page
is (`CountedPaginator`, talks/lists.py), so a page deep in 300,000 claims skips no rows in the
database; the others (issues, disagreements, citations, releases, removals) are counted by it.
"""

from django.conf import settings
from django.db.models import F
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from talks.api.errors import PageNotFound, ParameterError
from talks.api.filtering import changed_since
from talks.filters import narrowing_values
from talks.lists import CountedPaginator

DEFAULT_PAGE_SIZE = 25
MAX_PAGE = 10**9  # a larger number is no page of any list, and is refused before any counting


def whole_number(query, name: str, default: int, maximum: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise ParameterError(name, f"Give a whole number from 1 to {maximum}.")
    return int(raw)


def changes_newest_first(filterset) -> bool:
    """`updated_since` without an order: the records come newest change first, as a copy catching
    up reads them."""
    data = filterset.form.cleaned_data
    return data.get("updated_since") is not None and not data.get("ordering")


UNCHANGED_COUNTED = 20_000  # at most this many unchanged records are counted to count the changed


def changed_count(view, index, queryset) -> int | None:
    """How many records changed since `updated_since`, when it is the only filter: all the public
    records the list index counts, less the unchanged ones, when there are few of them (a date
    before most changes: counting 300,000 changed claims took PostgreSQL 130 ms, the unchanged
    ones 1 ms, from the same index). None: the paginator counts the changed ones."""
    narrowing = narrowing_values(view.filterset)
    if set(narrowing) != {"updated_since"}:
        return None
    unchanged = changed_since(view.get_queryset(), "updated_since", narrowing["updated_since"], exclude=True)
    counted = unchanged.order_by().values("pk")[:UNCHANGED_COUNTED].count()
    return index.total(queryset.db) - counted if counted < UNCHANGED_COUNTED else None


class ListPagination(PageNumberPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    page_size_query_description = f"Records a page, at most {settings.API_MAX_PAGE_SIZE} (25 unless given)."
    max_page_size = settings.API_MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        size = whole_number(request.query_params, "page_size", DEFAULT_PAGE_SIZE, self.max_page_size)
        number = whole_number(request.query_params, "page", 1, MAX_PAGE)
        paginator = self.paginator_for(queryset, size, view)
        if number > paginator.num_pages:
            raise PageNotFound(f"There is no page {number}: this list has {paginator.num_pages}.")
        self.page = paginator.page(number)
        return list(self.page)

    def paginator_for(self, queryset, size: int, view) -> CountedPaginator:
        index = getattr(view, "list_index", None)
        if index is None:
            return CountedPaginator(queryset, size, rows=view.rows(queryset))
        if changes_newest_first(view.filterset):
            # The index does not hold when records changed; the database walks its index of
            # changes (the claims' `talks_claim_public_changes`), newest first, for the page's keys:
            # listing every match's id for the index took longer when most matched.
            ordered = queryset.order_by(F("last_change").desc(nulls_last=True), F("pk").desc())
            return CountedPaginator(
                ordered,
                size,
                known_count=changed_count(view, index, queryset),
                rows=view.rows(view.get_queryset()),
            )
        narrowing = narrowing_values(view.filterset) if view.filterset.is_bound else {}
        counted = index.count(queryset, narrowing, facets=False)
        return CountedPaginator(
            queryset,
            size,
            known_count=counted.count,
            rows=view.rows(view.get_queryset()),
            ordered_keys=counted.ordered,
        )

    def get_paginated_response(self, data):
        response = Response(
            {
                "count": self.page.paginator.count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )
        links = self.links()
        if links:
            response["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links)
        return response

    def links(self) -> list[tuple[str, str]]:
        url = self.request.build_absolute_uri()
        paginator = self.page.paginator
        found = [("first", remove_query_param(url, "page"))]
        if self.page.has_previous():
            found.append(("prev", self.get_previous_link()))
        if self.page.has_next():
            found.append(("next", self.get_next_link()))
        last = paginator.num_pages
        found.append(("last", replace_query_param(url, "page", last) if last > 1 else found[0][1]))
        return found

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer", "example": 123},
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }
