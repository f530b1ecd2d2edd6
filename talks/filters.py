"""The pieces the public lists' filters are made of (talks/list_specs.py declares each list's).
Their query parameters are a public interface: researchers bookmark and script them, and the
exports take exactly the same ones.

Every filter validates its value: an unknown slug or choice is an error shown beside the field, never
silently ignored (a FilterSet's `.qs` drops invalid fields, so callers must check `is_valid()`).
"""

from dataclasses import dataclass

import django_filters
import numpy as np
from django import forms
from django.db.models import BooleanField, F, Func, Model, Q, Subquery
from django.db.models.expressions import RawSQL

from config.jinja2 import PublicFormRenderer
from sources.record_base import readers_see
from talks.list_index import HeldFilter, MatchingIds, parsed_ids
from talks.models import (
    Issue,
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
    the claims' text row by row reads every claim for each word.
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
                    found = Q(ColumnInKeys(F("pk"), indexed))
                else:
                    found = containing(model, names, word)
                if path:
                    matching = readers_see(model).filter(found).order_by().values("pk")
                    condition |= Q(ColumnInKeys(F(path), matching))
                else:
                    condition |= found
            queryset = queryset.filter(condition)
        return queryset


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
class TextInTrigramIndex(HeldFilter):
    """A TextFilter of `text_fields` answered with the list index (talks/list_index.py) where each
    table's trigram index answers every word (talks.search.trigram_lookup: SQLite's FTS5 indexes,
    for words of three letters or more; PostgreSQL's tables of upper-cased copies): the keys of the
    records whose own fields hold a word come from their table's index alone, and those whose
    related record's fields hold it (a claim's speaker) through the relation's key column, which the
    list index holds. Asked as one query, the database looks up each of a word's claims in the table to
    check that it is published, which the index already knows. Elsewhere the database answers, as
    TextFilter."""

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
    it compared each person with each key in turn."""
    condition = Q()
    for name in names:
        indexed = trigram_matches(model._meta.db_table, [model._meta.get_field(name).column], word)
        if indexed is not None:
            condition |= Q(pk__in=indexed)
        else:
            condition |= Q(**{f"{name}__icontains": word})
    return condition


class ColumnInKeys(Func):
    """`column IN (subquery)`. On PostgreSQL `column = ANY(ARRAY(subquery))`, which it looks up in
    the column's index and combines with the other conditions of an OR (`id = ANY(...) OR
    speaker_id = ANY(...)`) in one pass; given IN it reads every claim to test each against the
    subquery. Where every record is read anyway (an OR with a condition no index serves), a plain IN,
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
    option cost more than the rest of a filter form; the chosen value is still
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
