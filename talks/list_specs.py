"""What each public list filters, counts and orders by, each declared once.

A list is a `ListSpec`: its records (`published()`), its filters in the order its form shows them,
and the orders a reader may choose. A filter declares its query parameter, its label, the value it
takes (a choice, a record chosen by slug, a date range, ...), where that value lies on the record
(`column`: a column of the record, or `relation__column` through a to-many link) and where it
finds the public values it offers. From that one declaration come the list's form and the SQL
filter its page and its downloads apply (a django-filter FilterSet), the in-memory index's
matching of it and its facet's counts (talks/list_index.py), and the table of parameters on
/downloads/. A filter that goes through tables the index does not hold (a claim's outlet, through
its citations) says so with its own SQL (`sql`), and the database then lists the matches.

Adding a filter is one declaration in its list here. A value the index holds for a new filter is
watched by the triggers `migrate` installs, so a deploy that adds one runs `migrate` (it always
does).
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import django_filters
from django import forms
from django.db.models import Exists, Model, OuterRef, Q, QuerySet

from sources.models import Outlet, SourceArticle
from sources.record_base import public_condition
from talks.filters import (
    MAX_TEXT,
    YES_NO,
    PublicFilterForm,
    SlugFilter,
    StableOrderingFilter,
    TextFilter,
    TextInTrigramIndex,
    WholeNumberFilter,
    published_issue_ids_beneath,
)
from talks.list_index import AmongValues, CountedFacet, HeldFilter, ListIndex, WithinRange
from talks.models import (
    Citation,
    Claim,
    ClaimIssue,
    Delegation,
    Disagreement,
    DisagreementClaim,
    Issue,
    Membership,
    Occurrence,
    Participant,
    Party,
    Round,
    Sourcing,
    Track,
)

UNKNOWN_OUTLET = ("unknown", "Unknown outlet")  # the outlet filter's value and label for articles of none


# --- Where filters find the public values they offer -----------------------------------------


def public_parties() -> QuerySet:
    """Parties readers can see: those of published claims, rounds or people. A queryset, read when
    a form or a facet needs it: a download validates its filters without reading any list.

    EXISTS, not joins: joining a party to all its claims, delegations and people at once multiplies
    the rows before DISTINCT can remove them."""
    return Party.objects.filter(
        Exists(Claim.objects.published().filter(party=OuterRef("pk")))
        | Exists(Delegation.objects.published().filter(party=OuterRef("pk")))
        | Exists(Participant.objects.published().filter(party=OuterRef("pk")))
    )


def public_tracks() -> QuerySet:
    return Track.objects.filter(Exists(Round.objects.published().filter(track=OuterRef("pk"))))


def public_outlets() -> QuerySet:
    return Outlet.objects.filter(Exists(SourceArticle.objects.published().filter(outlet=OuterRef("pk"))))


def round_countries() -> list[tuple[str, str]]:
    countries = Round.objects.published().exclude(country="").values_list("country", flat=True)
    return [(country, country) for country in countries.order_by("country").distinct()]


def article_languages() -> list[tuple[str, str]]:
    languages = LISTS["sources"].index.counts_by_value("language")  # published articles' languages
    return [(language, language) for language in sorted(languages) if language]


def outlet_choices() -> list[tuple[str, str]]:
    # Pairs read straight from the rows: building 500 Outlet objects twice a request (the filter
    # checks the value, the active filter names it) was a large part of a source list's time.
    return [UNKNOWN_OUTLET, *public_outlets().values_list("slug", "name")]


def outlet_keys(slug: str) -> list:
    """The outlet filter's value as the outlet column holds it: its key, or none for "unknown"."""
    if slug == UNKNOWN_OUTLET[0]:
        return [None]
    return list(Outlet.objects.filter(slug=slug).values_list("pk", flat=True))


def yes_or_no(chosen: str) -> list[bool]:
    """A yes/no filter's value as a boolean column holds it."""
    return [chosen == "true"]


# --- Kinds of filter --------------------------------------------------------------------------


def among(model: type[Model], column: str, values: Iterable) -> Q:
    """Records whose `column` holds any of `values` (None: no value). A to-many column
    (`relation__column`) is `pk IN (subquery)` of the link table, never a join: a join repeats a
    claim once per issue, and removing the repeats with DISTINCT over the whole list costs more than
    the filtering; nor a correlated EXISTS, for which SQLite scans every claim and probes the
    subquery for each, where IN lists the matches first."""
    values = list(values)
    present = [value for value in values if value is not None]
    if "__" in column:
        relation_name, link_column = column.split("__")
        relation = model._meta.get_field(relation_name)
        links = relation.related_model._base_manager.filter(**{f"{link_column}__in": present})
        return Q(pk__in=links.values(relation.field.attname))
    condition = Q(**{f"{column}__in": present})
    return condition | Q(**{f"{column}__isnull": True}) if None in values else condition


@dataclass(frozen=True, kw_only=True)
class ListFilter:
    """One filter of a list. `column` is where its value lies on the record, which the list index
    holds (`held`) when it answers the filter itself; `sql` filters through other tables
    instead, as (queryset, chosen value) -> queryset. `facet` is the label of its facet, when its
    values are counted beside the list."""

    param: str
    label: str
    column: str | None = None
    sql: Callable[[QuerySet, Any], QuerySet] | None = None
    held: bool = True
    facet: str | None = None

    def values_of(self, chosen) -> Iterable:
        """The values of `column` the chosen value stands for."""
        return [getattr(chosen, "pk", chosen)]

    def filter_queryset(self, queryset: QuerySet, name: str, chosen) -> QuerySet:
        if self.sql is not None:
            return self.sql(queryset, chosen)
        return queryset.filter(among(queryset.model, self.column, self.values_of(chosen)))

    def django_filter(self) -> django_filters.Filter:
        raise NotImplementedError

    def held_filter(self) -> HeldFilter | None:
        if not self.held or self.column is None:
            return None
        return AmongValues(self.column, values_of=self.values_of)

    def counted_facet(self) -> CountedFacet | None:
        return None


@dataclass(frozen=True, kw_only=True)
class Text(ListFilter):
    """Free text: every word, as any part of a word and in any case, in one of `fields` (see
    TextFilter). Held where the index holds what it reads (see TextInTrigramIndex)."""

    param: str = "q"
    label: str = "Text"
    fields: tuple[str, ...] = ()

    def django_filter(self):
        return TextFilter(*self.fields, label=self.label, max_length=MAX_TEXT)

    def held_filter(self):
        return TextInTrigramIndex(self.fields) if self.held else None


@dataclass(frozen=True, kw_only=True)
class Choice(ListFilter):
    """One value among `choices` (pairs, or a function giving them from the public records).
    `text_box` asks for it in a text box with this placeholder instead of a drop-down of
    hundreds. `values` turns the chosen value into the column's values; `records` names them
    in the facet (by slug, with `label_field`), and `unknown` is the facet's (value, label) for
    records of none; `words`: the column holds several values separated by spaces."""

    choices: Sequence | Callable[[], Sequence] = ()
    text_box: str | None = None
    values: Callable[[Any], Iterable] | None = None
    records: Callable[[], QuerySet] | None = None
    label_field: str = "name"
    unknown: tuple[str, str] | None = None
    words: bool = False

    def values_of(self, chosen):
        return self.values(chosen) if self.values else [chosen]

    def django_filter(self):
        widget = forms.TextInput(attrs={"placeholder": self.text_box}) if self.text_box else None
        return django_filters.ChoiceFilter(
            choices=self.choices, method=self.filter_queryset, label=self.label, widget=widget
        )

    def counted_facet(self):
        if self.facet is None:
            return None
        labels = dict(self.choices) if not callable(self.choices) and self.records is None else None
        return CountedFacet(
            self.param,
            self.facet,
            self.column,
            records=self.records,
            label_field=self.label_field,
            labels=labels,
            words=self.words,
            unknown=self.unknown,
        )


def yes_no(param: str, label: str, column: str | None = None, **kwargs) -> Choice:
    """Yes or no: a boolean column, or a condition of its own (`sql`)."""
    return Choice(param=param, label=label, column=column, choices=YES_NO, values=yes_or_no, **kwargs)


@dataclass(frozen=True, kw_only=True)
class Record(ListFilter):
    """A published record chosen by its slug, among `records`: a drop-down, or with `typed` a text
    box (rounds, people, tracks: thousands of options would make every list page megabytes long).
    `values` gives the keys it stands for (an issue: it and its sub-issues)."""

    records: Callable[[], QuerySet]
    typed: bool = False
    label_field: str = "name"
    values: Callable[[Any], Iterable] | None = None

    def values_of(self, chosen):
        return self.values(chosen) if self.values else [chosen.pk]

    def django_filter(self):
        return SlugFilter(
            queryset=lambda request: self.records(),
            method=self.filter_queryset,
            label=self.label,
            typed=self.typed,
            label_field=self.label_field,
        )

    def counted_facet(self):
        if self.facet is None:
            return None
        return CountedFacet(self.param, self.facet, self.column, self.records, self.label_field)


@dataclass(frozen=True, kw_only=True)
class DateRange(ListFilter):
    """A date from and to (`<param>_after`, `<param>_before`), either end open, both included."""

    param: str = "date"

    def django_filter(self):
        return django_filters.DateFromToRangeFilter(field_name=self.column, label=self.label)

    def held_filter(self):
        return WithinRange(self.column) if self.held else None


@dataclass(frozen=True, kw_only=True)
class AtLeast(ListFilter):
    """A whole number the column's value is at least."""

    min_value: int = 0
    max_value: int | None = None

    def django_filter(self):
        return WholeNumberFilter(
            field_name=self.column,
            lookup_expr="gte",
            min_value=self.min_value,
            max_value=self.max_value,
            label=self.label,
        )

    def held_filter(self):
        return WithinRange(self.column) if self.held else None


@dataclass(frozen=True, kw_only=True)
class WholeNumber(ListFilter):
    """A whole number the value of `lookup` (a column and a transform: `start_date__year`) equals."""

    lookup: str = ""
    min_value: int | None = None
    max_value: int | None = None
    held: bool = False

    def django_filter(self):
        return WholeNumberFilter(
            field_name=self.lookup, min_value=self.min_value, max_value=self.max_value, label=self.label
        )


@dataclass(frozen=True)
class Order:
    """An order a reader may choose: `?ordering=<param>` (or `-<param>`), by the record's `column`."""

    param: str
    column: str
    label: str


# --- Lists ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListSpec:
    """A public list. `index_name` names its in-memory index (and the version the triggers move);
    None for a list small enough for the database to count (issues, disagreements)."""

    name: str
    model: type[Model]
    filters: tuple[ListFilter, ...]
    orders: tuple[Order, ...] = ()
    index_name: str | None = None
    facet_order: tuple[str, ...] = field(default=())

    def base_queryset(self) -> QuerySet:
        """The published records this list filters: shared by the page and its downloads."""
        return self.model.objects.published()

    @cached_property
    def filterset(self) -> type[django_filters.FilterSet]:
        """The list's form and SQL filter, as a django-filter FilterSet."""
        attrs = {spec.param: spec.django_filter() for spec in self.filters}
        if self.orders:
            attrs["ordering"] = StableOrderingFilter(
                fields=tuple((order.column, order.param) for order in self.orders),
                field_labels={order.column: order.label for order in self.orders},
            )
        attrs["Meta"] = type("Meta", (), {"model": self.model, "fields": [], "form": PublicFilterForm})
        attrs["base_queryset"] = staticmethod(self.base_queryset)
        attrs["spec"] = self
        name = f"{self.model.__name__}Filter"
        return type(name, (django_filters.FilterSet,), attrs)

    @cached_property
    def index(self) -> ListIndex | None:
        if self.index_name is None:
            return None
        facets = [spec.counted_facet() for spec in self.filters]
        facets = [facet for facet in facets if facet is not None]
        # In `facet_order`, then any other in the order of the filters.
        order = {param: place for place, param in enumerate(self.facet_order)}
        facets.sort(key=lambda facet: order.get(facet.param, len(order)))
        held = {spec.param: spec.held_filter() for spec in self.filters}
        return ListIndex(
            self.index_name,
            self.model,
            facets=facets,
            orders=[*(order.column for order in self.orders), "id"],
            filters={param: held_filter for param, held_filter in held.items() if held_filter is not None},
        )


def claims_through_citations(queryset: QuerySet, outlet: str) -> QuerySet:
    """Claims cited by a published article of the outlet (or of no outlet: "unknown")."""
    citations = Citation.objects.filter(public_condition(SourceArticle, "article__"))
    if outlet == UNKNOWN_OUTLET[0]:
        citations = citations.filter(article__outlet__isnull=True)
    else:
        citations = citations.filter(article__outlet__slug=outlet)
    return queryset.filter(pk__in=citations.values("claim_id"))


def claims_of_track(queryset: QuerySet, track: Track) -> QuerySet:
    return queryset.filter(round__track=track)


def claims_in_a_disagreement(queryset: QuerySet, chosen: str) -> QuerySet:
    versions = DisagreementClaim.objects.filter(public_condition(Disagreement, "disagreement__"))
    in_one = Q(pk__in=versions.values("claim_id"))
    return queryset.filter(in_one if chosen == "true" else ~in_one)


def rounds_with_claims_on(queryset: QuerySet, issue: Issue) -> QuerySet:
    on_issue = ClaimIssue.objects.filter(
        public_condition(Claim, "claim__"), issue__in=published_issue_ids_beneath(issue)
    )
    return queryset.filter(pk__in=on_issue.values("claim__round_id"))


def articles_cited_about(queryset: QuerySet, round_: Round) -> QuerySet:
    citing = Citation.objects.filter(public_condition(Claim, "claim__"), claim__round=round_)
    return queryset.filter(pk__in=citing.values("article_id"))


def people_seated_as(queryset: QuerySet, role: str) -> QuerySet:
    seats = Membership.objects.filter(public_condition(Round, "delegation__round__"), role=role)
    return queryset.filter(pk__in=seats.values("participant_id"))


def people_seated_at(queryset: QuerySet, round_: Round) -> QuerySet:
    return queryset.filter(
        pk__in=Membership.objects.filter(delegation__round=round_).values("participant_id")
    )


def disagreements_on(queryset: QuerySet, issue: Issue) -> QuerySet:
    versions = DisagreementClaim.objects.filter(
        public_condition(Claim, "claim__"),
        claim__issue_links__issue__in=published_issue_ids_beneath(issue),
    )
    return queryset.filter(pk__in=versions.values("disagreement_id"))


ISSUE = {
    "label": "Issue (with sub-issues)",
    "records": Issue.objects.published,
    "values": published_issue_ids_beneath,
}
ROUND_BY_SLUG = {"records": Round.objects.published, "typed": True, "label_field": "title"}
OUTLET = {
    "choices": outlet_choices,
    "text_box": "slug, as in its facet link, or unknown",
    "records": public_outlets,
    "unknown": UNKNOWN_OUTLET,
}

CLAIM_LIST = ListSpec(
    "claims",
    Claim,
    filters=(
        # A claim's own text, and its speaker's names (a draft speaker's find nothing).
        Text(fields=("text", "speaker__name", "speaker__aliases")),
        Record(param="round", label="Round", column="round_id", facet="Round", **ROUND_BY_SLUG),
        Record(param="issue", column="issue_links__issue_id", facet="Issue", **ISSUE),
        Record(param="party", label="Party", column="party_id", records=public_parties, facet="Party"),
        Record(
            param="speaker",
            label="Speaker",
            column="speaker_id",
            records=Participant.objects.published,
            typed=True,
        ),
        Record(param="track", label="Track", sql=claims_of_track, records=public_tracks, typed=True),
        Choice(param="kind", label="Kind", column="kind", choices=Claim.Kind.choices, facet="Kind"),
        Choice(param="outlet", label="Outlet", sql=claims_through_citations, **OUTLET),
        yes_no("disputed", "Disputed", "disputed"),
        Choice(param="sourcing", label="How it is sourced", column="sourcing", choices=Sourcing.choices),
        Choice(
            param="occurrence", label="Event reported as", column="occurrence", choices=Occurrence.choices
        ),
        yes_no("disagreement", "In a disagreement", sql=claims_in_a_disagreement),
        AtLeast(
            param="min_outlets",
            label="Reported by at least (outlets)",
            column="outlet_count",
            min_value=1,
            max_value=1000,
        ),
        # A claim's own date, or else its round's start (Claim.listed_on): the card says which it shows.
        DateRange(label="Date (from, to)", column="listed_on"),
    ),
    orders=(
        Order("date", "listed_on", "Date"),
        Order("outlets", "outlet_count", "Outlets reporting"),
        Order("added", "id", "Order added"),
    ),
    index_name="claims",
    facet_order=("issue", "party", "kind", "round"),
)

ROUND_LIST = ListSpec(
    "rounds",
    Round,
    filters=(
        Text(fields=("title", "summary", "outcome", "city", "venue")),
        # Tracks accumulate over decades (200 at full size): typed; the facet links the frequent ones.
        Record(
            param="track", label="Track", column="track_id", records=public_tracks, typed=True, facet="Track"
        ),
        Record(
            param="party",
            label="Party",
            column="delegations__party_id",
            records=public_parties,
            facet="Party",
        ),
        Record(param="issue", sql=rounds_with_claims_on, **ISSUE),
        WholeNumber(param="year", label="Year", lookup="start_date__year", min_value=1900, max_value=2200),
        DateRange(label="Start date (from, to)", column="start_date"),
        Choice(param="country", label="Country", column="country", choices=round_countries, facet="Country"),
        Choice(param="status", label="Status", column="status", choices=Round.Status.choices, facet="Status"),
        Choice(param="format", label="Format", column="format", choices=Round.Format.choices, facet="Format"),
    ),
    orders=(Order("date", "start_date", "Date"), Order("title", "title", "Title")),
    index_name="rounds",
    facet_order=("track", "status", "format", "country", "party"),
)

SOURCE_LIST = ListSpec(
    "sources",
    SourceArticle,
    filters=(
        Text(fields=("headline", "author", "outlet__name"), held=False),
        Choice(
            param="outlet", label="Outlet", column="outlet_id", values=outlet_keys, facet="Outlet", **OUTLET
        ),
        Choice(
            param="language", label="Language", column="language", choices=article_languages, facet="Language"
        ),
        DateRange(label="Published (from, to)", column="published_on"),
        Record(param="round", label="Cited about round", sql=articles_cited_about, **ROUND_BY_SLUG),
    ),
    orders=(Order("date", "published_on", "Date"), Order("headline", "headline", "Headline")),
    index_name="articles",
)

PARTICIPANT_LIST = ListSpec(
    "participants",
    Participant,
    filters=(
        Text(fields=("name", "aliases", "description"), held=False),
        Record(param="party", label="Party", column="party_id", records=public_parties, facet="Party"),
        # The kinds of public seat each person held, stored on them (Participant.seat_roles): the
        # facet counts them there, the filter asks the seats.
        Choice(
            param="role",
            label="Seat held",
            column="seat_roles",
            words=True,
            choices=Membership.Role.choices,
            sql=people_seated_as,
            held=False,
            facet="Seat held",
        ),
        Record(param="round", label="Seated at round", sql=people_seated_at, **ROUND_BY_SLUG),
    ),
    orders=(Order("name", "name", "Name"),),
    index_name="people",
)

ISSUE_LIST = ListSpec("issues", Issue, filters=(Text(fields=("name", "description")),))

DISAGREEMENT_LIST = ListSpec(
    "disagreements",
    Disagreement,
    filters=(
        Text(fields=("question", "description")),
        Record(param="round", label="Round", column="round_id", **ROUND_BY_SLUG),
        Record(param="issue", sql=disagreements_on, **ISSUE),
    ),
)

# By the name their downloads and the parameter table give them.
LISTS = {
    spec.name: spec
    for spec in (CLAIM_LIST, ROUND_LIST, SOURCE_LIST, PARTICIPANT_LIST, ISSUE_LIST, DISAGREEMENT_LIST)
}
