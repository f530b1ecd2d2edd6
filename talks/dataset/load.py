"""Reading a data package into the archive.

A package is checked in stages, each once the one before it found nothing wrong:
1. every file, row by row: its header, each cell's type, allowed values and length, duplicate keys;
2. in one transaction, every row written in dependency order, each validated by its model as the
   admin's forms validate it, and each reference found in the package or in the archive;
3. every record the package publishes, held to the rules the admin's publish action applies
   (`publication_problems`: a claim's citation of a published article and its second reading, a
   disagreement's two published claims, a round's start date).
Any problem, a dry run, or a package that changes nothing rolls the transaction back: the archive,
its history, its corrections log and its dataset token stay as they were.

Files are read a row at a time (`talks.dataset.reading`), once to check and again to write, and never
held whole: what is kept from row to row is each table's keys. Rows are matched on their stable keys,
so importing a package twice changes nothing the second time, and records the package does not
mention are never touched.
"""

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from pathlib import Path

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from sources.record_base import PublicationStatus, Publishable
from talks import evidence
from talks.changes import one_entry_per_record
from talks.dataset.reading import FILE, ROW, CsvFile, Problem, package_members, too_long
from talks.dataset.tables import DATE, INTEGER, TABLES, TABLES_BY_FILE, Column, Table
from talks.models import Claim, keeping_checks

PACKAGE_DESCRIPTOR = "datapackage.json"
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
INTEGER_PATTERN = re.compile(r"\d+")
# Past this many, the problems are listed no further: a file bad on every row would otherwise fill
# memory with them, and the first thousand say what needs fixing.
MAX_PROBLEMS = 1000


@dataclass
class Row:
    line: int
    values: dict  # column name -> typed value; references are still keys

    def key(self, columns) -> tuple:
        return tuple(self.values[name] for name in columns)


@dataclass
class ImportResult:
    problems: list[Problem] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    updated: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    unchanged: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def changes(self) -> bool:
        return any(self.created.values()) or any(self.updated.values())


class RollBack(Exception):
    """Raised inside the transaction so that none of it is kept: a refused package, a dry run, or a
    package that changes nothing (whose refresh of the stored evidence would still touch the tables)."""


# Checking each file ---------------------------------------------------------------------------------


def convert(column: Column, limit: int, text: str) -> tuple[object, str | None]:
    """The typed value of one cell, or the reason it is not acceptable."""
    if len(text) > limit:
        return None, too_long(limit)
    if "\x00" in text:
        # PostgreSQL stores no NUL in text and would refuse it mid-import with a traceback.
        return None, "contains a NUL character (\\x00), which the archive cannot store"
    value = text.strip()
    if value == "":
        return ("" if column.type not in (DATE, INTEGER) else None), (
            "required: this column cannot be empty" if column.required else None
        )
    if column.type == DATE:
        if not DATE_PATTERN.fullmatch(value):
            return None, f"{value!r} is not a date: write it as YYYY-MM-DD"
        try:
            return datetime.date.fromisoformat(value), None
        except ValueError:
            return None, f"{value!r} is not a date on the calendar"
    if column.type == INTEGER:
        if not INTEGER_PATTERN.fullmatch(value):
            return None, f"{value!r} is not a whole number"
        return int(value), None
    if column.choices and value not in column.choices:
        return None, f"{value!r} is not one of the allowed values: {', '.join(column.choices)}"
    if column.multiline_list:
        return "\n".join(item.strip() for item in value.split(";") if item.strip()), None
    return value, None


def header_problems(table: Table, line: int, header: list[str]) -> list[Problem]:
    name, known = table.file_name, {column.name for column in table.columns}
    problems = [
        Problem(
            name, line, title or "(blank)", f"unknown column; {table.name} has: {', '.join(sorted(known))}"
        )
        for title in header
        if title not in known
    ]
    problems += [
        Problem(name, line, title, "this column appears twice")
        for title in set(header)
        if header.count(title) > 1
    ]
    problems += [
        Problem(name, line, column.name, "missing column")
        for column in table.public_columns()
        if column.name not in header
    ]
    return problems


class TableFile:
    """One table's file in the package: read row by row, each row typed and checked."""

    def __init__(self, file: CsvFile):
        self.file, self.table = file, file.table
        self.header: list[str] = []

    def rows(self, problems: list[Problem]):
        """The typed rows that have no problem of their own, from the file's beginning."""
        table, name = self.table, self.table.file_name
        lines = self.file.rows(problems)
        first = next(lines, None)
        if first is None:
            return
        line, cells = first
        self.header = [cell.strip() for cell in cells]
        wrong = header_problems(table, line, self.header)
        if wrong:
            problems.extend(wrong)
            lines.close()
            return
        columns = [(column, table.cell_limit(column)) for column in map(table.column, self.header)]
        for line, cells in lines:
            if len(cells) != len(columns):
                problems.append(
                    Problem(
                        name, line, ROW, f"this row has {len(cells)} cells; the header has {len(columns)}"
                    )
                )
                continue
            values, row_ok = {}, True
            for (column, limit), text in zip(columns, cells, strict=True):
                values[column.name], message = convert(column, limit, text)
                if message:
                    problems.append(Problem(name, line, column.name, message))
                    row_ok = False
            if row_ok:
                yield Row(line, values)


@dataclass
class Checked:
    """What checking a table's file keeps for writing it: where each key is, and for a table that
    refers to itself (issues and their parents), which key each row refers to."""

    file: TableFile
    lines: dict[tuple, int] = field(default_factory=dict)
    parents: dict[tuple, tuple] = field(default_factory=dict)


def self_reference(table: Table) -> tuple[str, ...] | None:
    return next((fields for fields, target, _ in table.foreign_keys if target == table.name), None)


def check_file(file: TableFile, problems: list[Problem]) -> Checked:
    table, checked = file.table, Checked(file)
    parent_fields = self_reference(table)
    for row in file.rows(problems):
        key = row.key(table.primary_key)
        if key in checked.lines:
            problems.append(
                Problem(
                    table.file_name,
                    row.line,
                    ", ".join(table.primary_key),
                    f"duplicate key {', '.join(map(str, key))!r}: first on line {checked.lines[key]}",
                )
            )
        else:
            checked.lines[key] = row.line
        if parent_fields and all(row.key(parent_fields)):
            checked.parents[key] = row.key(parent_fields)
        if len(problems) >= MAX_PROBLEMS:
            break
    check_cycles(checked, problems)
    return checked


def check_cycles(checked: Checked, problems: list[Problem]) -> None:
    if not checked.parents:
        return
    column = ", ".join(self_reference(checked.file.table))
    for key, line in checked.lines.items():
        seen, current = set(), key
        while current in checked.parents and current not in seen:
            seen.add(current)
            current = checked.parents[current]
            if current == key:
                problems.append(
                    Problem(checked.file.table.file_name, line, column, "the issue would sit beneath itself")
                )
                break


def depths(checked: Checked) -> dict[tuple, int]:
    """How many rows of the package each row sits beneath, so that each is written after its parent.
    (Cycles were refused when the file was checked.)"""
    found: dict[tuple, int] = {}
    for key in checked.lines:
        chain = []
        while key in checked.lines and key not in found:
            chain.append(key)
            key = checked.parents.get(key)
        depth = found.get(key, -1)  # a parent outside the package, or none, is written already
        for link in reversed(chain):
            depth += 1
            found[link] = depth
    return found


# Keys and references --------------------------------------------------------------------------------


class Keys:
    """Database ids by stable key, per table: from the package as it is written, else the database."""

    def __init__(self):
        self.ids: dict[str, dict[tuple, int]] = defaultdict(dict)

    def load(self, table: Table, keys: set[tuple]) -> None:
        """Look up, in one query, the keys not yet known."""
        missing = [key for key in keys if key not in self.ids[table.name]]
        if not missing:
            return
        paths = [table.column(name).orm_path for name in table.primary_key]
        condition = reduce(or_, (Q(**dict(zip(paths, key, strict=True))) for key in missing))
        for *key, pk in table.model._default_manager.filter(condition).values_list(*paths, "pk"):
            self.ids[table.name][tuple(key)] = pk

    def get(self, table: Table, key: tuple) -> int | None:
        if key not in self.ids[table.name]:
            self.load(table, {key})
        return self.ids[table.name].get(key)


def model_field(table: Table, fields: tuple[str, ...]) -> str:
    """The model field a group of reference columns fills: `delegation` for round and party."""
    return table.column(fields[0]).orm_path.split("__", 1)[0]


# Writing --------------------------------------------------------------------------------------------


class Writer:
    """Writes checked files into the archive, inside the caller's transaction."""

    def __init__(self, checked: dict[str, Checked], result: ImportResult, created_claims: set[int]):
        self.checked, self.result, self.created_claims = checked, result, created_claims
        self.keys = Keys()
        self.publishing: dict[str, list[tuple[int, int]]] = defaultdict(list)  # table -> (line, pk)
        self._kept: dict[str, set[str]] = {}

    def write(self) -> None:
        for table in TABLES:
            if table.name in self.checked:
                for row in self.rows_in_order(self.checked[table.name]):
                    self.write_row(table, row)
                    if len(self.result.problems) >= MAX_PROBLEMS:
                        return

    def rows_in_order(self, checked: Checked):
        """The file's rows, each after the row of the package it refers to in its own table."""
        if not checked.parents:
            yield from checked.file.rows(self.result.problems)
            return
        depth = depths(checked)
        table = checked.file.table
        for level in range(max(depth.values()) + 1):
            for row in checked.file.rows(self.result.problems):
                if depth[row.key(table.primary_key)] == level:
                    yield row

    def kept_by_archive(self, table: Table) -> set[str]:
        """Columns of fields editors cannot edit, which the archive keeps itself (the second reader's
        check): the package restores them on a record it creates; on one the archive holds, only the
        archive changes them."""
        if table.name not in self._kept:
            self._kept[table.name] = {
                column.name for column in table.columns if not table.field(column).editable
            }
        return self._kept[table.name]

    def references(self, table: Table, row: Row) -> dict[str, int | None] | None:
        """The ids the row's references name, by model field; None if one cannot be found."""
        ids, found = {}, True
        for fields, target_name, _ in table.foreign_keys:
            key = row.key(fields)
            attname = model_field(table, fields) + "_id"
            if any(part in ("", None) for part in key):
                ids[attname] = None
                continue
            target = TABLES_BY_NAME[target_name]
            ids[attname] = self.keys.get(target, key)
            if ids[attname] is None:
                found = False
                checked = self.checked.get(target_name)
                if checked is None or key not in checked.lines:
                    self.result.problems.append(
                        Problem(
                            table.file_name,
                            row.line,
                            ", ".join(fields),
                            f"refers to {', '.join(key)!r}, which is neither in {target.file_name} "
                            "nor in the archive",
                        )
                    )
                # else: the row it refers to was refused, and that problem is reported at its line.
        return ids if found else None

    def write_row(self, table: Table, row: Row) -> None:
        fk_values = self.references(table, row)
        if fk_values is None:
            return
        fk_columns = {name for fields, _, _ in table.foreign_keys for name in fields}
        lookup = {}
        for name in table.primary_key:
            if name in fk_columns:
                fields = next(f for f, _, _ in table.foreign_keys if name in f)
                attname = model_field(table, fields) + "_id"
                lookup[attname] = fk_values[attname]
            else:
                lookup[name] = row.values[name]
        record = table.model._default_manager.filter(**lookup).first()
        created = record is None
        if created:
            record = table.model(**lookup)
        was_published = getattr(record, "publication_status", None) == PublicationStatus.PUBLISHED

        new_values = dict(fk_values)
        for name in self.checked[table.name].file.header:
            if name not in fk_columns and (created or name not in self.kept_by_archive(table)):
                new_values[name] = row.values[name]
        changed = [attname for attname, value in new_values.items() if getattr(record, attname) != value]
        for attname in changed:
            setattr(record, attname, new_values[attname])

        if created or changed:
            try:
                record.full_clean()
                with transaction.atomic():  # a savepoint: a refused row must not abort the transaction
                    record.save()
            except ValidationError as error:
                self.report(table, row, error)
                return
            except IntegrityError as error:
                self.result.problems.append(
                    Problem(table.file_name, row.line, ROW, f"refused by the database: {error}")
                )
                return
            if created and table.model is Claim:
                self.created_claims.add(record.pk)
            if isinstance(record, Publishable) and record.is_published and not was_published:
                self.publishing[table.name].append((row.line, record.pk))
        (self.result.created if created else self.result.updated if changed else self.result.unchanged)[
            table.name
        ] += 1
        self.keys.ids[table.name][row.key(table.primary_key)] = record.pk

    def report(self, table: Table, row: Row, error: ValidationError) -> None:
        columns_of = {model_field(table, fields): ", ".join(fields) for fields, _, _ in table.foreign_keys}
        for field_name, messages in error.message_dict.items():
            column = ROW if field_name == NON_FIELD_ERRORS else columns_of.get(field_name, field_name)
            for message in messages:
                self.result.problems.append(Problem(table.file_name, row.line, column, message))

    def check_publishing(self) -> None:
        """The records the package publishes, as written, against the admin's publishing rules."""
        for table_name, published in self.publishing.items():
            table = TABLES_BY_NAME[table_name]
            for start in range(0, len(published), 500):
                batch = published[start : start + 500]
                records = table.model._default_manager.in_bulk([pk for _, pk in batch])
                for line, pk in batch:
                    for problem in records[pk].publication_problems():
                        self.result.problems.append(
                            Problem(
                                table.file_name, line, "publication_status", f"cannot be published: {problem}"
                            )
                        )


def import_package(path: Path, dry_run: bool = False) -> ImportResult:
    """Check the whole package, then write it in one transaction; on any problem write nothing."""
    result = ImportResult()
    checked: dict[str, Checked] = {}
    with package_members(path, result.problems) as members:
        for name, opener in members.items():
            if name == PACKAGE_DESCRIPTOR or not name.lower().endswith(".csv"):
                continue
            table = TABLES_BY_FILE.get(name)
            if table is None:
                known = ", ".join(table.file_name for table in TABLES)
                result.problems.append(Problem(name, 1, FILE, f"not a Parley table; the tables are: {known}"))
                continue
            checked[table.name] = check_file(TableFile(CsvFile(table, opener)), result.problems)
            if len(result.problems) >= MAX_PROBLEMS:
                result.problems.append(
                    Problem(
                        name, 1, FILE, f"checking stopped after {MAX_PROBLEMS:,} problems; fix these first"
                    )
                )
                break
        if not checked and not result.problems:
            result.problems.append(Problem(str(path), 1, FILE, "no Parley tables (CSV files) found here"))
        if not result.problems:
            write(checked, result, dry_run)
    result.problems.sort(key=lambda problem: (problem.file, problem.line, problem.column))
    return result


def write(checked: dict[str, Checked], result: ImportResult, dry_run: bool) -> None:
    try:
        # Counts are refreshed once at the end, not after each of possibly thousands of rows.
        # The corrections log gets one entry per record published or visibly changed.
        with (
            transaction.atomic(),
            one_entry_per_record(),
            evidence.deferred(),
            keeping_checks() as created_claims,
        ):
            writer = Writer(checked, result, created_claims)
            writer.write()
            if not result.problems:
                writer.check_publishing()
            if result.problems or dry_run or not result.changes:
                raise RollBack
    except RollBack:
        pass


TABLES_BY_NAME = {table.name: table for table in TABLES}
