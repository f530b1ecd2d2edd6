"""What a filtered list counts and orders by, held in memory by each server process.

A filtered list shows how many records match, how they divide by each facet, and one page of them in
order. Reading every match's facet values from the database costs microseconds a row in the driver
and in Python: at full size a broad filter (`/claims/?date_after=1900-01-01` matches all 300,000
claims) took two seconds. So each process keeps, for each list, its records' facet values as NumPy
arrays, and their ranks in each order the list offers, and counts and orders a request's matches
in NumPy: a few milliseconds whatever their number. The matches of filters on columns the index
holds (a claim's kind, party, round, issues, date, reach and dispute) it finds itself, as the SQL of
talks/filters.py finds them (the tests compare the two): listing a broad filter's ids cost the
database 100 ms at full size. So does the free text, from the text index's keys
(talks.filters.HeldText). For any other filter the database lists the matching records' ids, as
one string. The downloads always filter in SQL.

The arrays are never stale. Triggers move a token (`ListVersion`) in the same transaction as every
write to what the arrays hold or the orders read, whoever writes: the admin, a bulk load or raw
SQL. There is a token for each part of a list: its records (added or removed), each column, each
link table. A request reads the list's tokens before anything else and rebuilds the facets and
orders made under other tokens, once per process after a change: after a record is added, all of
them (`make bench` measures how long; for the claims with their default order, under a second at
full size), after an edit of one column only what reads it (a citation changes a claim's outlet
count, which only the order by reach and the `min_outlets` filter read). Orders are ranked when
first asked for. Tokens are random, so a rolled-back write never leaves arrays of data that no
longer exist under the token of data that do. `migrate` installs the triggers and gives every
part a token; a server process that starts with parts of no token says so (see `warm`).
"""

import datetime
import logging
import secrets
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from django.core.exceptions import FieldDoesNotExist
from django.db import DatabaseError, connections
from django.db.models import Aggregate, DateField, Func, IntegerField, Model, QuerySet, TextField, Value
from django.db.models.expressions import OrderBy
from django.db.models.functions import Coalesce

from talks.models import ListVersion
from talks.querysets import PUBLISHED, compiled

logger = logging.getLogger(__name__)
# A facet lists its most frequent values only: a page must not grow with the archive (5,000 rounds,
# 500 outlets). Any other value is one filter away in the form.
FACET_CHOICES = 12


class MatchingIds(Aggregate):
    """The matching records' ids as one comma-separated string: a row per id through the driver
    cost 95 ms for 300,000 ids on SQLite, this string 30 ms."""

    function = "GROUP_CONCAT"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template="STRING_AGG(CAST(%(expressions)s AS text), ',')", **extra_context
        )


class DayNumber(Func):
    """A date as its number of days since 1 January of the year 1, as Python's `toordinal() - 1`
    counts them: read as a number, in the pass over the table that reads the numeric columns.
    Grouping 300,000 claims by their thousands of dates took five times as long."""

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


@dataclass(frozen=True)
class CountedFacet:
    """A facet a filtered list counts over its matches.

    `field` is the record's own column, or `relation__column` through a to-many relation (a claim's
    issues), each (record, value) pair counted once; `words` says the column holds several values
    separated by spaces (a person's kinds of seat). `records` are the public records its values
    name, for their slugs and labels (`label_field`); `labels` name a choice field's values;
    `unknown` is the (value, label) shown for records without a value, which are otherwise left out.
    """

    param: str
    label: str
    field: str
    records: QuerySet | None = None
    label_field: str = "name"
    labels: dict | None = None
    words: bool = False
    unknown: tuple[str, str] | None = None

    @property
    def to_many(self) -> bool:
        return "__" in self.field

    def rows(self, counts: "FacetCounts") -> list[tuple]:
        """(value, label, count) rows of the most frequent values, most frequent first."""
        rows = [(*self.unknown, counts.missing)] if self.unknown is not None and counts.missing else []
        if self.records is None:
            rows += [(value, value, n) for value, n in counts.most_frequent[:FACET_CHOICES]]
        else:
            # A few more candidates than shown, in case some name records readers cannot see.
            candidates = dict(counts.most_frequent)
            public = self.records.filter(pk__in=candidates).values_list("pk", "slug", self.label_field)
            rows += [(slug, label, candidates[pk]) for pk, slug, label in public]
        return sorted(rows, key=lambda row: -row[2])[:FACET_CHOICES]


class HeldFilter:
    """A list filter the index answers, as the SQL filter of the same parameter answers it, from
    the columns it holds (`fields`): `keys` says, by key below `size`, which records match the
    value the form cleaned (`chosen`). A filter that cannot answer some value (`answers`) leaves
    the request to the database."""

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.field,)

    def answers(self, chosen, model) -> bool:
        return True

    def keys(self, columns: dict[str, "FacetValues"], chosen, model, size: int) -> np.ndarray:
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


CANDIDATES = FACET_CHOICES * 4  # the most frequent values read, of which FACET_CHOICES are shown


@dataclass
class FacetCounts:
    most_frequent: list[tuple[Any, int]]  # (value, count), most frequent first; no empty value
    missing: int  # how many matched records have no value


@dataclass
class FacetValues:
    """One column's (record id, value code) pairs, and the value each code stands for, in order.

    `single` says each record holds one value at most (a column of its own, not a link table or
    words): its codes are then also kept by key, which a request reads for just its matches, or
    compares whole. Gathering a sixth of the archive's codes that way took a tenth of the time of
    picking them out of the pairs."""

    records: np.ndarray
    codes: np.ndarray
    values: list
    single: bool = False

    def __post_init__(self):
        self.valued = np.array([value not in (None, "") for value in self.values], dtype=bool)

    @cached_property
    def by_key(self) -> np.ndarray:
        """Each key's code, and len(values) for a key of no record."""
        size = int(self.records.max()) + 1 if len(self.records) else 0
        by_key = np.full(size, len(self.values), dtype=np.int32)
        by_key[self.records] = self.codes
        return by_key

    @cached_property
    def code_of(self) -> dict:
        return {value: code for code, value in enumerate(self.values)}

    def keys_with(self, wanted: Iterable, size: int) -> np.ndarray:
        """Which keys below `size` are records that hold any of the `wanted` values."""
        selected = np.zeros(len(self.values), dtype=bool)
        selected[[self.code_of[value] for value in wanted if value in self.code_of]] = True
        return self.keys_where(selected, size)

    def keys_between(self, low, high, size: int) -> np.ndarray:
        """Which keys below `size` are records whose value lies from `low` to `high`, both included
        (None: that end is open), found among the values in their order; records without a value
        never match."""
        present = self.values[:-1] if self.values and self.values[-1] is None else self.values
        first = 0 if low is None else bisect_left(present, low)
        stop = len(present) if high is None else bisect_right(present, high)
        codes = np.arange(len(self.values))
        return self.keys_where((codes >= first) & (codes < stop), size)

    def keys_where(self, selected: np.ndarray, size: int) -> np.ndarray:
        """Which keys below `size` are records holding a value whose code is `selected`."""
        kept = np.zeros(size, dtype=bool)
        if self.single:
            by_key = self.by_key[:size]
            kept[: len(by_key)] = np.append(selected, False)[by_key]
        else:
            kept[self.records[selected[self.codes]]] = True
        return kept

    def counts(self, matched: np.ndarray, ids: np.ndarray) -> FacetCounts:
        """How often the matched records (`matched` by key, `ids` the sorted keys of those) have
        each of the most frequent values; ties go to the value that comes first. Only those few are
        turned into Python objects: a round facet has 5,000 values."""
        if self.single:
            held = ids[: np.searchsorted(ids, len(self.by_key))]
            tally = np.bincount(self.by_key[held], minlength=len(self.values) + 1)[: len(self.values)]
        else:
            tally = np.bincount(self.codes[matched[self.records]], minlength=len(self.values))
        missing = int(tally[-1]) if self.values and self.values[-1] is None else 0
        present = np.flatnonzero(tally * self.valued)
        if len(present) > CANDIDATES:  # the CANDIDATES-th largest count, and all above it
            threshold = np.partition(tally[present], len(present) - CANDIDATES)[len(present) - CANDIDATES]
            above, at = present[tally[present] > threshold], present[tally[present] == threshold]
            present = np.concatenate([above, at[: CANDIDATES - len(above)]])
        order = present[np.lexsort((present, -tally[present]))]
        return FacetCounts([(self.values[code], int(tally[code])) for code in order], missing)


NO_NUMBER = -1  # a record without a value, among a numeric column's values (keys are positive)


def coded_numbers(records: np.ndarray, numbers: np.ndarray, single: bool = False) -> FacetValues:
    """A numeric column's values, read as an array with NO_NUMBER for none, numbered in their own
    order as `coded_groups` numbers them (none last); `single`: one value a record at most."""
    distinct, codes = np.unique(numbers, return_inverse=True)
    values = distinct.tolist()
    if values and values[0] == NO_NUMBER:
        codes = np.where(codes == 0, len(values) - 1, codes - 1)
        values = [*values[1:], None]
    return FacetValues(records, codes.astype(np.int32), values, single)


def distinct_pairs(records: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(record, value) pairs once each, found by sorting each pair as one number: sorting them as
    rows took twenty times longer."""
    if not len(records):
        return records, values
    base = int(values.max()) + 1
    combined = np.sort(records * base + values)  # np.unique hashes instead, several times slower here
    combined = combined[np.concatenate(([True], combined[1:] != combined[:-1]))]
    return combined // base, combined % base


def coded_groups(groups: Sequence[tuple[Any, np.ndarray]], words: bool = False) -> FacetValues:
    """A column read as (value, its records' keys) groups as arrays, values numbered in their own
    order: equally frequent values then come in that order (the lower id, the earlier word), the same
    on every request. With `words`, each word of a value is a value of those records."""
    if words:
        groups = [(word, keys) for value, keys in groups for word in (value or "").split()]
    distinct = sorted({value for value, _ in groups}, key=lambda value: (value is None, value))
    code_of = {value: code for code, value in enumerate(distinct)}
    records = np.concatenate([keys for _, keys in groups]) if groups else np.empty(0, dtype=np.int64)
    codes = np.repeat(
        np.array([code_of[value] for value, _ in groups], dtype=np.int32),
        [len(keys) for _, keys in groups],
    )
    return FacetValues(records, codes, distinct, single=not words)


class OrderedMatches:
    """The matches' ids in the list's order, computed for the slice a page asks for."""

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


@dataclass
class Piece:
    """A facet's values or an order's ranks, and the tokens of the parts it was read under."""

    tokens: tuple[str | None, ...]
    value: Any  # FacetValues, or ranks: each record's place in the order, by key
    size: int  # one more than the largest key it holds


@dataclass
class Counted:
    count: int
    facet_counts: dict[str, FacetCounts]
    ordered: OrderedMatches | None  # None: the list's order is left to the database


class ListIndex:
    """The in-memory counts and orders of one list (see the module's docstring).

    `orders` are the record's own columns the list may be ordered by; an order reading anything
    else is left to the database. `filters` are the list's filters (by parameter) that the index
    answers from columns it holds: a request whose every filter is among them asks the database
    for no ids at all, and keeps the records whose `public_field` is published. Any other filter
    sends the whole request to the database, which lists the matching ids.

    Each token stands for one part of what the list reads: its records themselves (the part named
    as the list: records added or removed), each column its facets and orders read ("claims.kind"),
    and each link table of a to-many facet ("claims.talks_claimissue"). A facet or an order is
    rebuilt only when a part it reads has moved: a citation moves a claim's outlet count, which
    only the order by reach reads, so the default order and every facet stay as they are.
    """

    def __init__(
        self,
        name: str,
        model: type[Model],
        facets: Sequence[CountedFacet],
        orders: Sequence[str],
        filters: dict[str, HeldFilter] | None = None,
        public_field: str = "publication_status",
    ):
        self.name, self.model, self.facets, self.orders = name, model, tuple(facets), tuple(orders)
        self.filters, self.public_field = dict(filters or {}), public_field
        self._pieces: dict[str, dict[str, Piece]] = {}  # by database alias, then by facet or order
        self._lock = threading.Lock()

    def watched(self) -> list["WatchedTable"]:
        """The tables whose writes move this list's tokens, and which token each write moves. Keys
        are left out: Django never changes a record's key."""
        meta = self.model._meta
        own, links = {}, {}
        for name in [*self.fields, *self.orders]:
            if "__" in name:
                relation_name, column_name = name.split("__")
                relation = meta.get_field(relation_name)
                link = relation.related_model._meta
                part = self.link_part(link.db_table)
                columns = {relation.field.column: part, link.get_field(column_name).column: part}
                links[link.db_table] = WatchedTable(link.db_table, link.pk.column, part, columns)
            elif name not in ("pk", meta.pk.name):
                column = meta.get_field(name).column
                own[column] = self.column_part(column)
        return [WatchedTable(meta.db_table, meta.pk.column, self.name, own), *links.values()]

    @cached_property
    def fields(self) -> tuple[str, ...]:
        """Every field the index holds values of: its facets', its filters' and the public one."""
        held = [*(facet.field for facet in self.facets), *self.held_fields]
        return tuple(dict.fromkeys(held))

    @cached_property
    def held_fields(self) -> tuple[str, ...]:
        """The fields the index's own filtering reads (none for a list it does not filter)."""
        if not self.filters:
            return ()
        held = [field for held in self.filters.values() for field in held.fields]
        return tuple(dict.fromkeys([self.public_field, *held]))

    @cached_property
    def word_fields(self) -> frozenset[str]:
        return frozenset(facet.field for facet in self.facets if facet.words)

    def column_part(self, column: str) -> str:
        return f"{self.name}.{column}"

    def link_part(self, table: str) -> str:
        return f"{self.name}.{table}"

    @cached_property
    def part_names(self) -> tuple[str, ...]:
        names = {self.name}
        for watched in self.watched():
            names |= {watched.rows_part, *watched.columns.values()}
        return tuple(sorted(names))

    def parts_of_field(self, field: str) -> tuple[str, ...]:
        if "__" in field:
            relation = self.model._meta.get_field(field.split("__")[0])
            return (self.link_part(relation.related_model._meta.db_table),)
        return (self.name, self.column_part(self.model._meta.get_field(field).column))

    def parts_of_order(self, terms: Sequence) -> tuple[str, ...]:
        meta = self.model._meta
        names = {term_name(term) for term in terms} - {"pk", meta.pk.name}
        return (self.name, *sorted(self.column_part(meta.get_field(name).column) for name in names))

    def tokens(self, alias: str) -> dict[str, str]:
        versions = ListVersion.objects.using(alias).filter(name__in=self.part_names)
        return dict(versions.values_list("name", "token"))

    def holds(self, narrowing: dict) -> bool:
        """Whether the index finds the matches of these filters itself (none: every public record)."""
        if not self.filters:
            return False
        return all(
            name in self.filters and self.filters[name].answers(chosen, self.model)
            for name, chosen in narrowing.items()
        )

    def count(self, queryset: QuerySet, narrowing: dict | None = None, facets: bool = True) -> Counted:
        """How many records of `queryset` there are, how they divide by each facet, and their order.

        `narrowing` is the list's filters that leave records out, by parameter, as the form cleaned
        them. When the index holds them all, it finds the matches itself, from the same columns it
        counts; `queryset` then gives only its order. Listing the ids of a filter that matches most
        of the archive was most of a page's time: on PostgreSQL 100 ms for 300,000 claims. Without
        `facets`, the facets are not counted (an unfiltered list's come from the stored tallies)."""
        alias, terms = queryset.db, self.ordering_of(queryset)
        tokens = self.tokens(alias)
        if narrowing is not None and self.holds(narrowing):
            read = [self.public_field, *(field for name in narrowing for field in self.filters[name].fields)]
            columns, order = self.current(alias, tokens, terms, read)
            size = max(piece.size for piece in [*columns.values(), *([order] if order else [])])
            matched = columns[self.public_field].value.keys_with([PUBLISHED], size)
            for name, chosen in narrowing.items():
                values = {field: columns[field].value for field in self.filters[name].fields}
                matched &= self.filters[name].keys(values, chosen, self.model, size)
        else:
            matched_ids = parsed_ids(queryset.order_by().aggregate(ids=MatchingIds("pk"))["ids"])
            columns, order = self.current(alias, tokens, terms)
            top = int(matched_ids.max()) if len(matched_ids) else -1
            own = [piece for field, piece in columns.items() if "__" not in field]
            if top >= min((piece.size for piece in [*own, *([order] if order else [])]), default=top + 1):
                # A record added since the tokens were read: count with pieces that include it.
                columns, order = self.current(alias, self.tokens(alias), terms, rebuild=True)
            size = max(top + 1, *(piece.size for piece in [*columns.values(), *([order] if order else [])]))
            matched = np.zeros(size, dtype=bool)
            matched[matched_ids] = True
        ids = np.flatnonzero(matched)
        facet_counts = {
            facet.param: columns[facet.field].value.counts(matched, ids) for facet in self.facets if facets
        }
        return Counted(len(ids), facet_counts, None if order is None else OrderedMatches(ids, order.value))

    def warm(self, querysets: Sequence[QuerySet]) -> None:
        """Build the arrays, and the ranks of the orders of `querysets`, now: a server process's
        first readers then do not wait for them. A database that is down or not yet migrated is
        left for the first request to meet.

        A part without a token has seen no write since `migrate` gave it one, or has no trigger
        yet: code that reads a new part, served before `migrate` installed its trigger, would keep
        counting what that part held at start. It is logged, to be fixed by running `migrate`."""
        try:
            for alias in {queryset.db for queryset in querysets}:
                if missing := sorted(set(self.part_names) - self.tokens(alias).keys()):
                    logger.warning("Parts of no token (run `manage.py migrate`): %s", ", ".join(missing))
            for queryset in querysets:
                alias = queryset.db
                self.current(alias, self.tokens(alias), self.ordering_of(queryset), self.held_fields)
        except DatabaseError as error:
            logger.warning("The %s list's counts were not built at start: %s", self.name, error)

    def current(
        self, alias: str, tokens: dict, terms: list | None, held: Sequence[str] = (), rebuild: bool = False
    ) -> tuple[dict[str, Piece], Piece | None]:
        """The values of the facets' fields and of the `held` fields, by field, and the order's
        ranks (None when the database orders the page), each rebuilt if it was read under other
        tokens than `tokens` (or if `rebuild`). Tokens are read before the data: a piece may be
        newer than its tokens, which only makes a later request rebuild it, but never older."""
        pieces = self._pieces.setdefault(alias, {})
        order_sql = None if terms is None else compiled(self.everything(alias, terms))
        fields = list(dict.fromkeys([*(facet.field for facet in self.facets), *held]))
        wanted = {f"values:{field}": self.parts_of_field(field) for field in fields}
        if order_sql is not None:
            wanted[f"order:{order_sql!r}"] = self.parts_of_order(terms)
        read_under = {key: tuple(tokens.get(part) for part in parts) for key, parts in wanted.items()}

        def stale() -> list[str]:
            return [
                key for key in wanted if rebuild or key not in pieces or pieces[key].tokens != read_under[key]
            ]

        if stale():
            with self._lock:
                outdated = stale()
                for field, (values, size) in self.build(
                    alias, [field for field in fields if f"values:{field}" in outdated]
                ).items():
                    key = f"values:{field}"
                    pieces[key] = Piece(read_under[key], values, size)
                if order_sql is not None and f"order:{order_sql!r}" in outdated:
                    key = f"order:{order_sql!r}"
                    pieces[key] = Piece(read_under[key], *self.ranked(alias, order_sql))
        columns = {field: pieces[f"values:{field}"] for field in fields}
        return columns, None if order_sql is None else pieces[f"order:{order_sql!r}"]

    def build(self, alias: str, fields: Sequence[str]) -> dict[str, tuple[FacetValues, int]]:
        """The values of `fields` for every record, published and unpublished alike (the filters
        say which are public), by field: (values, one more than the largest key they hold).

        Columns come as strings of numbers, not row by row through the driver, which took two
        thirds of the time: numeric columns (and dates, as day numbers) in one pass over the table
        beside its keys, others grouped by value, each value with its records' keys."""
        records = self.model._base_manager.using(alias).order_by()
        own = [field for field in fields if "__" not in field]
        numeric = [field for field in own if field not in self.word_fields and self.holds_numbers(field)]
        dates = {field for field in numeric if isinstance(self.model._meta.get_field(field), DateField)}
        built = {}
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
            size = int(keys.max()) + 1 if len(keys) else 0
            for n, field in enumerate(numeric):
                built[field] = (coded_numbers(keys, parsed_ids(columns[f"column_{n}"]), single=True), size)
        for field in own:
            if field not in numeric:
                groups = records.values(field).annotate(keys=MatchingIds("pk"))
                groups = [(value, parsed_ids(text)) for value, text in groups.values_list(field, "keys")]
                size = max((int(keys.max()) + 1 for _, keys in groups if len(keys)), default=0)
                built[field] = (coded_groups(groups, words=field in self.word_fields), size)
        for field in fields:
            if "__" in field:  # read from the link table alone: (record, value) pairs, once each
                relation_name, column = field.split("__")
                relation = self.model._meta.get_field(relation_name)
                links = relation.related_model._base_manager.using(alias).order_by()
                links = links.filter(**{f"{column}__isnull": False}).aggregate(
                    records=MatchingIds(relation.field.attname), values=MatchingIds(column)
                )
                linked, values = distinct_pairs(parsed_ids(links["records"]), parsed_ids(links["values"]))
                size = int(linked.max()) + 1 if len(linked) else 0
                built[field] = (coded_numbers(linked, values), size)
        return built

    def holds_numbers(self, name: str) -> bool:
        """Whether the column is read as numbers: integers, keys, and dates (as day numbers)."""
        field = self.model._meta.get_field(name)
        return isinstance(getattr(field, "target_field", field), IntegerField | DateField)

    def everything(self, alias: str, terms: list) -> QuerySet:
        return self.model._base_manager.using(alias).order_by(*terms).values_list("pk")

    def ranked(self, alias: str, order_sql: tuple) -> tuple[np.ndarray, int]:
        """Each record's place in an order the database computes (so that text sorts in its
        collation), by key; records added since are placed last."""
        with connections[alias].cursor() as cursor:
            cursor.execute(*order_sql)
            in_order = np.fromiter((row[0] for row in cursor.fetchall()), dtype=np.int64)
        size = int(in_order.max()) + 1 if len(in_order) else 0
        ranks = np.full(size, len(in_order), dtype=np.int32 if size < 2**31 else np.int64)
        ranks[in_order] = np.arange(len(in_order))
        return ranks, size

    def ordering_of(self, queryset: QuerySet) -> list | None:
        """The queryset's order, ties broken by key, or None when it reads anything but the record's
        own columns in `orders` (the database then orders the page itself)."""
        query, meta = queryset.query, self.model._meta
        terms = query.order_by or (meta.ordering if query.default_ordering else ())
        for term in terms:
            name = term_name(term)
            if name is None or (name not in self.orders and not (name == "pk" and "id" in self.orders)):
                return None
            try:
                meta.pk if name == "pk" else meta.get_field(name)
            except FieldDoesNotExist:
                return None
        # Ties broken by key, as the database would break them only by chance.
        return [*terms, "pk"]


def term_name(term) -> str | None:
    """The field an ordering term orders by ("-date", F("date").desc()), or None for anything else."""
    if isinstance(term, str):
        return term.removeprefix("-")
    if isinstance(term, OrderBy) and hasattr(term.expression, "name"):
        return term.expression.name
    return None


@dataclass
class WatchedTable:
    table: str
    key: str
    rows_part: str  # the token an insert or a delete moves
    columns: dict[str, str]  # the token an update of each column moves

    def updated_parts(self) -> dict[str, list[str]]:
        """Each token an update may move, with the columns whose change moves it."""
        parts = {}
        for column, part in sorted(self.columns.items()):
            parts.setdefault(part, []).append(column)
        return parts


# Triggers. On each watched table, inserts and deletes move a token, and so do updates that change
# a watched column. SQLite rebuilds a table for most schema changes and drops its triggers with it,
# so they are (re)installed after every `migrate` (talks.apps), not only by the migration that
# made the tokens' table.


def trigger_name(index: ListIndex, table: str, event: str) -> str:
    return f"{table}_{event}_moves_{index.name}"


def install_triggers(connection, indexes: Sequence[ListIndex]) -> None:
    """Create the triggers of every list index and give every part a fresh token (the tables may
    have changed while the triggers were gone)."""
    if ListVersion._meta.db_table not in connection.introspection.table_names():
        return  # migrated back before the tokens' table
    statements = postgresql_triggers if connection.vendor == "postgresql" else sqlite_triggers
    versions = connection.ops.quote_name(ListVersion._meta.db_table)
    with connection.cursor() as cursor:
        for index in indexes:
            for watched in index.watched():
                for statement in statements(connection.ops.quote_name, index, watched):
                    cursor.execute(statement)
            for part in index.part_names:
                cursor.execute(
                    f"INSERT INTO {versions} (name, token) VALUES (%s, %s) "
                    f"ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token",
                    [part, secrets.token_hex(16)],
                )


def moving_tokens(parts: Sequence[str], random_text: str) -> str:
    table = ListVersion._meta.db_table
    rows = ", ".join(f"('{part}', {random_text})" for part in parts)
    return (
        f"INSERT INTO {table} (name, token) VALUES {rows} "
        f"ON CONFLICT (name) DO UPDATE SET token = excluded.token;"
    )


SQLITE_RANDOM = "lower(hex(randomblob(16)))"
POSTGRESQL_RANDOM = "md5(random()::text || clock_timestamp()::text)"


def sqlite_update_trigger(index: ListIndex, watched: WatchedTable, columns: Sequence[str]) -> str:
    return trigger_name(index, watched.table, "update_" + "_".join(columns))


def sqlite_triggers(quote, index: ListIndex, watched: WatchedTable) -> list[str]:
    """One trigger a row for each event, and one for the update of each part: SQLite has no other
    kind, and updates its token rows in place, so a bulk load of 400,000 rows costs it well under a
    second."""
    table = quote(watched.table)
    insert, delete = (quote(trigger_name(index, watched.table, event)) for event in ("insert", "delete"))
    statements = [f"DROP TRIGGER IF EXISTS {name}" for name in sqlite_trigger_names(quote, index, watched)]
    rows = moving_tokens([watched.rows_part], SQLITE_RANDOM)
    statements += [
        f"CREATE TRIGGER {insert} AFTER INSERT ON {table} BEGIN {rows} END",
        f"CREATE TRIGGER {delete} AFTER DELETE ON {table} BEGIN {rows} END",
    ]
    for part, columns in watched.updated_parts().items():
        listed = ", ".join(quote(column) for column in columns)
        changed = " OR ".join(f"old.{quote(column)} IS NOT new.{quote(column)}" for column in columns)
        name = quote(sqlite_update_trigger(index, watched, columns))
        statements.append(
            f"CREATE TRIGGER {name} AFTER UPDATE OF {listed} ON {table} "
            f"WHEN {changed} BEGIN {moving_tokens([part], SQLITE_RANDOM)} END"
        )
    return statements


def sqlite_trigger_names(quote, index: ListIndex, watched: WatchedTable) -> list[str]:
    names = [trigger_name(index, watched.table, event) for event in ("insert", "delete", "update")]
    names += [sqlite_update_trigger(index, watched, columns) for columns in watched.updated_parts().values()]
    return [quote(name) for name in names]  # "update": one trigger for every column, before parts


def postgresql_triggers(quote, index: ListIndex, watched: WatchedTable) -> list[str]:
    """Triggers once a statement: PostgreSQL keeps every version of a row a transaction updates,
    so moving a token once a row made a 300,000-row update take minutes. An update moves a part's
    token only if some row's column of that part changed, compared in the statement's old and new
    rows in one pass."""
    table, rows, update = (
        quote(watched.table),
        quote(trigger_name(index, watched.table, "write")),
        quote(trigger_name(index, watched.table, "update")),
    )
    key = quote(watched.key)
    parts = list(watched.updated_parts().items())
    changed = ", ".join(
        f"bool_or(({', '.join(f'before.{quote(c)}' for c in columns)}) "
        f"IS DISTINCT FROM ({', '.join(f'after.{quote(c)}' for c in columns)}))"
        for _, columns in parts
    )
    flags = [f"changed_{n}" for n in range(len(parts))]
    moves = " ".join(
        f"IF {flag} THEN {moving_tokens([part], POSTGRESQL_RANDOM)} END IF;"
        for flag, (part, _) in zip(flags, parts, strict=True)
    )
    return [
        f"DROP TRIGGER IF EXISTS {rows} ON {table}",
        f"DROP TRIGGER IF EXISTS {update} ON {table}",
        f"CREATE OR REPLACE FUNCTION {rows}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {moving_tokens([watched.rows_part], POSTGRESQL_RANDOM)} RETURN NULL; END $$",
        f"CREATE OR REPLACE FUNCTION {update}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"DECLARE {' '.join(f'{flag} boolean;' for flag in flags)} BEGIN "
        f"SELECT {changed} INTO {', '.join(flags)} FROM old_rows before "
        f"JOIN new_rows after ON after.{key} = before.{key}; {moves} RETURN NULL; END $$",
        f"CREATE TRIGGER {rows} AFTER INSERT OR DELETE OR TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {rows}()",
        f"CREATE TRIGGER {update} AFTER UPDATE ON {table} REFERENCING OLD TABLE AS old_rows "
        f"NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {update}()",
    ]


def remove_triggers(connection, indexes: Sequence[ListIndex]) -> None:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for index in indexes:
            for watched in index.watched():
                if connection.vendor == "postgresql":
                    for event in ("write", "update"):  # dropping the function drops its trigger
                        name = quote(trigger_name(index, watched.table, event))
                        cursor.execute(f"DROP FUNCTION IF EXISTS {name}() CASCADE")
                else:
                    for name in sqlite_trigger_names(quote, index, watched):
                        cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
