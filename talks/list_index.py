"""What a list counts and orders by, held in memory by each server process, kept fresh a record at a time.

A list shows how many records match, how they divide by each facet, and one page of them in order.
Reading every match's facet values from the database costs a driver round and a Python object a
row, which grows with the archive: so each process keeps, for each list, its records' facet, filter
and order values as NumPy arrays by key, and counts and orders a request's matches in NumPy,
without a Python object a match. It is the one place lists are counted: unfiltered lists, their
facets and the claims under an issue are counted from the same arrays as filtered ones. The
matches of filters on values the index holds it finds itself, as the SQL of the list's FilterSet
finds them (the tests compare the two); for any other filter the database lists the matching ids,
as one string. Which records are public is read from the model's `published()` queryset, never decided here.

Freshness, in proportion to what changed. Database triggers, in the same transaction as every
write to a value a list holds (whoever writes: the admin, a bulk load or raw SQL), add a row to
`ListChange` naming the list and the record's key (a link's record, for a link table), under the
list's next version, and move the list's `ListVersion` (its version and a random token). A request
reads the version first; when it has moved, the process reads the keys changed since the version it
holds, then only those records' values, and writes them into its arrays. A claim saved costs each
process one record's reading, not a rebuild of the whole list. The version's row lock orders writers, so
versions follow commit order on PostgreSQL too; the token tells a version reused after a rollback
from the one a process saw. A process whose version's changes are gone (more than `KEPT_VERSIONS`
behind) or that has more than `MOST_KEYS_PATCHED` records to read rebuilds the list whole.
"""

import datetime
import logging
import secrets
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.core.exceptions import FieldDoesNotExist
from django.db import DatabaseError, connections
from django.db.models import Aggregate, DateField, Func, IntegerField, Model, QuerySet, TextField, Value
from django.db.models.expressions import OrderBy
from django.db.models.functions import Coalesce

from sources.record_base import readers_see
from talks.models import ListChange, ListVersion
from talks.querysets import compiled

logger = logging.getLogger(__name__)
# A facet lists its most frequent values only: a page must not grow with the archive (5,000 rounds,
# 500 outlets). Any other value is one filter away in the form.
FACET_CHOICES = 12
CANDIDATES = FACET_CHOICES * 4  # the most frequent values read, of which FACET_CHOICES are shown
NO_NUMBER = -1  # a record without a value, among a numeric column's values as the database sends them
KEPT_VERSIONS = 10_000  # a list's changes kept for processes that are behind
MOST_KEYS_PATCHED = 5_000  # more changed records than this: the list is read whole again


class MatchingIds(Aggregate):
    """The matching records' ids as one comma-separated string, one value through the driver
    instead of a row per id."""

    function = "GROUP_CONCAT"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template="STRING_AGG(CAST(%(expressions)s AS text), ',')", **extra_context
        )


class DayNumber(Func):
    """A date as its number of days since 1 January of the year 1, as Python's `toordinal() - 1`
    counts them: read as a number, in the pass over the table that reads the numeric columns,
    instead of grouping the records by their thousands of dates."""

    output_field = IntegerField()

    def as_sqlite(self, compiler, connection, **extra_context):
        template = "CAST(julianday(%(expressions)s) - 1721425.5 AS INTEGER)"
        return self.as_sql(compiler, connection, template=template, **extra_context)

    def as_postgresql(self, compiler, connection, **extra_context):
        template = "(%(expressions)s - DATE '0001-01-01')"
        return self.as_sql(compiler, connection, template=template, **extra_context)


def day_number(day: datetime.date) -> int:
    return day.toordinal() - 1


def parsed_ids(text: str | None) -> np.ndarray:
    if not text:
        return np.empty(0, dtype=np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")


def grown(array: np.ndarray, size: int, fill=0) -> np.ndarray:
    """`array` extended to `size` entries with `fill` (never shortened), as a view of a buffer with
    room to spare: each record added grows a list's arrays by a key, and copying them every time
    would cost each write the whole list."""
    if len(array) >= size:
        return array
    buffer = array.base
    is_prefix = (
        buffer is not None
        and buffer.ndim == 1
        and buffer.dtype == array.dtype
        and array.__array_interface__["data"][0] == buffer.__array_interface__["data"][0]
    )
    if is_prefix and len(buffer) >= size:
        extended = buffer[:size]
    else:
        extended = np.empty(max(size, len(array) + len(array) // 4 + 1024), dtype=array.dtype)[:size]
        extended[: len(array)] = array
    extended[len(array) :] = fill
    return extended


@dataclass
class FacetCounts:
    most_frequent: list[tuple[Any, int]]  # (value, count), most frequent first; no empty value
    missing: int  # how many matched records have no value


class HeldValues:
    """One field's values for every record, coded.

    Code 0 stands for no value; other codes number values in the order they were first read, and
    never change, so a write that brings a new value adds a code and renumbers nothing. A field of
    the record itself (`many` False) holds one code per key; a to-many field (a claim's issues) or a
    field of several words (a person's kinds of seat) holds (record, code) pairs, each once."""

    def __init__(self, many: bool = False):
        self.many = many
        self.values: list = [None]
        self.code_of: dict = {None: 0}
        self.by_key = np.zeros(0, dtype=np.int32)
        self.records = np.empty(0, dtype=np.int64)
        self.codes = np.empty(0, dtype=np.int32)
        self._numbers = self._value_order = None
        self._pairs_size = 0  # one more than the largest key among the pairs

    def code(self, value) -> int:
        code = self.code_of.get(value)
        if code is None:
            code = self.code_of[value] = len(self.values)
            self.values.append(value)
            self._numbers = self._value_order = None
        return code

    def coded(self, values: Iterable) -> np.ndarray:
        return np.array([self.code(value) for value in values], dtype=np.int32)

    @property
    def size(self) -> int:
        """One more than the largest key the field holds."""
        return self._pairs_size if self.many else len(self.by_key)

    def set_codes(self, keys: np.ndarray, codes: np.ndarray) -> None:
        """Give `keys` these codes (a field of the record itself)."""
        if len(keys):
            self.by_key = grown(self.by_key, int(keys.max()) + 1)
            self.by_key[keys] = codes

    def set_pairs(self, keys: np.ndarray, records: np.ndarray, codes: np.ndarray) -> None:
        """Replace the pairs of `keys` by these (a to-many field). The old pairs keep their place
        with the code of no value, which nothing counts or matches, and the new ones are added at
        the end: the pairs are not copied for a write of a few records."""
        if len(keys) and len(self.records):
            changed = np.zeros(max(self._pairs_size, int(keys.max()) + 1), dtype=bool)
            changed[keys] = True
            self.codes[changed[self.records]] = 0
        if len(records):
            self._pairs_size = max(self._pairs_size, int(records.max()) + 1)
        held = len(self.records)
        self.records = grown(self.records, held + len(records))
        self.codes = grown(self.codes, held + len(records))
        self.records[held:], self.codes[held:] = records, codes

    @property
    def numbers(self) -> np.ndarray:
        """Each code's value as a number, NaN for none (what a range compares)."""
        if self._numbers is None:
            self._numbers = np.array(
                [float(value) if isinstance(value, int | float) else np.nan for value in self.values]
            )
        return self._numbers

    @property
    def value_order(self) -> np.ndarray:
        """Each code's place among the values in their own order: ties in counts go to the first."""
        if self._value_order is None:
            ordered = sorted(
                range(len(self.values)), key=lambda code: (self.values[code] is None, self.values[code])
            )
            self._value_order = np.empty(len(ordered), dtype=np.int64)
            self._value_order[ordered] = np.arange(len(ordered))
        return self._value_order

    def keys_where(self, selected: np.ndarray, size: int) -> np.ndarray:
        """Which keys below `size` hold a value whose code is `selected`."""
        kept = np.zeros(size, dtype=bool)
        if self.many:
            kept[self.records[selected[self.codes]]] = True
        else:
            by_key = self.by_key[:size]
            kept[: len(by_key)] = selected[by_key]
        return kept

    def keys_with(self, wanted: Iterable, size: int) -> np.ndarray:
        """Which keys below `size` hold any of the `wanted` values."""
        selected = np.zeros(len(self.values), dtype=bool)
        selected[[self.code_of[value] for value in wanted if value in self.code_of]] = True
        return self.keys_where(selected, size)

    def keys_between(self, low, high, size: int) -> np.ndarray:
        """Which keys below `size` hold a value from `low` to `high`, both included (None: that end
        is open); a record without a value never matches."""
        numbers = self.numbers
        selected = ~np.isnan(numbers)
        if low is not None:
            selected &= numbers >= low
        if high is not None:
            selected &= numbers <= high
        return self.keys_where(selected, size)

    def tally(self, matched: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """How many matched records (`matched` by key, `ids` the sorted keys of those) hold each code."""
        if self.many:
            counted = self.codes[grown(matched, self._pairs_size, False)[self.records]]
        else:
            counted = self.by_key[ids[: np.searchsorted(ids, len(self.by_key))]]
        return np.bincount(counted, minlength=len(self.values))

    def counts(self, matched: np.ndarray, ids: np.ndarray) -> FacetCounts:
        """The most frequent values among the matched records. Only those few are turned into
        Python objects: a facet of rounds has a value per round."""
        tally = self.tally(matched, ids)
        valued = np.array([value not in (None, "") for value in self.values], dtype=bool)
        present = np.flatnonzero(tally * valued)
        if len(present) > CANDIDATES:  # the CANDIDATES-th largest count, and all above it
            threshold = np.partition(tally[present], len(present) - CANDIDATES)[len(present) - CANDIDATES]
            above, at = present[tally[present] > threshold], present[tally[present] == threshold]
            at = at[np.argsort(self.value_order[at], kind="stable")]
            present = np.concatenate([above, at[: CANDIDATES - len(above)]])
        order = present[np.lexsort((self.value_order[present], -tally[present]))]
        missing = int(tally[0]) if not self.many else 0
        return FacetCounts([(self.values[code], int(tally[code])) for code in order], missing)


def distinct_pairs(records: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(record, value) pairs once each, found by sorting each pair as one number: sorting them as
    rows is much slower."""
    if not len(records):
        return records, values
    base = int(values.max()) + 1
    combined = np.sort(records * base + values)
    combined = combined[np.concatenate(([True], combined[1:] != combined[:-1]))]
    return combined // base, combined % base


@dataclass(frozen=True)
class CountedFacet:
    """A facet a list counts over its matches.

    `field` is the record's own column, or `relation__column` through a to-many relation (a claim's
    issues), each (record, value) pair counted once; `words` says the column holds several values
    separated by spaces (a person's kinds of seat). `records` gives the public records its values
    name, for their slugs and labels (`label_field`); `labels` name a choice field's values;
    `unknown` is the (value, label) shown for records without a value, which are otherwise left out.
    """

    param: str
    label: str
    field: str
    records: Callable[[], QuerySet] | None = None
    label_field: str = "name"
    labels: dict | None = None
    words: bool = False
    unknown: tuple[str, str] | None = None

    def rows(self, counts: FacetCounts) -> list[tuple]:
        """(value, label, count) rows of the most frequent values, most frequent first."""
        rows = [(*self.unknown, counts.missing)] if self.unknown is not None and counts.missing else []
        if self.records is None:
            rows += [(value, value, n) for value, n in counts.most_frequent[:FACET_CHOICES]]
        else:
            # A few more candidates than shown, in case some name records readers cannot see. They
            # are counted over public records only, so a record without a publication status (a
            # party, an outlet) is public already: only a status is checked, never the ways the
            # declared records find which of them readers see.
            candidates = dict(counts.most_frequent)
            public = readers_see(self.records().model).filter(pk__in=candidates)
            public = public.values_list("pk", "slug", self.label_field)
            rows += [(slug, label, candidates[pk]) for pk, slug, label in public]
        return sorted(rows, key=lambda row: (-row[2], str(row[1])))[:FACET_CHOICES]


class HeldFilter:
    """A list filter the index answers, as the SQL filter of the same parameter answers it, from
    the fields it holds (`fields`): `keys` says, by key below `size`, which records match the
    value the form cleaned (`chosen`). A filter that cannot answer some value (`answers`) leaves
    the request to the database."""

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.field,)

    def answers(self, chosen, model) -> bool:
        return True

    def keys(self, columns: dict[str, HeldValues], chosen, model, size: int) -> np.ndarray:
        raise NotImplementedError


@dataclass(frozen=True)
class AmongValues(HeldFilter):
    """Records whose `field` holds the chosen value (a record chosen by slug stands for its key),
    or any of the values `values_of` gives for it (an issue: it and its sub-issues)."""

    field: str
    values_of: Callable[[Any], Iterable] | None = None

    def keys(self, columns, chosen, model, size: int) -> np.ndarray:
        wanted = self.values_of(chosen) if self.values_of else [getattr(chosen, "pk", chosen)]
        return columns[self.field].keys_with(wanted, size)


@dataclass(frozen=True)
class WithinRange(HeldFilter):
    """Records whose `field` is at least the chosen value, or within a from/to range (a slice,
    either end open), both ends included, as Django's `gte`, `lte` and `range` lookups are. Each
    end is converted as the field converts it for SQL: a date range's ends come as the start and
    the end of a day, which a date column reads as that day, and the index holds as its day
    number."""

    field: str

    def keys(self, columns, chosen, model, size: int) -> np.ndarray:
        ends = (chosen.start, chosen.stop) if isinstance(chosen, slice) else (chosen, None)
        field = model._meta.get_field(self.field)
        held = day_number if isinstance(field, DateField) else (lambda value: value)
        low, high = (None if end is None else held(field.to_python(end)) for end in ends)
        return columns[self.field].keys_between(low, high, size)


class OrderedMatches:
    """The matches' ids in the list's order, computed for the slice a page asks for. `ranks` gives
    each key's place in the order (any increasing numbers, unique)."""

    def __init__(self, ids: np.ndarray, ranks: np.ndarray):
        self.ids, self.ranks = ids, ranks

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, window: slice) -> list[int]:
        start, stop, _ = window.indices(len(self.ids))
        if start >= stop:
            return []
        ranks = self.ranks[self.ids]
        # Only the first `stop` matches need ordering: a partition finds them in linear time.
        first = np.argpartition(ranks, stop - 1)[:stop] if stop < len(ranks) else np.arange(len(ranks))
        first = first[np.argsort(ranks[first], kind="stable")]
        return self.ids[first[start:stop]].tolist()


class ComputedRanks:
    """Each key's place in an order of numbers and dates, from the held values: each term's values
    as numbers (none where the database puts them: first in SQLite's ascending order, last in
    PostgreSQL's), combined into one number a key, term after term. Each term is given room beyond
    the values it holds, so that a record added or changed is placed by computing its own number
    (`update`) rather than every record's."""

    def __init__(self, held: "HeldList", terms: list["OrderTerm"], nulls_largest: bool):
        self.terms, self.nulls_largest = terms, nulls_largest
        size = held.size
        keys = np.arange(size, dtype=np.int64)
        self.plan = []  # per term: (lowest and highest value it has room for, its number for none)
        for term in terms:
            numbers = self.numbers(held, term, keys)
            present = numbers[~np.isnan(numbers)]
            low, high = (int(present.min()), int(present.max())) if len(present) else (0, 0)
            if term.field in ("pk", "id"):
                low, high = 0, max(2 * size, size + 100_000)
            room = max(1_000, (high - low) // 10)
            low, high = low - room, high + room
            last = term.nulls_last if term.nulls_last is not None else (nulls_largest != term.descending)
            # none after every value in this term's direction, or before it
            none = (
                (high + 1 if not term.descending else low - 1)
                if last
                else (low - 1 if not term.descending else high + 1)
            )
            self.plan.append((low, high, none))
        widths = [high - low + 3 for low, high, _ in self.plan]
        self.fits = float(np.prod([float(width) for width in widths])) < 2**62
        self.ranks = self.combined(held, keys)

    @staticmethod
    def numbers(held: "HeldList", term: "OrderTerm", keys: np.ndarray) -> np.ndarray:
        if term.field in ("pk", "id"):
            return keys.astype(float)
        values = held.fields[term.field]
        by_key = values.by_key
        codes = np.zeros(len(keys), dtype=np.int32)
        inside = keys < len(by_key)
        codes[inside] = by_key[keys[inside]]
        return values.numbers[codes]

    def combined(self, held: "HeldList", keys: np.ndarray) -> np.ndarray | None:
        """The keys' ranks, or None when a value lies beyond the room its term was given."""
        columns = []
        for term, (low, high, none) in zip(self.terms, self.plan, strict=True):
            numbers = self.numbers(held, term, keys)
            present = ~np.isnan(numbers)
            if ((numbers[present] < low) | (numbers[present] > high)).any():
                return None
            numbers = np.where(present, numbers, none).astype(np.int64) - (low - 1)
            columns.append(-numbers + (high - low + 2) if term.descending else numbers)
        if not self.fits:  # too many numbers for one: ranked by sorting the columns instead
            if len(keys) != held.size:
                return None
            ranks = np.empty(len(keys), dtype=np.int64)
            ranks[np.lexsort(tuple(reversed(columns)))] = np.arange(len(keys))
            return ranks
        ranks = np.zeros(len(keys), dtype=np.int64)
        for column, (low, high, _) in zip(columns, self.plan, strict=True):
            ranks = ranks * (high - low + 3) + column
        return ranks

    def update(self, held: "HeldList", keys: np.ndarray) -> bool:
        """Place the records of `keys` again; False when the order must be computed afresh."""
        if self.ranks is None:
            return False
        placed = self.combined(held, keys)
        if placed is None or not self.fits:
            return False
        self.ranks = grown(self.ranks, held.size, np.iinfo(np.int64).max)
        self.ranks[keys] = placed
        return True


@dataclass
class ListCounts:
    count: int
    facet_counts: dict[str, FacetCounts]
    ordered: OrderedMatches | None  # None: the list's order is left to the database


@dataclass
class OrderTerm:
    field: str
    descending: bool
    nulls_last: bool | None  # None: where the database puts them


def order_terms(terms: Sequence) -> list[OrderTerm] | None:
    parsed = []
    for term in terms:
        if isinstance(term, str):
            parsed.append(OrderTerm(term.removeprefix("-"), term.startswith("-"), None))
        elif isinstance(term, OrderBy) and hasattr(term.expression, "name"):
            nulls = True if term.nulls_last else False if term.nulls_first else None
            parsed.append(OrderTerm(term.expression.name, term.descending, nulls))
        else:
            return None
    return parsed


class HeldList:
    """One database's copy of a list's values in a process: its fields, which keys are public, and
    the version of the list they were read under."""

    def __init__(self):
        self.version: tuple[int, str] | None = None
        self.fields: dict[str, HeldValues] = {}
        self.public = np.zeros(0, dtype=bool)
        self.memo: dict = {}  # what is computed from the arrays and holds until they change

    @property
    def size(self) -> int:
        return max([len(self.public), *(held.size for held in self.fields.values())])


class ListIndex:
    """The in-memory counts and orders of one list (see the module's docstring).

    `facets` are counted over a request's matches; `filters` are the list's filters (by parameter)
    that the index answers from fields it holds: a request whose every filter is among them asks
    the database for no ids at all. `orders` are the record's own columns the list may be ordered
    by; an order reading anything else is left to the database. Orders by numbers and dates are
    computed from the held values; an order that reads text (a title) is ranked by the database,
    in its collation, once per version of the list that a reader asks it under.
    """

    def __init__(
        self,
        name: str,
        model: type[Model],
        facets: Sequence[CountedFacet],
        orders: Sequence[str],
        filters: dict[str, HeldFilter] | None = None,
    ):
        self.name, self.model, self.facets, self.orders = name, model, tuple(facets), tuple(orders)
        self.filters = dict(filters or {})
        self._held: dict[str, HeldList] = {}  # by database alias
        self._lock = threading.RLock()

    # --- What it holds ------------------------------------------------------------------------

    @property
    def fields(self) -> tuple[str, ...]:
        """Every field the index holds: its facets', its filters' and its numeric orders'."""
        held = [facet.field for facet in self.facets]
        held += [field for held_filter in self.filters.values() for field in held_filter.fields]
        held += [name for name in self.orders if name != "id" and self.holds_numbers(name)]
        return tuple(dict.fromkeys(held))

    @property
    def word_fields(self) -> frozenset[str]:
        return frozenset(facet.field for facet in self.facets if facet.words)

    def holds_numbers(self, name: str) -> bool:
        """Whether the column is read as numbers: integers, keys, and dates (as day numbers)."""
        field = self.model._meta.get_field(name)
        return isinstance(getattr(field, "target_field", field), IntegerField | DateField)

    def watched(self) -> list["WatchedTable"]:
        """The tables whose writes change what this list holds, and the columns of each whose
        update does (keys are left out: Django never changes a record's key)."""
        meta = self.model._meta
        own = {
            meta.get_field(name).column
            for name in [*self.fields, *self.orders]
            if "__" not in name and name not in ("pk", "id")
        }
        own |= {field.column for field in meta.concrete_fields if field.name == "publication_status"}
        tables = [WatchedTable(meta.db_table, meta.pk.column, (meta.pk.column,), tuple(sorted(own)))]
        for name in self.fields:
            if "__" in name:
                relation_name, column_name = name.split("__")
                relation = meta.get_field(relation_name)
                link = relation.related_model._meta
                record_column = relation.field.column
                columns = (record_column, link.get_field(column_name).column)
                tables.append(WatchedTable(link.db_table, link.pk.column, (record_column,), columns))
        return list({table.table: table for table in tables}.values())

    # --- Reading the database ------------------------------------------------------------------

    def state(self, alias: str) -> tuple[int, str] | None:
        row = ListVersion.objects.using(alias).filter(name=self.name).values_list("version", "token").first()
        return tuple(row) if row else None

    def held(self, alias: str) -> HeldList:
        """This database's arrays, brought up to date with the list's current version."""
        state = self.state(alias)
        with self._lock:
            held = self._held.get(alias)
            if held is None or held.version is None:
                return self.rebuilt(alias, state)
            if state == held.version:
                return held
            if state is None or state[0] <= held.version[0] or state[0] - held.version[0] > KEPT_VERSIONS:
                return self.rebuilt(alias, state)
            changes = ListChange.objects.using(alias).filter(list=self.name, version__gte=held.version[0])
            rows = list(changes.values_list("version", "token", "key")[: MOST_KEYS_PATCHED + 1])
            continuous = any(row[:2] == held.version for row in rows)
            if not continuous or len(rows) > MOST_KEYS_PATCHED:
                return self.rebuilt(alias, state)
            keys = [key for version, _, key in rows if version > held.version[0] and key is not None]
            keys = np.unique(np.array(keys, dtype=np.int64))
            self.patch(alias, held, keys)
            # Orders computed from the held values follow the records changed; the rest of what
            # was computed from the arrays is computed again when asked for.
            held.memo = {
                key: ranks
                for key, ranks in held.memo.items()
                if isinstance(ranks, ComputedRanks) and ranks.update(held, keys)
            }
            held.version = state
            return held

    def rebuilt(self, alias: str, state) -> HeldList:
        held = HeldList()
        held.version = state  # read before the values: values newer than it are only read again
        records = self.model._base_manager.using(alias).order_by()
        public = parsed_ids(
            self.model.objects.using(alias).published().aggregate(ids=MatchingIds("pk"))["ids"]
        )
        fields = self.fields
        own = [field for field in fields if "__" not in field]
        numeric = [field for field in own if field not in self.word_fields and self.holds_numbers(field)]
        dates = {field for field in numeric if isinstance(self.model._meta.get_field(field), DateField)}
        if numeric:
            # GROUP_CONCAT leaves NULLs out, which would misalign the lists: NO_NUMBER stands in.
            as_text = {
                f"column_{n}": MatchingIds(
                    Coalesce(DayNumber(field) if field in dates else field, Value(NO_NUMBER))
                )
                for n, field in enumerate(numeric)
            }
            columns = records.aggregate(keys=MatchingIds("pk"), **as_text)
            keys = parsed_ids(columns["keys"])
            for n, field in enumerate(numeric):
                numbers = parsed_ids(columns[f"column_{n}"])
                distinct, inverse = np.unique(numbers, return_inverse=True)
                held.fields[field] = values = HeldValues()
                codes = values.coded(None if number == NO_NUMBER else number for number in distinct.tolist())
                values.set_codes(keys, codes[inverse.reshape(-1)])
        for field in own:
            if field not in numeric:
                words = field in self.word_fields
                held.fields[field] = values = HeldValues(many=words)
                groups = records.values(field).annotate(keys=MatchingIds("pk")).values_list(field, "keys")
                for value, text in groups:
                    keys = parsed_ids(text)
                    if words:
                        for word in (value or "").split():
                            values.set_pairs(
                                np.empty(0, dtype=np.int64),
                                keys,
                                np.full(len(keys), values.code(word), dtype=np.int32),
                            )
                    else:
                        values.set_codes(keys, np.full(len(keys), values.code(value), dtype=np.int32))
        for field in fields:
            if "__" in field:  # read from the link table alone: (record, value) pairs, once each
                relation, column, links = self.links_of(alias, field)
                pairs = links.aggregate(
                    records=MatchingIds(relation.field.attname), values=MatchingIds(column)
                )
                linked, numbers = distinct_pairs(parsed_ids(pairs["records"]), parsed_ids(pairs["values"]))
                held.fields[field] = values = HeldValues(many=True)
                distinct, inverse = np.unique(numbers, return_inverse=True)
                values.set_pairs(
                    np.empty(0, dtype=np.int64), linked, values.coded(distinct.tolist())[inverse.reshape(-1)]
                )
        size = max(
            [int(public.max()) + 1 if len(public) else 0, *(values.size for values in held.fields.values())]
        )
        held.public = np.zeros(size, dtype=bool)
        held.public[public] = True
        self._held[alias] = held
        return held

    def links_of(self, alias: str, field: str):
        relation_name, column = field.split("__")
        relation = self.model._meta.get_field(relation_name)
        links = relation.related_model._base_manager.using(alias).order_by()
        return relation, column, links.filter(**{f"{column}__isnull": False})

    def patch(self, alias: str, held: HeldList, keys: np.ndarray) -> None:
        """Read the values of the records of `keys` again and write them into the arrays: a
        record added, changed or deleted (deleted: no values, not public)."""
        if not len(keys):
            return
        listed = keys.tolist()
        public = set(
            self.model.objects.using(alias).published().filter(pk__in=listed).values_list("pk", flat=True)
        )
        held.public = grown(held.public, int(keys.max()) + 1, False)
        held.public[keys] = [key in public for key in listed]
        own = [field for field in held.fields if "__" not in field]
        rows = {
            row[0]: row[1:]
            for row in self.model._base_manager.using(alias).filter(pk__in=listed).values_list("pk", *own)
        }
        for n, field in enumerate(own):
            values = held.fields[field]
            read = [rows[key][n] if key in rows else None for key in listed]
            if isinstance(self.model._meta.get_field(field), DateField):
                read = [None if day is None else day_number(day) for day in read]
            if values.many:  # words
                pairs = [
                    (key, word)
                    for key, value in zip(listed, read, strict=True)
                    for word in (value or "").split()
                ]
                values.set_pairs(
                    keys,
                    np.array([key for key, _ in pairs], dtype=np.int64),
                    values.coded(word for _, word in pairs),
                )
            else:
                values.set_codes(keys, values.coded(read))
        for field in held.fields:
            if "__" in field:
                relation, column, links = self.links_of(alias, field)
                pairs = sorted(
                    set(
                        links.filter(**{f"{relation.field.attname}__in": listed}).values_list(
                            relation.field.attname, column
                        )
                    )
                )
                values = held.fields[field]
                values.set_pairs(
                    keys,
                    np.array([record for record, _ in pairs], dtype=np.int64),
                    values.coded(value for _, value in pairs),
                )

    # --- Answering a request ---------------------------------------------------------------------

    def holds(self, narrowing: dict) -> bool:
        """Whether the index finds the matches of these filters itself (none: every public record)."""
        return all(
            name in self.filters and self.filters[name].answers(chosen, self.model)
            for name, chosen in narrowing.items()
        )

    def count(self, queryset: QuerySet, narrowing: dict | None = None, facets: bool = True) -> ListCounts:
        """How many records of `queryset` there are, how they divide by each facet, and their order.

        `narrowing` is the list's filters that leave records out, by parameter, as the form cleaned
        them. When the index holds them all, it finds the matches itself, and `queryset` gives only
        its order: the database then lists no ids, which for a filter that matches most of the
        archive costs more than the rest of the page."""
        alias, terms = queryset.db, self.ordering_of(queryset)
        if narrowing == {}:
            return self.unfiltered(alias, self.held(alias), terms, facets)
        held, matched = self.matches(queryset, narrowing)
        size = len(matched)
        ids = np.flatnonzero(matched)
        facet_counts = (
            {facet.param: held.fields[facet.field].counts(matched, ids) for facet in self.facets}
            if facets
            else {}
        )
        ranks = self.ranks(alias, held, terms)
        return ListCounts(
            len(ids),
            facet_counts,
            None if ranks is None else OrderedMatches(ids, grown(ranks, size, np.iinfo(np.int64).max)),
        )

    def matches(self, queryset: QuerySet, narrowing: dict | None) -> tuple[HeldList, np.ndarray]:
        """The held list and, by key, which of its records match: found by the index when it holds
        every filter of `narrowing`, else listed by the database from `queryset`."""
        held = self.held(queryset.db)
        if narrowing is not None and self.holds(narrowing):
            size = held.size
            matched = grown(held.public, size, False)[:size].copy()
            for name, chosen in narrowing.items():
                held_filter = self.filters[name]
                columns = {field: held.fields[field] for field in held_filter.fields}
                matched &= held_filter.keys(columns, chosen, self.model, size)
            return held, matched
        matched_ids = parsed_ids(queryset.order_by().aggregate(ids=MatchingIds("pk"))["ids"])
        if len(matched_ids) and int(matched_ids.max()) >= held.size:
            held = self.held(queryset.db)  # a record added since: its values are read now
        size = max(held.size, int(matched_ids.max()) + 1 if len(matched_ids) else 0)
        matched = np.zeros(size, dtype=bool)
        matched[matched_ids] = True
        return held, matched

    def counts_holding_among(
        self, queryset: QuerySet, narrowing: dict | None, field: str, value_sets: Sequence[Iterable]
    ) -> list[int]:
        """`counts_holding` among the records a list's filters match (`count`'s arguments): a
        track's claims under each issue and its sub-issues, say."""
        held, matched = self.matches(queryset, narrowing)
        size = len(matched)
        return [
            int(np.count_nonzero(held.fields[field].keys_with(tuple(values), size) & matched))
            for values in value_sets
        ]

    def unfiltered(self, alias: str, held: HeldList, terms, facets: bool) -> ListCounts:
        """Every public record: counted once per version of the list, not once per request."""
        if "public" not in held.memo:
            ids = np.flatnonzero(held.public)
            matched = grown(held.public, held.size, False)
            held.memo["public"] = (
                ids,
                {facet.param: held.fields[facet.field].counts(matched, ids) for facet in self.facets},
            )
        ids, facet_counts = held.memo["public"]
        ranks = self.ranks(alias, held, terms)
        ordered = (
            None if ranks is None else OrderedMatches(ids, grown(ranks, held.size, np.iinfo(np.int64).max))
        )
        return ListCounts(len(ids), facet_counts if facets else {}, ordered)

    def total(self, alias: str = "default") -> int:
        """How many public records the list has."""
        return int(self.held(alias).public.sum())

    def counts_holding(self, field: str, value_sets: Sequence[Iterable], alias: str = "default") -> list[int]:
        """For each set of values, how many public records hold any of them in `field` (the claims
        under an issue and its sub-issues), each counted once per version of the list."""
        held = self.held(alias)
        counts = []
        for values in value_sets:
            key = ("holding", field, tuple(sorted(values)))
            if key not in held.memo:
                size = held.size
                holding = held.fields[field].keys_with(key[2], size) & grown(held.public, size, False)
                held.memo[key] = int(np.count_nonzero(holding))
            counts.append(held.memo[key])
        return counts

    def counts_by_value(self, field: str, alias: str = "default") -> dict:
        """{value: how many public records hold it}, for every value of `field`."""
        held = self.held(alias)
        key = ("by value", field)
        if key not in held.memo:
            ids = np.flatnonzero(held.public)
            values = held.fields[field]
            tally = values.tally(grown(held.public, held.size, False), ids)
            held.memo[key] = {values.values[code]: int(n) for code, n in enumerate(tally) if n and code}
        return held.memo[key]

    # --- Orders ----------------------------------------------------------------------------------

    def ordering_of(self, queryset: QuerySet) -> list | None:
        """The queryset's order, ties broken by key, or None when it reads anything but the record's
        own columns in `orders` (the database then orders the page itself)."""
        query, meta = queryset.query, self.model._meta
        terms = query.order_by or (meta.ordering if query.default_ordering else ())
        parsed = order_terms(terms)
        if parsed is None:
            return None
        for term in parsed:
            if term.field not in self.orders and not (term.field == "pk" and "id" in self.orders):
                return None
            try:
                meta.pk if term.field == "pk" else meta.get_field(term.field)
            except FieldDoesNotExist:
                return None
        # Ties broken by key, as the database would break them only by chance.
        return [*terms, "pk"]

    def ranks(self, alias: str, held: HeldList, terms: list | None) -> np.ndarray | None:
        """Each key's place in the order of `terms` (None: the database orders the page), computed
        once per version of the list."""
        if terms is None:
            return None
        parsed = order_terms(terms)
        key = ("order", repr(parsed))
        if key not in held.memo:
            numeric = all(term.field in ("pk", "id") or term.field in held.fields for term in parsed)
            if numeric:
                held.memo[key] = self.computed_ranks(alias, held, parsed)
            else:
                held.memo[key] = self.database_ranks(alias, terms)
        ranks = held.memo[key]
        return ranks.ranks if isinstance(ranks, ComputedRanks) else ranks

    def computed_ranks(self, alias: str, held: HeldList, terms: list[OrderTerm]) -> "ComputedRanks":
        return ComputedRanks(held, terms, nulls_largest=connections[alias].vendor == "postgresql")

    def database_ranks(self, alias: str, terms: list) -> np.ndarray:
        """Each record's place in an order the database computes (so that text sorts in its
        collation), by key."""
        sql = compiled(self.model._base_manager.using(alias).order_by(*terms).values_list("pk"))
        in_order = np.empty(0, dtype=np.int64)
        if sql is not None:
            with connections[alias].cursor() as cursor:
                cursor.execute(*sql)
                in_order = np.fromiter((row[0] for row in cursor.fetchall()), dtype=np.int64)
        size = int(in_order.max()) + 1 if len(in_order) else 0
        ranks = np.full(size, len(in_order), dtype=np.int64)
        ranks[in_order] = np.arange(len(in_order))
        return ranks

    def warm(self, querysets: Sequence[QuerySet]) -> None:
        """Read the arrays, and the ranks of the orders of `querysets`, now: a server process's first
        readers then do not wait for them. A database that is down or not yet migrated is left for
        the first request to meet; a list without a version (no `migrate` since its triggers came)
        is logged."""
        try:
            for queryset in querysets:
                if self.state(queryset.db) is None:
                    logger.warning("The %s list has no version (run `manage.py migrate`).", self.name)
                self.ranks(queryset.db, self.held(queryset.db), self.ordering_of(queryset))
        except DatabaseError as error:
            logger.warning("The %s list's counts were not built at start: %s", self.name, error)


# --- Triggers ---------------------------------------------------------------------------------
# On each watched table, inserts and deletes log the record's key, and so do updates that change a
# watched column. SQLite rebuilds a table for most schema changes and drops its triggers with it,
# so they are (re)installed after every `migrate` (talks.apps), not only by the migration that
# made the tables they write to.


@dataclass
class WatchedTable:
    table: str
    key: str
    record_columns: tuple[str, ...]  # the columns holding the list's record's key
    columns: tuple[str, ...]  # the columns whose update changes what the list holds


def trigger_name(index: ListIndex, table: str, event: str) -> str:
    return f"{table}_{event}_logs_{index.name}"


EVENTS = ("insert", "delete", "update")
SQLITE_RANDOM = "lower(hex(randomblob(16)))"
POSTGRESQL_RANDOM = "md5(random()::text || clock_timestamp()::text)"


def sqlite_statements(quote, index: ListIndex, watched: WatchedTable) -> list[str]:
    """One trigger a row for each event: SQLite has no other kind. Each write is a version of its own."""
    versions, changes = quote(ListVersion._meta.db_table), quote(ListChange._meta.db_table)
    name, table = index.name, quote(watched.table)
    insert, delete, update = (quote(trigger_name(index, watched.table, event)) for event in EVENTS)

    def logging(rows: Sequence[str]) -> str:
        logged = " ".join(
            f"INSERT INTO {changes} (list, version, token, key) "
            f"SELECT '{name}', version, token, {row}.{quote(column)} FROM {versions} "
            f"WHERE name = '{name}' AND {row}.{quote(column)} IS NOT NULL;"
            for row in rows
            for column in watched.record_columns
        )
        return (
            f"INSERT INTO {versions} (name, version, token) VALUES ('{name}', 1, {SQLITE_RANDOM}) "
            f"ON CONFLICT (name) DO UPDATE SET version = version + 1, token = excluded.token; {logged} "
            f"DELETE FROM {changes} WHERE list = '{name}' AND version <= "
            f"(SELECT version FROM {versions} WHERE name = '{name}') - {KEPT_VERSIONS};"
        )

    changed = " OR ".join(f"old.{quote(column)} IS NOT new.{quote(column)}" for column in watched.columns)
    listed = ", ".join(quote(column) for column in watched.columns)
    return [
        *(f"DROP TRIGGER IF EXISTS {trigger}" for trigger in (insert, delete, update)),
        f"CREATE TRIGGER {insert} AFTER INSERT ON {table} BEGIN {logging(['new'])} END",
        f"CREATE TRIGGER {delete} AFTER DELETE ON {table} BEGIN {logging(['old'])} END",
        f"CREATE TRIGGER {update} AFTER UPDATE OF {listed} ON {table} "
        f"WHEN {changed} BEGIN {logging(['old', 'new'])} END",
    ]


def postgresql_statements(quote, index: ListIndex, watched: WatchedTable) -> list[str]:
    """Triggers once a statement: each statement is a version, its rows' keys logged in one insert.
    An update logs only the rows whose watched columns changed, compared in the statement's old
    and new rows in one pass."""
    versions, changes = quote(ListVersion._meta.db_table), quote(ListChange._meta.db_table)
    name, table, key = index.name, quote(watched.table), quote(watched.key)
    insert, delete, update = (quote(trigger_name(index, watched.table, event)) for event in EVENTS)

    def logging(keys: str) -> str:
        return (
            f"INSERT INTO {versions} (name, version, token) VALUES ('{name}', 1, {POSTGRESQL_RANDOM}) "
            f"ON CONFLICT (name) DO UPDATE SET version = {versions}.version + 1, token = EXCLUDED.token "
            f"RETURNING version, token INTO v_version, v_token; "
            f"INSERT INTO {changes} (list, version, token, key) "
            f"SELECT DISTINCT '{name}', v_version, v_token, k FROM ({keys}) keys(k) WHERE k IS NOT NULL; "
            f"DELETE FROM {changes} WHERE list = '{name}' AND version <= v_version - {KEPT_VERSIONS};"
        )

    def function(trigger: str, keys: str) -> str:
        return (
            f"CREATE OR REPLACE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"DECLARE v_version bigint; v_token text; "
            f"BEGIN IF EXISTS ({keys}) THEN {logging(keys)} END IF; RETURN NULL; END $$"
        )

    def keys_of(rows: str) -> str:
        return " UNION ALL ".join(f"SELECT {quote(column)} FROM {rows}" for column in watched.record_columns)

    old = ", ".join(f"before.{quote(column)}" for column in watched.columns)
    new = ", ".join(f"after.{quote(column)}" for column in watched.columns)
    changed_keys = " UNION ALL ".join(
        f"SELECT {side}.{quote(column)} FROM old_rows before "
        f"JOIN new_rows after ON after.{key} = before.{key} WHERE ({old}) IS DISTINCT FROM ({new})"
        for column in watched.record_columns
        for side in ("before", "after")
    )
    each_statement = "FOR EACH STATEMENT EXECUTE FUNCTION"
    return [
        *(f"DROP TRIGGER IF EXISTS {trigger} ON {table}" for trigger in (insert, delete, update)),
        function(insert, keys_of("new_rows")),
        function(delete, keys_of("old_rows")),
        function(update, changed_keys),
        f"CREATE TRIGGER {insert} AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows "
        f"{each_statement} {insert}()",
        f"CREATE TRIGGER {delete} AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows "
        f"{each_statement} {delete}()",
        f"CREATE TRIGGER {update} AFTER UPDATE ON {table} REFERENCING OLD TABLE AS old_rows "
        f"NEW TABLE AS new_rows {each_statement} {update}()",
    ]


def remove_triggers(connection, indexes: Sequence[ListIndex]) -> None:
    """Drop every trigger of these lists, by name: this code's (`_logs_`), those a change of a
    list's declaration left behind, and earlier code's, which moved a token per column
    (`_moves_`)."""
    with connection.cursor() as cursor:
        for index in indexes:
            for pattern in (f"%\\_logs\\_{index.name}", f"%\\_moves\\_{index.name}"):
                if connection.vendor == "postgresql":
                    cursor.execute("SELECT proname FROM pg_proc WHERE proname LIKE %s", [pattern])
                    for (name,) in cursor.fetchall():
                        cursor.execute(f"DROP FUNCTION IF EXISTS {connection.ops.quote_name(name)}() CASCADE")
                else:
                    cursor.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s ESCAPE '\\'",
                        [pattern],
                    )
                    for (name,) in cursor.fetchall():
                        cursor.execute(f"DROP TRIGGER IF EXISTS {connection.ops.quote_name(name)}")


def install_triggers(connection, indexes: Sequence[ListIndex]) -> None:
    """Create the triggers of every list index, and start each list at a new version (the tables
    may have changed while the triggers were gone: processes read their lists whole again)."""
    tables = connection.introspection.table_names()
    if ListChange._meta.db_table not in tables:
        return  # migrated back before the changes' table
    remove_triggers(connection, indexes)
    statements = postgresql_statements if connection.vendor == "postgresql" else sqlite_statements
    with connection.cursor() as cursor:
        for index in indexes:
            for watched in index.watched():
                for statement in statements(connection.ops.quote_name, index, watched):
                    cursor.execute(statement)
    for index in indexes:
        ListChange.objects.using(connection.alias).filter(list=index.name).delete()
        version = (
            ListVersion.objects.using(connection.alias)
            .filter(name=index.name)
            .values_list("version", flat=True)
            .first()
            or 0
        )
        started = {"version": version + KEPT_VERSIONS + 1, "token": secrets.token_hex(16)}
        ListVersion.objects.using(connection.alias).update_or_create(name=index.name, defaults=started)
        ListChange.objects.using(connection.alias).create(list=index.name, key=None, **started)
