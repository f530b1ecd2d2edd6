"""The public lists: filtered, faceted, paginated, each reproducible from its URL."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import Count, F, IntegerField, Model, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.urls import reverse
from django_filters.views import FilterView

from talks.filters import narrowing_values, unknown_parameters
from talks.list_index import FACET_CHOICES, ListIndex
from talks.list_specs import LISTS, ListSpec
from talks.models import Citation, DisagreementClaim


def changed_query(query: QueryDict, changes: dict) -> str:
    """The current query string with some parameters set, or removed where the value is None.

    Encoded as QueryDict.urlencode() encodes, without QueryDict.copy(), which deep-copies: a list
    page links every facet choice, and copying the query for each was a tenth of its time."""
    params = dict(query.lists())
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = [value]
    pairs = [(key, value) for key, values in params.items() for value in values]
    return f"?{urlencode(pairs)}" if pairs else "?"


@dataclass
class FacetChoice:
    value: str
    label: str
    count: int
    active: bool
    href: str  # selects this choice, or removes it when it is the active one


@dataclass
class Facet:
    param: str
    label: str
    choices: list[FacetChoice]

    @property
    def truncated(self) -> bool:
        return len(self.choices) >= FACET_CHOICES


@dataclass
class ActiveFilter:
    label: str
    value: str
    href: str  # the same view without this filter


def facet(query: QueryDict, param, label, rows, labels=None) -> Facet:
    """Rows of (value, label, count) as a facet; `labels` names the values of a choice field."""
    choices = []
    current = query.get(param)
    for value, name, count in rows:
        if value in (None, ""):
            continue
        active = str(value) == current
        href = changed_query(query, {param: None if active else str(value), "page": None})
        choices.append(FacetChoice(str(value), (labels or {}).get(value, name or value), count, active, href))
    return Facet(param, label, sorted(choices, key=lambda choice: (-choice.count, choice.label)))


def count_of_published_claims():
    citing = (
        Citation.objects.published()
        .filter(article=OuterRef("pk"))
        .order_by()
        .values("article")
        .annotate(n=Count("claim", distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(citing, output_field=IntegerField()), Value(0))


class CountedPaginator(Paginator):
    """Pages of a list without counting or computing more than the page.

    Told its count (by the list index) it does not count the whole list. And it finds a
    page's rows by key first: skipping the rows before a deep page must not compute each skipped
    row's evidence counts, only those of the 25 rows shown. It then reads those rows from `rows`,
    the unfiltered list, by key alone: the keys already passed the filters, and repeating them
    (an issue's thousands of links, say) would cost SQLite more than reading the page's rows.
    """

    def __init__(self, *args, known_count=None, rows=None, ordered_keys=None, **kwargs):
        super().__init__(*args, **kwargs)
        if known_count is not None:
            self.count = known_count  # fills the cached_property
        self.rows = self.object_list if rows is None else rows
        self.ordered_keys = ordered_keys

    def page(self, number):
        page = super().page(number)
        if self.ordered_keys is None:
            keys = list(page.object_list.values_list("pk", flat=True))
        else:  # the list index ordered the matches already
            keys = (
                self.ordered_keys[(page.number - 1) * self.per_page : page.end_index()] if self.count else []
            )
        rows = {row.pk: row for row in self.rows.filter(pk__in=keys).order_by()}
        page.object_list = [rows[key] for key in keys]
        return page


class PublicListView(FilterView):
    """A filtered list of published records, with result count, facets, active filters and ordering:
    what it filters, counts and orders by is its list's declaration (talks/list_specs.py)."""

    list_name = ""  # its entry in LISTS
    paginate_by = 25
    downloads = ()  # the exports that take this list's filters
    feed_url_name = None
    strict = True  # an invalid filter shows its message and no rows, never an unfiltered list
    page_title = ""
    description = ""

    @property
    def spec(self) -> ListSpec:
        return LISTS[self.list_name]

    @property
    def filterset_class(self):
        return self.spec.filterset

    @property
    def list_index(self) -> ListIndex | None:
        """The in-memory counts of this list's records (talks/list_index.py): its count, facets and
        order. None for a list that the database counts and that has no facets."""
        return self.spec.index

    def base_queryset(self):
        return self.spec.base_queryset()

    def get_queryset(self):
        return self.base_queryset()

    facet_counts = None

    def get_paginator(self, queryset, per_page, **kwargs):
        """The list index counts and orders the matches, so a page deep in the list skips no rows in
        the database."""
        known = ordered_keys = None
        if self.list_index is not None:
            if not self.filterset.is_bound:
                narrowing = {}
            else:
                narrowing = narrowing_values(self.filterset) if self.filterset.is_valid() else None
            counted = self.list_index.count(queryset, narrowing)
            known, self.facet_counts, ordered_keys = counted.count, counted.facet_counts, counted.ordered
        return CountedPaginator(
            queryset,
            per_page,
            known_count=known,
            rows=self.base_queryset(),
            ordered_keys=ordered_keys,
            **kwargs,
        )

    def facets(self) -> list[Facet]:
        if self.list_index is None or self.facet_counts is None:
            return []
        query = self.request.GET
        return [
            facet(query, spec.param, spec.label, spec.rows(self.facet_counts[spec.param]), spec.labels)
            for spec in self.list_index.facets
        ]

    def active_filters(self) -> list[ActiveFilter]:
        form = self.filterset.form
        if not form.is_valid():
            return []
        active = []
        for name, value in form.cleaned_data.items():
            if value in (None, "", [], ()) or name == "ordering":
                continue
            field = form.fields[name]
            if hasattr(value, "start"):  # a date range: each end removable on its own
                for end, suffix in [(value.start, "after"), (value.stop, "before")]:
                    if end:
                        label = f"{field.label} {'from' if suffix == 'after' else 'to'}"
                        href = changed_query(self.request.GET, {f"{name}_{suffix}": None, "page": None})
                        # The range's ends are datetimes (the start and the end of a day): show the day.
                        active.append(ActiveFilter(label, end.date().isoformat(), href))
                continue
            if isinstance(value, Model):  # a record chosen by slug: its name, without listing every record
                shown = value
            else:
                shown = dict(field.choices).get(value, value) if hasattr(field, "choices") else value
            href = changed_query(self.request.GET, {name: None, "page": None})
            active.append(ActiveFilter(str(field.label), str(shown), href))
        return active

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        valid = not self.filterset.is_bound or self.filterset.is_valid()
        result = self.object_list
        query = changed_query(self.request.GET, {"page": None})
        context.update(
            downloads=[
                (name, reverse(f"{name}_csv") + query, reverse(f"{name}_json") + query)
                for name in self.downloads
            ],
            page_title=self.page_title,
            feed_url_name=self.feed_url_name,
            description=self.description,
            result_count=context["paginator"].count if context.get("paginator") else len(result),
            active_filters=self.active_filters(),
            facets=self.facets() if valid else [],
            filters_valid=valid,
            ignored_parameters=unknown_parameters(self.filterset, self.request.GET, also=("page",)),
        )
        return context


class ClaimListView(PublicListView):
    list_name = "claims"
    downloads = ("claims", "citations")
    feed_url_name = "claims_feed"
    template_name = "talks/claim_list.html"
    page_title = "Claims"
    description = "Every claim in the archive, each tied to the articles that reported it."

    def base_queryset(self):
        return super().base_queryset().for_display()


class RoundListView(PublicListView):
    list_name = "rounds"
    downloads = ("rounds", "delegations")
    feed_url_name = "rounds_feed"
    template_name = "talks/round_list.html"
    page_title = "Rounds"
    description = "Rounds of peace talks: when and where they met, who took part, and what came of it."

    def base_queryset(self):
        return super().base_queryset().select_related("track")


class SourceListView(PublicListView):
    list_name = "sources"
    downloads = ("sources",)
    template_name = "talks/source_list.html"
    page_title = "Sources"
    description = "The articles the archive cites, with what is known about each."

    def base_queryset(self):
        return (
            super()
            .base_queryset()
            .select_related("outlet")
            # A per-row subquery: counted for the 25 rows shown, not by grouping every citation.
            .annotate(claim_count=count_of_published_claims())
            .order_by(F("published_on").desc(nulls_last=True), "headline", "pk")
        )


class ParticipantListView(PublicListView):
    list_name = "participants"
    downloads = ("participants",)
    template_name = "talks/participant_list.html"
    page_title = "People"
    description = "Negotiators, officials and others who took part in or spoke about the talks."

    def base_queryset(self):
        return super().base_queryset().select_related("party")


class IssueListView(PublicListView):
    list_name = "issues"
    downloads = ("issues",)
    template_name = "talks/issue_list.html"
    page_title = "Issues"
    description = "The topics negotiated, with how many claims the archive holds on each."
    paginate_by = 100

    def base_queryset(self):
        return super().base_queryset().select_related("parent").order_by("name")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        issues = context["object_list"]
        counts = LISTS["claims"].index.counts_by_value("issue_links__issue_id", self.object_list.db)
        for issue in issues:
            issue.claim_count = counts.get(issue.pk, 0)
        return context


class DisagreementListView(PublicListView):
    list_name = "disagreements"
    downloads = ("disagreements",)
    feed_url_name = "disagreements_feed"
    template_name = "talks/disagreement_list.html"
    page_title = "Disagreements"
    description = (
        "Questions on which the articles differ: counts, names, who was present, what was agreed. "
        "Each version is a claim, with the articles that give it."
    )

    def base_queryset(self):
        return super().base_queryset().select_related("round").order_by("question", "pk")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        disagreements = context["object_list"]
        versions = {}
        for link in (
            DisagreementClaim.objects.published()
            .filter(disagreement__in=disagreements)
            .order_by("id")
            .values("disagreement_id", "version")
        ):
            versions.setdefault(link["disagreement_id"], []).append(link["version"])
        for disagreement in disagreements:
            disagreement.public_versions = versions.get(disagreement.pk, [])
        return context


def warm_list_indexes() -> None:
    """Build each list's in-memory counts, and their ranks in every order a reader can choose, at a
    server process's start (config/wsgi.py): at full size a second's work, which its first
    readers would otherwise wait for."""
    for view_class in PublicListView.__subclasses__():
        view = view_class()
        if view.list_index is None:
            continue
        filterset_class = view.filterset_class
        orderings = [value for value, _ in filterset_class().form.fields["ordering"].choices]
        querysets = [
            filterset_class({"ordering": value} if value else {}, queryset=view.base_queryset()).qs
            for value in orderings
        ]
        view.list_index.warm(querysets)


# The lists' in-memory indexes, by the names their versions go by (talks/list_index.py).
CLAIMS, ROUNDS, ARTICLES, PEOPLE = (
    LISTS[name].index for name in ("claims", "rounds", "sources", "participants")
)
LIST_INDEXES = [CLAIMS, ROUNDS, ARTICLES, PEOPLE]
