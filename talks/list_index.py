"""What a filtered list counts and orders by, held in memory by each server process.

A filtered list shows how many records match, how they divide by each facet, and one page of them in
order. Reading every match's facet values from the database costs microseconds a row in the driver
and in Python: at full size a broad filter (`/claims/?date_after=1900-01-01` matches all 300,000
claims) took two seconds. So each process keeps, for each list, its records' facet values as NumPy
arrays, and their ranks in each order the list offers. A request asks the database only which
records its filters match, as one string of ids, and counts and orders them in NumPy: a few
milliseconds whatever the number of matches. The filters themselves stay SQL, defined once in
talks/filters.py for the lists and their downloads alike.

The arrays are never stale. A trigger moves a list's token (`ListVersion`) in the same transaction
as every write to a column the arrays hold or the orders read, whoever writes: the admin, a bulk load
or raw SQL. A request reads the token before anything else and rebuilds arrays made under another
token, once per process after a change (`make bench` measures how long: for the claims with their
default order, about half a second at full size; other orders are ranked when first asked for).
Tokens are random, so a rolled-back write never leaves arrays of data that no longer exist under
the token of data that do.
"""

import logging
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.core.exceptions import FieldDoesNotExist
from django.db import DatabaseError, connections
from django.db.models import Aggregate, IntegerField, Model, QuerySet, TextField, Value
from django.db.models.expressions import OrderBy
from django.db.models.functions import Coalesce

from talks.models import ListVersion
from talks.querysets import compiled

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


CANDIDATES = FACET_CHOICES * 4  # the most frequent values read, of which FACET_CHOICES are shown


@dataclass
class FacetCounts:
    most_frequent: list[tuple[Any, int]]  # (value, count), most frequent first; no empty value
    missing: int  # how many matched records have no value


@dataclass
class FacetValues:
    """One facet's (record id, value code) pairs, and the value each code stands for."""

    records: np.ndarray
    codes: np.ndarray
    values: list

    def __post_init__(self):
        self.valued = np.array([value not in (None, "") for value in self.values], dtype=bool)

    def counts(self, matched: np.ndarray) -> FacetCounts:
        """How often the matched records have each of the most frequent values; ties go to the
        value that comes first. Only those few are turned into Python objects: a round facet has
        5,000 values."""
        tally = np.bincount(self.codes[matched[self.records]], minlength=len(self.values))
        missing = int(tally[-1]) if self.values and self.values[-1] is None else 0
        present = np.flatnonzero(tally * self.valued)
        if len(present) > CANDIDATES:  # the CANDIDATES-th largest count, and all above it
            threshold = np.partition(tally[present], len(present) - CANDIDATES)[len(present) - CANDIDATES]
            above, at = present[tally[present] > threshold], present[tally[present] == threshold]
            present = np.concatenate([above, at[: CANDIDATES - len(above)]])
        order = present[np.lexsort((present, -tally[present]))]
        return FacetCounts([(self.values[code], int(tally[code])) for code in order], missing)


def coded(records: Sequence[int], values: Sequence) -> FacetValues:
    """Pairs as arrays, values numbered in their own order: equally frequent values then come in
    that order (the lower id, the earlier word), the same on every request."""
    distinct = sorted(set(values), key=lambda value: (value is None, value))
    code_of = {value: code for code, value in enumerate(distinct)}
    return FacetValues(
        np.fromiter(records, dtype=np.int64, count=len(records)),
        np.fromiter(map(code_of.__getitem__, values), dtype=np.int32, count=len(values)),
        distinct,
    )


NO_NUMBER = -1  # a record without a value, among a numeric column's values (keys are positive)


def coded_numbers(records: np.ndarray, numbers: np.ndarray) -> FacetValues:
    """`coded` for a numeric column read as an array, NO_NUMBER for none: numbered by NumPy, in the
    same order (none last)."""
    distinct, codes = np.unique(numbers, return_inverse=True)
    values = distinct.tolist()
    if values and values[0] == NO_NUMBER:
        codes = np.where(codes == 0, len(values) - 1, codes - 1)
        values = [*values[1:], None]
    return FacetValues(records, codes.astype(np.int32), values)


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
    """`coded` for a column read as (value, its records' keys) groups; with `words`, each word of a
    value is a value of those records."""
    if words:
        groups = [(word, keys) for value, keys in groups for word in (value or "").split()]
    distinct = sorted({value for value, _ in groups}, key=lambda value: (value is None, value))
    code_of = {value: code for code, value in enumerate(distinct)}
    records = np.concatenate([keys for _, keys in groups]) if groups else np.empty(0, dtype=np.int64)
    codes = np.repeat(
        np.array([code_of[value] for value, _ in groups], dtype=np.int32),
        [len(keys) for _, keys in groups],
    )
    return FacetValues(records, codes, distinct)


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
class Snapshot:
    token: str | None
    size: int  # one more than the largest record id
    facets: dict[str, FacetValues]
    ranks: dict[str, np.ndarray] = field(default_factory=dict)  # by the ordering's SQL


@dataclass
class Counted:
    count: int
    facet_counts: dict[str, FacetCounts]
    ordered: OrderedMatches | None  # None: the list's order is left to the database


class ListIndex:
    """The in-memory counts and orders of one list (see the module's docstring).

    `orders` are the record's own columns the list may be ordered by; an order reading anything
    else is left to the database.
    """

    def __init__(self, name: str, model: type[Model], facets: Sequence[CountedFacet], orders: Sequence[str]):
        self.name, self.model, self.facets, self.orders = name, model, tuple(facets), tuple(orders)
        self._snapshots: dict[str, Snapshot] = {}  # by database alias
        self._lock = threading.Lock()

    def watched(self) -> list["WatchedTable"]:
        """The tables and columns whose writes move this list's token: those its facets and orders
        read. Keys are left out: Django never changes a record's key."""
        meta = self.model._meta
        own, links = [], {}
        for name in [*(facet.field for facet in self.facets), *self.orders]:
            if "__" in name:
                relation_name, column_name = name.split("__")
                relation = meta.get_field(relation_name)
                link = relation.related_model._meta
                columns = links.setdefault(link.db_table, [link.pk.column])
                columns += [relation.field.column, link.get_field(column_name).column]
            elif name not in ("pk", meta.pk.name):
                own.append(meta.get_field(name).column)
        tables = {meta.db_table: [meta.pk.column, *own], **links}
        return [
            WatchedTable(table, key, tuple(sorted(set(columns) - {key})))
            for table, (key, *columns) in tables.items()
        ]

    def count(self, queryset: QuerySet) -> Counted:
        """How many records of `queryset` there are, how they divide by each facet, and their order."""
        snapshot = self.snapshot(queryset.db)
        matched_ids = parsed_ids(queryset.order_by().aggregate(ids=MatchingIds("pk"))["ids"])
        if len(matched_ids) and matched_ids.max() >= snapshot.size:
            # A record written since the token was read: count with arrays that include it.
            snapshot = self.snapshot(queryset.db, rebuild=True)
        matched = np.zeros(snapshot.size, dtype=bool)
        matched[matched_ids] = True
        ids = np.flatnonzero(matched)
        facet_counts = {facet.param: snapshot.facets[facet.param].counts(matched) for facet in self.facets}
        ranks = self.ranks(snapshot, queryset)
        return Counted(len(ids), facet_counts, None if ranks is None else OrderedMatches(ids, ranks))

    def warm(self, querysets: Sequence[QuerySet]) -> None:
        """Build the arrays, and the ranks of the orders of `querysets`, now: a server process's
        first readers then do not wait for them. A database that is down or not yet migrated is
        left for the first request to meet."""
        try:
            for queryset in querysets:
                self.ranks(self.snapshot(queryset.db), queryset)
        except DatabaseError as error:
            logger.warning("The %s list's counts were not built at start: %s", self.name, error)

    def snapshot(self, alias: str, rebuild: bool = False) -> Snapshot:
        tokens = ListVersion.objects.using(alias).filter(name=self.name).values_list("token", flat=True)
        token = tokens.first()
        current = self._snapshots.get(alias)
        if current is not None and current.token == token and not rebuild:
            return current
        with self._lock:
            current = self._snapshots.get(alias)
            if current is None or current.token != token or rebuild:
                current = self.build(alias, token)
                self._snapshots[alias] = current
            return current

    def build(self, alias: str, token: str | None) -> Snapshot:
        """Every record's facet values, of published and unpublished records alike (the filters say
        which are public). Read after the token: arrays may be newer than their token, which only
        makes the next request rebuild them, but never older.

        Columns come as strings of numbers, not row by row through the driver, which took two
        thirds of the time: numeric columns in one pass over the table beside its keys, others
        grouped by value, each value with its records' keys."""
        records = self.model._base_manager.using(alias).order_by()
        own = [facet for facet in self.facets if not facet.to_many]
        numeric = [facet for facet in own if not facet.words and self.holds_numbers(facet.field)]
        numeric_params = {facet.param for facet in numeric}
        # GROUP_CONCAT leaves NULLs out, which would misalign the lists: NO_NUMBER stands in.
        as_text = {
            f"column_{n}": MatchingIds(Coalesce(facet.field, Value(NO_NUMBER)))
            for n, facet in enumerate(numeric)
        }
        columns = records.aggregate(keys=MatchingIds("pk"), **as_text)
        keys = parsed_ids(columns["keys"])
        facets = {
            facet.param: coded_numbers(keys, parsed_ids(columns[f"column_{n}"]))
            for n, facet in enumerate(numeric)
        }
        for facet in own:
            if facet.param not in numeric_params:
                groups = records.values(facet.field).annotate(keys=MatchingIds("pk"))
                groups = [
                    (value, parsed_ids(text)) for value, text in groups.values_list(facet.field, "keys")
                ]
                facets[facet.param] = coded_groups(groups, words=facet.words)
        largest = int(keys.max()) if len(keys) else 0
        for facet in self.facets:
            if facet.to_many:  # read from the link table alone: (record, value) pairs, once each
                relation_name, column = facet.field.split("__")
                relation = self.model._meta.get_field(relation_name)
                links = relation.related_model._base_manager.using(alias).order_by()
                links = links.filter(**{f"{column}__isnull": False}).aggregate(
                    records=MatchingIds(relation.field.attname), values=MatchingIds(column)
                )
                linked, values = distinct_pairs(parsed_ids(links["records"]), parsed_ids(links["values"]))
                facets[facet.param] = coded_numbers(linked, values)
                largest = max(largest, int(linked.max()) if len(linked) else 0)
        return Snapshot(token, largest + 1, facets)

    def holds_numbers(self, name: str) -> bool:
        field = self.model._meta.get_field(name)
        return isinstance(getattr(field, "target_field", field), IntegerField)

    def ranks(self, snapshot: Snapshot, queryset: QuerySet) -> np.ndarray | None:
        """Each record's place in the queryset's order, or None when that order reads anything but
        the columns the token watches (the database then orders the page itself)."""
        terms = self.ordering_of(queryset)
        if terms is None:
            return None
        everything = self.model._base_manager.using(queryset.db).order_by(*terms).values_list("pk")
        sql = compiled(everything)
        if sql is None:
            return None
        key = repr(sql)
        if key not in snapshot.ranks:
            with connections[queryset.db].cursor() as cursor:
                cursor.execute(*sql)
                in_order = np.fromiter((row[0] for row in cursor.fetchall()), dtype=np.int64)
            small = snapshot.size < 2**31
            ranks = np.full(snapshot.size, len(in_order), dtype=np.int32 if small else np.int64)
            in_order = in_order[in_order < snapshot.size]
            ranks[in_order] = np.arange(len(in_order))
            snapshot.ranks[key] = ranks
        return snapshot.ranks[key]

    def ordering_of(self, queryset: QuerySet) -> list | None:
        query, meta = queryset.query, self.model._meta
        terms = query.order_by or (meta.ordering if query.default_ordering else ())
        for term in terms:
            if isinstance(term, str):
                name = term.removeprefix("-")
            elif isinstance(term, OrderBy) and hasattr(term.expression, "name"):
                name = term.expression.name
            else:
                return None
            if name not in self.orders and not (name == "pk" and "id" in self.orders):
                return None
            try:
                meta.pk if name == "pk" else meta.get_field(name)
            except FieldDoesNotExist:
                return None
        # Ties broken by key, as the database would break them only by chance.
        return [*terms, "pk"]


@dataclass(frozen=True)
class WatchedTable:
    table: str
    key: str
    columns: tuple[str, ...]


# Triggers. On each watched table, inserts and deletes move the list's token, and so do updates
# that change a watched column. SQLite rebuilds a table for most schema changes and drops its
# triggers with it, so they are (re)installed after every `migrate` (talks.apps), not only by the
# migration that made the tokens' table.


def trigger_name(index: ListIndex, table: str, event: str) -> str:
    return f"{table}_{event}_moves_{index.name}"


def install_triggers(connection, indexes: Sequence[ListIndex]) -> None:
    """Create the triggers of every list index and give each list a fresh token (the tables may have
    changed while the triggers were gone)."""
    if ListVersion._meta.db_table not in connection.introspection.table_names():
        return  # migrated back before the tokens' table
    statements = postgresql_triggers if connection.vendor == "postgresql" else sqlite_triggers
    versions = connection.ops.quote_name(ListVersion._meta.db_table)
    with connection.cursor() as cursor:
        for index in indexes:
            for watched in index.watched():
                for statement in statements(connection.ops.quote_name, index, watched):
                    cursor.execute(statement)
            cursor.execute(
                f"INSERT INTO {versions} (name, token) VALUES (%s, %s) "
                f"ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token",
                [index.name, secrets.token_hex(16)],
            )


def moving_the_token(index: ListIndex, random_text: str) -> str:
    table = ListVersion._meta.db_table
    return (
        f"INSERT INTO {table} (name, token) VALUES ('{index.name}', {random_text}) "
        f"ON CONFLICT (name) DO UPDATE SET token = excluded.token;"
    )


def sqlite_triggers(quote, index: ListIndex, watched: WatchedTable) -> list[str]:
    """One trigger a row for each event: SQLite has no other kind, and updates its one token row
    in place, so a bulk load of 400,000 rows costs it well under a second."""
    move = moving_the_token(index, "lower(hex(randomblob(16)))")
    table, insert, delete, update = (
        quote(watched.table),
        *(quote(trigger_name(index, watched.table, event)) for event in ("insert", "delete", "update")),
    )
    listed = ", ".join(quote(column) for column in watched.columns)
    changed = " OR ".join(f"old.{quote(column)} IS NOT new.{quote(column)}" for column in watched.columns)
    return [
        *(f"DROP TRIGGER IF EXISTS {name}" for name in (insert, delete, update)),
        f"CREATE TRIGGER {insert} AFTER INSERT ON {table} BEGIN {move} END",
        f"CREATE TRIGGER {delete} AFTER DELETE ON {table} BEGIN {move} END",
        f"CREATE TRIGGER {update} AFTER UPDATE OF {listed} ON {table} WHEN {changed} BEGIN {move} END",
    ]


def postgresql_triggers(quote, index: ListIndex, watched: WatchedTable) -> list[str]:
    """Triggers once a statement: PostgreSQL keeps every version of a row a transaction updates,
    so moving the token once a row made a 300,000-row update take minutes. An update moves it only
    if some row's watched column changed, compared in the statement's old and new rows."""
    move = moving_the_token(index, "md5(random()::text || clock_timestamp()::text)")
    table, rows, update = (
        quote(watched.table),
        quote(trigger_name(index, watched.table, "write")),
        quote(trigger_name(index, watched.table, "update")),
    )
    key = quote(watched.key)
    before = ", ".join(f"before.{quote(column)}" for column in watched.columns)
    after = ", ".join(f"after.{quote(column)}" for column in watched.columns)
    return [
        f"DROP TRIGGER IF EXISTS {rows} ON {table}",
        f"DROP TRIGGER IF EXISTS {update} ON {table}",
        f"CREATE OR REPLACE FUNCTION {rows}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {move} RETURN NULL; END $$",
        f"CREATE OR REPLACE FUNCTION {update}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF EXISTS (SELECT FROM old_rows before JOIN new_rows after ON after.{key} = before.{key} "
        f"WHERE ({before}) IS DISTINCT FROM ({after})) THEN {move} END IF; RETURN NULL; END $$",
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
                    for event in ("insert", "delete", "update"):
                        cursor.execute(
                            f"DROP TRIGGER IF EXISTS {quote(trigger_name(index, watched.table, event))}"
                        )
