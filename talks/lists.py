"""The public lists: filtered, faceted, paginated, each reproducible from its URL."""

from collections import Counter
from dataclasses import dataclass
from operator import itemgetter
from urllib.parse import urlencode

from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import connection, connections
from django.db.models import Count, F, IntegerField, Model, OuterRef, Subquery, Value
from django.db.models.expressions import OrderBy
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.urls import reverse
from django_filters.views import FilterView

from sources.models import Outlet
from talks import tallies
from talks.filters import ClaimFilter, IssueFilter, ParticipantFilter, RoundFilter, SourceFilter, narrows
from talks.models import Citation, Claim, Delegation, Issue, Membership, Party, Round, Track
from talks.querysets import compiled

PUBLISHED = "published"
# A facet lists its most frequent values only: a page must not grow with the archive (5,000 rounds,
# 500 outlets). Any other value is one filter away in the form.
FACET_CHOICES = 12


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


def grouped(queryset, *fields, count=None):
    """(value, label, count) rows for the most frequent values: how many records share each value."""
    counted = count or Count("pk", distinct=True)
    return queryset.values_list(*fields).annotate(count=counted).order_by("-count", *fields)[:FACET_CHOICES]


def stored_rows(dimension: str, records=None, label: str = "name", limit: int = FACET_CHOICES) -> list:
    """An unfiltered list's facet rows, from the stored tallies: by public record (linked by slug,
    named by `label`) or, without `records`, by value."""
    if records is None:
        return tallies.counts_by_value(dimension, limit)
    return tallies.counts_by_record(dimension, records, label, limit)


@dataclass(frozen=True)
class ScannedFacet:
    """A facet a filtered list counts from its own rows, in the one query that also counts the list.

    `field` is read for every matching record; `to_many` says it is read through a to-many relation
    (a claim's issues), `words` that it holds several values (a person's kinds of seat). `records`
    are the public records its values name, for their slugs and labels; `labels` name a choice
    field's values.
    """

    param: str
    label: str
    field: str
    records: object = None
    label_field: str = "name"
    labels: dict | None = None
    to_many: bool = False
    words: bool = False  # the field holds several values, separated by spaces

    def rows(self, counter: Counter) -> list[tuple]:
        if self.records is None:
            return [(value, value, n) for value, n in counter.most_common(FACET_CHOICES)]
        # A few more candidates than shown, in case some name records readers cannot see.
        candidates = [value for value, _ in counter.most_common(FACET_CHOICES * 4)]
        public = self.records.filter(pk__in=candidates).values_list("pk", "slug", self.label_field)
        return sorted(((slug, label, counter[pk]) for pk, slug, label in public), key=lambda row: -row[2])[
            :FACET_CHOICES
        ]


# Column types that Python orders exactly as the databases do. Text is left to the database, whose
# collation Python does not know; so are related fields and expressions.
ORDERED_ALIKE = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "DateField",
    "DateTimeField",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
}


@dataclass(frozen=True)
class SortTerm:
    column: str
    descending: bool
    nulls_last: bool  # where rows without a value go, in the final order


def sort_terms(queryset) -> list[SortTerm] | None:
    """The queryset's ordering as terms Python can apply to its rows exactly as the database would,
    or None when any term is one it cannot (text, a related field, an expression)."""
    query, meta = queryset.query, queryset.model._meta
    terms = query.order_by or (meta.ordering if query.default_ordering else ())
    sort = []
    for term in terms:
        nulls_first = nulls_last = False
        if isinstance(term, str):
            descending, name = term.startswith("-"), term.removeprefix("-")
        elif isinstance(term, OrderBy) and isinstance(term.expression, F):
            descending, name = term.descending, term.expression.name
            nulls_first, nulls_last = bool(term.nulls_first), bool(term.nulls_last)
        else:
            return None
        try:
            field = meta.pk if name == "pk" else meta.get_field(name)
        except FieldDoesNotExist:
            return None
        if field.is_relation or field.get_internal_type() not in ORDERED_ALIKE:
            return None
        if not (nulls_first or nulls_last):
            # Untold, PostgreSQL sorts NULL as the largest value and SQLite as the smallest.
            nulls_last = connection.features.nulls_order_largest != descending
        sort.append(SortTerm(field.attname, descending, nulls_last))
    return sort


def in_order(rows: list[tuple], positions: list[int], terms: list[SortTerm]) -> list:
    """The keys (first item) of `rows` ordered by the terms, read at those positions of each row:
    one stable sort per term, the last term first."""
    for position, term in reversed(list(zip(positions, terms, strict=True))):
        read = itemgetter(position)
        present = sorted((row for row in rows if read(row) is not None), key=read, reverse=term.descending)
        missing = [row for row in rows if read(row) is None]
        rows = present + missing if term.nulls_last else missing + present
    return [row[0] for row in rows]


@dataclass
class Scan:
    count: int
    counters: dict[str, Counter]
    ordered_keys: list | None  # every match's key in the list's order, when Python could order them


def scan(queryset, facets: list[ScannedFacet]) -> Scan:
    """How many records match, how many of them have each value of each facet and, where Python
    orders as the database does, every match's key in order: one query.

    Fetches a few small columns per match (ids, choice values, the ordering's numbers and dates) and
    counts in Python: one pass over the matches instead of one grouped query each for the count and
    every facet, and another for the page's keys. The join to a to-many facet repeats a record once
    per link, each (record, value) pair once, so that facet counts rows and the others count
    records; with two such facets the pairs would multiply.

    The rows are fetched in one piece, not through a server-side cursor: every match is kept in
    memory for the counting anyway, and PostgreSQL materialises a held cursor before its first row.
    """
    if sum(spec.to_many for spec in facets) > 1:
        raise ValueError("scan() reads at most one to-many facet in its single query")
    terms = sort_terms(queryset)
    columns = ["pk", *(spec.field for spec in facets), *(term.column for term in terms or ())]
    rows = fetched(queryset.order_by().values_list(*columns))
    records = list({row[0]: row for row in rows}.values())  # once per record, in the order first read
    counters = {}
    for position, spec in enumerate(facets, 1):
        read = itemgetter(position)
        if spec.to_many:  # every (record, value) pair once
            counted = Counter(map(read, rows))
        elif spec.words:
            counted = Counter(word for row in records for word in (read(row) or "").split())
        else:
            counted = Counter(map(read, records))
        counted.pop(None, None)
        counters[spec.param] = counted
    ordered_keys = None
    if terms is not None:
        first = 1 + len(facets)
        ordered_keys = in_order(records, list(range(first, first + len(terms))), terms)
    return Scan(len(records), counters, ordered_keys)


def fetched(rows) -> list[tuple]:
    """A values_list's rows as the driver returns them: the scan reads thousands of rows of keys,
    choices, numbers and dates, which need no conversion (dates order the same as ISO text)."""
    query = compiled(rows)  # None for an invalid filter's none()
    if query is None:
        return []
    with connections[rows.db].cursor() as cursor:
        cursor.execute(*query)
        return cursor.fetchall()


class CountedPaginator(Paginator):
    """Pages of a list without counting or computing more than the page.

    Told its count (from the stored tallies) it does not count the whole list. And it finds a
    page's rows by key first: skipping 75,000 rows to reach page 3,000 must not compute each skipped
    row's evidence counts, only those of the 25 rows shown. It then reads those rows from `rows`,
    the unfiltered list, by key alone: the keys already passed the filters, and repeating them
    (an issue's 30,000 links, say) would cost SQLite more than reading the 25 rows.
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
        else:  # a scan of the whole list ordered it already
            keys = (
                self.ordered_keys[(page.number - 1) * self.per_page : page.end_index()] if self.count else []
            )
        rows = {row.pk: row for row in self.rows.filter(pk__in=keys).order_by()}
        page.object_list = [rows[key] for key in keys]
        return page


class PublicListView(FilterView):
    """A filtered list of published records, with result count, facets, active filters and ordering."""

    paginate_by = 25
    downloads = ()  # the exports that take this list's filters
    feed_url_name = None
    strict = True  # an invalid filter shows its message and no rows, never an unfiltered list
    page_title = ""
    description = ""

    def base_queryset(self):
        return self.filterset_class.base_queryset()

    def get_queryset(self):
        return self.base_queryset()

    def facets(self, result) -> list[Facet]:
        return []

    # The count of the unfiltered list, from the stored tallies, or None to count the list itself.
    stored_count = None

    def is_unfiltered(self) -> bool:
        """No filter narrows the list (ordering and page do not): its counts are the stored tallies."""
        if not self.filterset.is_bound:
            return True
        return self.filterset.is_valid() and not narrows(self.filterset)

    def scanned_facets(self) -> list[ScannedFacet]:
        """The facets of a filtered list, counted in one pass with the list (see `scan`)."""
        return []

    scan_counters = None

    def get_paginator(self, queryset, per_page, **kwargs):
        known = ordered_keys = None
        if self.stored_count and self.is_unfiltered():
            known = tallies.total(self.stored_count)
        elif not self.is_unfiltered() and self.scanned_facets():
            found = scan(queryset, self.scanned_facets())
            known, self.scan_counters, ordered_keys = found.count, found.counters, found.ordered_keys
        return CountedPaginator(
            queryset,
            per_page,
            known_count=known,
            rows=self.base_queryset(),
            ordered_keys=ordered_keys,
            **kwargs,
        )

    def facets_from_scan(self) -> list[Facet]:
        return [
            facet(
                self.request.GET,
                spec.param,
                spec.label,
                spec.rows(self.scan_counters[spec.param]),
                spec.labels,
            )
            for spec in self.scanned_facets()
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
                        active.append(
                            ActiveFilter(label, end.isoformat(), {f"{name}_{suffix}": None, "page": None})
                        )
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
            facets=self.facets(result) if valid else [],
            filters_valid=valid,
        )
        return context


class ClaimListView(PublicListView):
    filterset_class = ClaimFilter
    downloads = ("claims", "citations")
    feed_url_name = "claims_feed"
    template_name = "talks/claim_list.html"
    page_title = "Claims"
    description = "Every claim in the archive, each tied to the articles that reported it."

    def base_queryset(self):
        return ClaimFilter.base_queryset().for_display()

    stored_count = "claims"

    def facets(self, result):
        query = self.request.GET
        if self.is_unfiltered():
            return [
                facet(query, "issue", "Issue", stored_rows("claims.issue", Issue.objects.published())),
                facet(query, "party", "Party", stored_rows("claims.party", Party.objects.all())),
                facet(query, "kind", "Kind", stored_rows("claims.kind"), dict(Claim.Kind.choices)),
                facet(
                    query, "round", "Round", stored_rows("claims.round", Round.objects.published(), "title")
                ),
            ]
        return self.facets_from_scan()

    def scanned_facets(self):
        return [
            ScannedFacet("issue", "Issue", "issue_links__issue_id", Issue.objects.published(), to_many=True),
            ScannedFacet("party", "Party", "party_id", Party.objects.all()),
            ScannedFacet("kind", "Kind", "kind", labels=dict(Claim.Kind.choices)),
            ScannedFacet("round", "Round", "round_id", Round.objects.published(), "title"),
        ]


class RoundListView(PublicListView):
    filterset_class = RoundFilter
    downloads = ("rounds", "delegations")
    feed_url_name = "rounds_feed"
    template_name = "talks/round_list.html"
    page_title = "Rounds"
    description = "Rounds of peace talks: when and where they met, who took part, and what came of it."

    def base_queryset(self):
        return RoundFilter.base_queryset().select_related("track")

    stored_count = "rounds"

    def facets(self, result):
        query = self.request.GET
        if self.is_unfiltered():
            tracks = stored_rows("rounds.track", Track.objects.all())
            statuses = stored_rows("rounds.status")
            formats = stored_rows("rounds.format")
            countries = stored_rows("rounds.country", limit=FACET_CHOICES + 1)  # and rounds of no country
            parties = stored_rows("rounds.party", Party.objects.all())
        else:
            rounds = Round.objects.filter(pk__in=result.values("pk"))
            tracks = grouped(rounds, "track__slug", "track__name")
            statuses = grouped(rounds, "status", "status")
            formats = grouped(rounds, "format", "format")
            countries = grouped(rounds, "country", "country")
            parties = grouped(
                Delegation.objects.filter(round__in=rounds),
                "party__slug",
                "party__name",
                count=Count("round", distinct=True),
            )
        return [
            facet(query, "track", "Track", tracks),
            facet(query, "status", "Status", statuses, dict(Round.Status.choices)),
            facet(query, "format", "Format", formats, dict(Round.Format.choices)),
            facet(query, "country", "Country", countries),
            facet(query, "party", "Party", parties),
        ]


class SourceListView(PublicListView):
    filterset_class = SourceFilter
    downloads = ("sources",)
    template_name = "talks/source_list.html"
    page_title = "Sources"
    description = "The articles the archive cites, with what is known about each."

    def base_queryset(self):
        return (
            SourceFilter.base_queryset()
            .select_related("outlet")
            # A per-row subquery: counted for the 25 rows shown, not by grouping every citation.
            .annotate(claim_count=count_of_published_claims())
            .order_by(F("published_on").desc(nulls_last=True), "headline", "pk")
        )

    stored_count = "articles"

    def facets(self, result):
        query = self.request.GET
        if self.is_unfiltered():
            outlets = stored_rows("articles.outlet", Outlet.objects.all())
            outlets.append((None, None, tallies.count_for("articles.outlet", None)))
            outlets = sorted(outlets, key=lambda row: -row[2])[:FACET_CHOICES]
            languages = stored_rows("articles.language")
        else:
            # An article has one outlet and one language, and the filters add no duplicates.
            articles = result.order_by()
            outlets = grouped(articles, "outlet__slug", "outlet__name", count=Count("pk"))
            languages = grouped(articles, "language", "language", count=Count("pk"))
        outlets = [
            (slug or "unknown", name or "Unknown outlet", count) for slug, name, count in outlets if count
        ]
        return [
            facet(query, "outlet", "Outlet", outlets),
            facet(query, "language", "Language", languages),
        ]


class ParticipantListView(PublicListView):
    filterset_class = ParticipantFilter
    downloads = ("participants",)
    template_name = "talks/participant_list.html"
    page_title = "People"
    description = "Negotiators, officials and others who took part in or spoke about the talks."

    def base_queryset(self):
        return ParticipantFilter.base_queryset().select_related("party")

    stored_count = "people"

    def facets(self, result):
        if not self.is_unfiltered():
            return self.facets_from_scan()
        query = self.request.GET
        return [
            facet(query, "party", "Party", stored_rows("people.party", Party.objects.all())),
            facet(query, "role", "Seat held", stored_rows("people.role"), dict(Membership.Role.choices)),
        ]

    def scanned_facets(self):
        return [
            ScannedFacet("party", "Party", "party_id", Party.objects.all()),
            # The kinds of public seat each person held, stored on them (see Participant.seat_roles).
            ScannedFacet("role", "Seat held", "seat_roles", labels=dict(Membership.Role.choices), words=True),
        ]


class IssueListView(PublicListView):
    filterset_class = IssueFilter
    downloads = ("issues",)
    template_name = "talks/issue_list.html"
    page_title = "Issues"
    description = "The topics negotiated, with how many claims the archive holds on each."
    paginate_by = 100

    def base_queryset(self):
        return IssueFilter.base_queryset().select_related("parent").order_by("name")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        issues = context["object_list"]
        counts = tallies.counts_for_records("claims.issue", issues)
        for issue in issues:
            issue.claim_count = counts.get(issue.pk, 0)
        return context
