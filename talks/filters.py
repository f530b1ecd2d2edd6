"""One FilterSet per public list. Their query parameters are a public interface: researchers bookmark
and script them, and the exports take exactly the same ones.

Every filter validates its value: an unknown slug or choice is an error shown beside the field, never
silently ignored (a FilterSet's `.qs` drops invalid fields, so callers must check `is_valid()`).
"""

from dataclasses import dataclass

import django_filters
import numpy as np
from django import forms
from django.db.models import BooleanField, Exists, F, Func, Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL

from config.jinja2 import PublicFormRenderer
from sources.models import Outlet, SourceArticle
from sources.records import public_condition
from talks.list_index import HeldFilter, MatchingIds, parsed_ids
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
from talks.search import trigram_lookup, trigram_match_keys, trigram_matches

MAX_TEXT = 200  # a longer search text is refused rather than sent to the database
YES_NO = [("true", "yes"), ("false", "no")]


class PublicFilterForm(forms.Form):
    """The form of every public list's filters, its widgets rendered with Jinja2 (see PublicFormRenderer)."""

    default_renderer = PublicFormRenderer()
    RANGE_ENDS = {"after": "from", "min": "from", "before": "to", "max": "to"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A range's label names no single input: each of its two inputs says which end it is.
        for field in self.fields.values():
            for widget, suffix in zip(
                getattr(field.widget, "widgets", ()), getattr(field.widget, "suffixes", ()), strict=False
            ):
                end = self.RANGE_ENDS.get(suffix, suffix)
                widget.attrs["aria-label"] = f"{str(field.label).removesuffix(' (from, to)')}: {end}"


def narrowing_values(filterset) -> dict:
    """A valid filterset's values that leave out records, by parameter: ordering and empty fields
    do not."""
    return {
        name: value
        for name, value in filterset.form.cleaned_data.items()
        if name != "ordering"
        and value not in (None, "", [], ())
        and not (hasattr(value, "start") and not (value.start or value.stop))  # an empty date range
    }


def parameter_names(name: str, field) -> list[str]:
    """The query parameters one filter reads: its name, or for a range its two ends."""
    suffixes = getattr(field.widget, "suffixes", None)
    return [f"{name}_{suffix}" for suffix in suffixes] if suffixes else [name]


def parameters_of(filterset) -> set[str]:
    """The query parameters a list's filters read."""
    return {
        parameter
        for name, field in filterset.form.fields.items()
        for parameter in parameter_names(name, field)
    }


def unknown_parameters(filterset, query, also: tuple = ()) -> list[str]:
    """The parameters of `query` this list neither filters by nor otherwise reads (`also`), in the
    order given: a typo (`isue=`) or another list's filter (`year=` on claims)."""
    known = parameters_of(filterset) | set(also)
    return [name for name in query if name not in known]


def narrows(filterset) -> bool:
    """Whether a valid filterset's values leave out any record."""
    return bool(narrowing_values(filterset))


class TextFilter(django_filters.CharFilter):
    """Free text: every word must occur, as any part of a word and in any case, in one of the fields
    (the record's own, or a to-one relation's such as `speaker__name`).

    Each table's fields are looked up in its trigram index, which lists the keys of the rows that
    hold the word (talks.search.trigram_lookup): on SQLite the table's FTS5 index (migration 0014),
    on PostgreSQL the table of its fields' upper-cased copies (migration 0021). A field no index
    covers is read from each record. A related table's matches come as a subquery of its keys,
    among the records readers see (`readers_see`: a draft speaker's name finds nothing). Matching
    the claims' text row by row took 250 ms a word at full size.
    """

    def __init__(self, *fields, **kwargs):
        self.fields = fields
        kwargs.setdefault("label", "Text")
        kwargs.setdefault("max_length", MAX_TEXT)
        super().__init__(**kwargs)

    def filter(self, queryset, value):
        if not value:
            return queryset
        for word in value.split():
            condition = Q()
            for path, (model, names) in text_tables(queryset.model, self.fields).items():
                columns = [model._meta.get_field(name).column for name in names]
                indexed = trigram_matches(model._meta.db_table, columns, word)
                if indexed is not None:
                    found = Q(AmongKeys(F("pk"), indexed))
                else:
                    found = containing(model, names, word)
                if path:
                    matching = readers_see(model).filter(found).order_by().values("pk")
                    condition |= Q(AmongKeys(F(path), matching))
                else:
                    condition |= found
            queryset = queryset.filter(condition)
        return queryset


def readers_see(model) -> QuerySet:
    """The records of a related table a list may be filtered by: those readers see. Cards leave out
    a claim's unpublished speaker, so finding the claim by that speaker's name would reveal it."""
    # Records with no publication status are public through the published records that name them
    # (outlets): public_condition is then empty.
    return model._base_manager.filter(public_condition(model))


def text_tables(model, fields) -> dict[str, tuple]:
    """A text filter's fields by relation path ("" for the record itself): that table's model and
    the names of its fields."""
    tables = {}
    for field in fields:
        path, _, name = field.rpartition("__")
        related = model
        for relation in path.split("__") if path else ():
            related = related._meta.get_field(relation).related_model
        tables.setdefault(path, (related, []))[1].append(name)
    return tables


@dataclass(frozen=True)
class HeldText(HeldFilter):
    """A TextFilter of `text_fields` answered with the list index (talks/list_index.py) where each
    table's trigram index answers every word (talks.search.trigram_lookup: SQLite's FTS5 indexes,
    for words of three letters or more; PostgreSQL's tables of upper-cased copies): the keys of the
    records whose own fields hold a word come from their table's index alone, and those whose
    related record's fields hold it (a claim's speaker) through the relation's key column, which the
    list index holds. Asked as one query, the database looked up each of a word's 37,000 claims in
    the table to check that it is published, which the index already knows: on PostgreSQL 13,600
    pages of the claims table. Elsewhere the database answers, as TextFilter."""

    text_fields: tuple[str, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        paths = {field.rpartition("__")[0] for field in self.text_fields} - {""}
        return tuple(sorted(f"{path}_id" for path in paths))  # a to-one relation's key column

    def tables(self, model) -> list[tuple[str, type[Model], list[str]]]:
        """(relation path, model, its columns) for each table the words are looked up in."""
        return [
            (path, table, [table._meta.get_field(name).column for name in names])
            for path, (table, names) in text_tables(model, self.text_fields).items()
        ]

    def answers(self, chosen, model) -> bool:
        tables = self.tables(model)
        return all(
            trigram_lookup(table._meta.db_table, columns, word)
            for word in chosen.split()
            for _, table, columns in tables
        )

    def keys(self, columns, chosen, model, size: int) -> np.ndarray:
        kept, tables = np.ones(size, dtype=bool), self.tables(model)
        for word in chosen.split():
            found = np.zeros(size, dtype=bool)
            for path, table, table_columns in tables:
                if path:  # the related records readers see, among the index's keys
                    indexed = trigram_matches(table._meta.db_table, table_columns, word)
                    matching = readers_see(table).filter(pk__in=indexed).order_by()
                    keys = parsed_ids(matching.aggregate(ids=MatchingIds("pk"))["ids"])
                    found |= columns[f"{path}_id"].keys_with(keys.tolist(), size)
                else:
                    keys = trigram_match_keys(table._meta.db_table, table_columns, word)
                    found[keys[keys < size]] = True
            kept &= found
        return kept


def containing(model, names, word) -> Q:
    """Some field of `names` holds `word`, in any case: looked up in the field's trigram index where
    it has one (talks.search.trigram_lookup), read from each record otherwise. Those records are
    all read, so a field's keys are a plain `IN`, which PostgreSQL hashes: as `= ANY(ARRAY(...))`
    it compared each person with each of 20,000 keys (`/participants/?q=Persona`: a second)."""
    condition = Q()
    for name in names:
        indexed = trigram_matches(model._meta.db_table, [model._meta.get_field(name).column], word)
        if indexed is not None:
            condition |= Q(pk__in=indexed)
        else:
            condition |= Q(**{f"{name}__icontains": word})
    return condition


class AmongKeys(Func):
    """`column IN (subquery)`. On PostgreSQL `column = ANY(ARRAY(subquery))`, which it looks up in
    the column's index and combines with the other conditions of an OR (`id = ANY(...) OR
    speaker_id = ANY(...)`) in one pass; given IN it read every claim to test each against the
    subquery: 108 ms for a word in one claim of eight, 44 ms then; 88 ms for a word in none, under
    1 ms. Where every record is read anyway (an OR with a condition no index serves), a plain IN,
    which PostgreSQL hashes, is the faster of the two (see `containing`)."""

    output_field = BooleanField()

    def __init__(self, column, keys):
        super().__init__(column, keys if isinstance(keys, RawSQL) else Subquery(keys))

    def as_sql(self, compiler, connection, **extra_context):
        column, keys = self.source_expressions  # the subquery comes in parentheses
        column_sql, column_params = compiler.compile(column)
        keys_sql, keys_params = compiler.compile(keys)
        template = "%s = ANY(ARRAY%s)" if connection.vendor == "postgresql" else "%s IN %s"
        return template % (column_sql, keys_sql), (*column_params, *keys_params)


class NamedChoiceIterator(django_filters.fields.ModelChoiceIterator):
    """A drop-down's options as (slug, label) pairs read straight from the rows. A model object per
    option (60 issues, 40 parties) was most of a filter form's time; the chosen value is still
    checked against the queryset and cleaned to its record."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        if self.field.null_label is not None:
            yield (self.field.null_value, self.field.null_label)
        yield from self.queryset.values_list(self.field.to_field_name, self.field.label_field)


class SlugChoiceField(django_filters.fields.ModelChoiceField):
    iterator = NamedChoiceIterator

    def __init__(self, *args, label_field="name", **kwargs):
        self.label_field = label_field  # the field each record's str() shows
        super().__init__(*args, **kwargs)


class SlugFilter(django_filters.ModelChoiceFilter):
    """A record chosen by its slug (`?round=geneva-2026-february`), among public records only.

    `typed=True` asks for the slug in a text box instead of a drop-down: for rounds and people, whose
    thousands of options would make every list page megabytes long. The slug is still checked.
    """

    field_class = SlugChoiceField

    def __init__(self, *args, typed=False, **kwargs):
        kwargs.setdefault("to_field_name", "slug")
        kwargs.setdefault("distinct", False)  # to-one relations; to-many ones filter with EXISTS
        if typed:
            kwargs.setdefault(
                "widget", forms.TextInput(attrs={"placeholder": "slug, as in its page's address"})
            )
        super().__init__(*args, **kwargs)


class WholeNumberFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class StableOrderingFilter(django_filters.OrderingFilter):
    """The reader's chosen order, with ties broken by key so that pages never shuffle."""

    def filter(self, queryset, value):
        queryset = super().filter(queryset, value)
        return queryset.order_by(*queryset.query.order_by, "pk") if value else queryset


def published_issue_children() -> dict:
    """{issue id or None: ids of its published sub-issues}, for every published issue, in one query."""
    children = {}
    for pk, parent_id in Issue.objects.published().values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    return children


def issue_ids_beneath(issue_id: int, children: dict) -> set[int]:
    """The issue and, at any depth, the sub-issues `children` names."""
    found, waiting = set(), [issue_id]
    while waiting:
        pk = waiting.pop()
        if pk not in found:
            found.add(pk)
            waiting.extend(children.get(pk, []))
    return found


def published_issue_ids_beneath(issue: Issue) -> set[int]:
    """The issue and all its published sub-issues, at any depth, from one query.

    Kept on the issue: a list's filter and its list index both ask for the issue the form cleaned,
    in the same request."""
    if getattr(issue, "_published_ids_beneath", None) is None:
        issue._published_ids_beneath = issue_ids_beneath(issue.pk, published_issue_children())
    return issue._published_ids_beneath


def public_parties(request=None):
    """Parties readers can see: those of published claims, rounds or people.

    EXISTS, not joins: joining a party to all its claims, delegations and people at once multiplies
    the rows before DISTINCT can remove them.
    """
    return Party.objects.filter(
        Exists(Claim.objects.published().filter(party=OuterRef("pk")))
        | Exists(Delegation.objects.published().filter(party=OuterRef("pk")))
        | Exists(Participant.objects.published().filter(party=OuterRef("pk")))
    )


def public_tracks(request=None):
    return Track.objects.filter(Exists(Round.objects.published().filter(track=OuterRef("pk"))))


def public_outlets(request=None):
    return Outlet.objects.filter(Exists(SourceArticle.objects.published().filter(outlet=OuterRef("pk"))))


def round_countries():
    countries = Round.objects.published().exclude(country="").values_list("country", flat=True)
    return [(country, country) for country in countries.order_by("country").distinct()]


def article_languages():
    from talks.lists import ARTICLES  # the list's own counts: the languages of published articles

    languages = ARTICLES.counts_by_value("language")
    return [(language, language) for language in sorted(languages) if language]


def outlet_choices():
    # Pairs read straight from the rows: building 500 Outlet objects twice a request (the filter
    # checks the value, the active filter names it) cost a source list 17 ms.
    return [("unknown", "Unknown outlet"), *public_outlets().values_list("slug", "name")]


def outlet_filter():
    """An outlet chosen by slug (or "unknown") in a text box: a drop-down of every outlet (500 at full
    size) took most of a list page's rendering time. The facet beside the list links the frequent ones."""
    return django_filters.ChoiceFilter(
        choices=outlet_choices,
        method="filter_outlet",
        label="Outlet",
        widget=forms.TextInput(attrs={"placeholder": "slug, as in its facet link, or unknown"}),
    )


class ClaimFilter(django_filters.FilterSet):
    q = TextFilter("text", "speaker__name", "speaker__aliases")
    round = SlugFilter(queryset=Round.objects.published(), typed=True, label_field="title")
    issue = SlugFilter(
        queryset=Issue.objects.published(), method="filter_issue", label="Issue (with sub-issues)"
    )
    party = SlugFilter(queryset=public_parties)
    speaker = SlugFilter(queryset=Participant.objects.published(), typed=True)
    kind = django_filters.ChoiceFilter(choices=Claim.Kind.choices)
    outlet = outlet_filter()
    disputed = django_filters.ChoiceFilter(choices=YES_NO, method="filter_disputed", label="Disputed")
    sourcing = django_filters.ChoiceFilter(choices=Sourcing.choices, label="How it is sourced")
    occurrence = django_filters.ChoiceFilter(choices=Occurrence.choices, label="Event reported as")
    disagreement = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_disagreement", label="In a disagreement"
    )
    min_outlets = WholeNumberFilter(
        field_name="outlet_count",
        lookup_expr="gte",
        min_value=1,
        max_value=1000,
        label="Reported by at least (outlets)",
    )
    # A claim's own date, or else its round's start (Claim.listed_on): the card says which it shows.
    date = django_filters.DateFromToRangeFilter(field_name="listed_on", label="Date (from, to)")
    ordering = StableOrderingFilter(
        fields=(("listed_on", "date"), ("outlet_count", "outlets"), ("id", "added")),
        field_labels={"listed_on": "Date", "outlet_count": "Outlets reporting", "id": "Order added"},
    )

    @staticmethod
    def base_queryset():
        """The published records this list filters: shared by the page and its downloads."""
        return Claim.objects.published()

    class Meta:
        model = Claim
        fields = []
        form = PublicFilterForm

    # To-many conditions as `pk IN (subquery)`, never joins: a join repeats a claim once per issue or
    # citation, and removing the repeats with DISTINCT over 300,000 claims costs more than the
    # filtering. Not as a correlated EXISTS either: SQLite then scans every claim and probes the
    # subquery for each (100 ms for ?issue=&kind=), where IN lists the matches first (33 ms).
    def filter_issue(self, queryset, name, issue):
        links = ClaimIssue.objects.filter(issue__in=published_issue_ids_beneath(issue))
        return queryset.filter(pk__in=links.values("claim_id"))

    def filter_outlet(self, queryset, name, value):
        citations = Citation.objects.filter(public_condition(SourceArticle, "article__"))
        if value == "unknown":
            citations = citations.filter(article__outlet__isnull=True)
        else:
            citations = citations.filter(article__outlet__slug=value)
        return queryset.filter(pk__in=citations.values("claim_id"))

    def filter_disputed(self, queryset, name, value):
        return queryset.filter(disputed=(value == "true"))

    def filter_disagreement(self, queryset, name, value):
        versions = DisagreementClaim.objects.filter(public_condition(Disagreement, "disagreement__"))
        in_one = Q(pk__in=versions.values("claim_id"))
        return queryset.filter(in_one if value == "true" else ~in_one)


class RoundFilter(django_filters.FilterSet):
    q = TextFilter("title", "summary", "outcome", "city", "venue")
    track = SlugFilter(
        queryset=public_tracks,
        typed=True,  # tracks accumulate over decades (200 at full size); the facet links the frequent
    )
    party = SlugFilter(queryset=public_parties, method="filter_party", label="Party")
    issue = SlugFilter(
        queryset=Issue.objects.published(), method="filter_issue", label="Issue (with sub-issues)"
    )
    year = WholeNumberFilter(field_name="start_date__year", min_value=1900, max_value=2200, label="Year")
    date = django_filters.DateFromToRangeFilter(field_name="start_date", label="Start date (from, to)")
    country = django_filters.ChoiceFilter(choices=round_countries)
    status = django_filters.ChoiceFilter(choices=Round.Status.choices)
    format = django_filters.ChoiceFilter(choices=Round.Format.choices)
    ordering = StableOrderingFilter(
        fields=(("start_date", "date"), ("title", "title")),
        field_labels={"start_date": "Date", "title": "Title"},
    )

    @staticmethod
    def base_queryset():
        """The published records this list filters: shared by the page and its downloads."""
        return Round.objects.published()

    class Meta:
        model = Round
        fields = []
        form = PublicFilterForm

    # To-many conditions as `pk IN (subquery)`: see ClaimFilter.
    def filter_party(self, queryset, name, party):
        return queryset.filter(pk__in=Delegation.objects.filter(party=party).values("round_id"))

    def filter_issue(self, queryset, name, issue):
        on_issue = ClaimIssue.objects.filter(
            public_condition(Claim, "claim__"), issue__in=published_issue_ids_beneath(issue)
        )
        return queryset.filter(pk__in=on_issue.values("claim__round_id"))


class SourceFilter(django_filters.FilterSet):
    q = TextFilter("headline", "author", "outlet__name")
    outlet = outlet_filter()
    language = django_filters.ChoiceFilter(choices=article_languages)
    date = django_filters.DateFromToRangeFilter(field_name="published_on", label="Published (from, to)")
    round = SlugFilter(
        queryset=Round.objects.published(),
        method="filter_round",
        label="Cited about round",
        typed=True,
        label_field="title",
    )
    ordering = StableOrderingFilter(
        fields=(("published_on", "date"), ("headline", "headline")),
        field_labels={"published_on": "Date", "headline": "Headline"},
    )

    @staticmethod
    def base_queryset():
        """The published records this list filters: shared by the page and its downloads."""
        return SourceArticle.objects.published()

    class Meta:
        model = SourceArticle
        fields = []
        form = PublicFilterForm

    def filter_outlet(self, queryset, name, value):
        if value == "unknown":
            return queryset.filter(outlet__isnull=True)
        return queryset.filter(outlet__slug=value)

    def filter_round(self, queryset, name, round_):  # `pk IN (subquery)`: see ClaimFilter
        citing = Citation.objects.filter(public_condition(Claim, "claim__"), claim__round=round_)
        return queryset.filter(pk__in=citing.values("article_id"))


class ParticipantFilter(django_filters.FilterSet):
    q = TextFilter("name", "aliases", "description")
    party = SlugFilter(queryset=public_parties)
    role = django_filters.ChoiceFilter(
        choices=Membership.Role.choices, method="filter_role", label="Seat held"
    )
    round = SlugFilter(
        queryset=Round.objects.published(),
        method="filter_round",
        label="Seated at round",
        typed=True,
        label_field="title",
    )
    ordering = StableOrderingFilter(fields=(("name", "name"),), field_labels={"name": "Name"})

    @staticmethod
    def base_queryset():
        """The published records this list filters: shared by the page and its downloads."""
        return Participant.objects.published()

    class Meta:
        model = Participant
        fields = []
        form = PublicFilterForm

    # To-many conditions as `pk IN (subquery)`: see ClaimFilter.
    def filter_role(self, queryset, name, value):
        seats = Membership.objects.filter(public_condition(Round, "delegation__round__"), role=value)
        return queryset.filter(pk__in=seats.values("participant_id"))

    def filter_round(self, queryset, name, round_):
        seats = Membership.objects.filter(delegation__round=round_)
        return queryset.filter(pk__in=seats.values("participant_id"))


class IssueFilter(django_filters.FilterSet):
    q = TextFilter("name", "description")

    @staticmethod
    def base_queryset():
        """The published records this list filters: shared by the page and its downloads."""
        return Issue.objects.published()

    class Meta:
        model = Issue
        fields = []
        form = PublicFilterForm


class DisagreementFilter(django_filters.FilterSet):
    q = TextFilter("question", "description")
    round = SlugFilter(queryset=Round.objects.published(), typed=True, label_field="title")
    issue = SlugFilter(
        queryset=Issue.objects.published(), method="filter_issue", label="Issue (with sub-issues)"
    )

    @staticmethod
    def base_queryset():
        """The published records this list filters: shared by the page and its downloads."""
        return Disagreement.objects.published()

    class Meta:
        model = Disagreement
        fields = []
        form = PublicFilterForm

    def filter_issue(self, queryset, name, issue):  # `pk IN (subquery)`: see ClaimFilter
        versions = DisagreementClaim.objects.filter(
            public_condition(Claim, "claim__"),
            claim__issue_links__issue__in=published_issue_ids_beneath(issue),
        )
        return queryset.filter(pk__in=versions.values("disagreement_id"))
