"""Reading a data package into the archive.

Every file and row is checked before anything is written; then the rows are written in one
transaction, each validated by its model as the admin would. Any problem anywhere leaves the database
as it was. Rows are matched on their stable keys, so importing a package twice changes nothing the
second time, and records the package does not mention are never touched.
"""

import csv
import datetime
import io
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from pathlib import Path

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from talks import tallies
from talks.changes import one_entry_per_record
from talks.dataset.tables import DATE, INTEGER, TABLES, TABLES_BY_FILE, Column, Table
from talks.models import keeping_checks

PACKAGE_DESCRIPTOR = "datapackage.json"
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
INTEGER_PATTERN = re.compile(r"\d+")
# Article texts pasted for quote checks can be long; the csv module's default cap is 128 KB a cell.
csv.field_size_limit(16 * 1024 * 1024)
FILE = "(file)"
ROW = "(row)"


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    column: str
    message: str

    def __str__(self):
        return f"{self.file}:{self.line}: {self.column}: {self.message}"


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


class PackageRefused(Exception):
    """Raised inside the transaction so that nothing of a refused package is kept."""


# Reading the files ----------------------------------------------------------------------------------


def read_files(path: Path) -> dict[str, bytes]:
    """The package's files by name, from a folder or from a `.zip` (files at its root or in one folder)."""
    path = Path(path)
    if path.is_dir():
        return {child.name: child.read_bytes() for child in sorted(path.iterdir()) if child.is_file()}
    if path.suffix.lower() == ".zip" and path.is_file():
        with zipfile.ZipFile(path) as archive:
            names = [name for name in archive.namelist() if not name.endswith("/")]
            folders = {name.split("/", 1)[0] for name in names if "/" in name}
            prefix = f"{folders.pop()}/" if len(folders) == 1 and all("/" in name for name in names) else ""
            return {
                name[len(prefix) :]: archive.read(name) for name in names if "/" not in name[len(prefix) :]
            }
    raise FileNotFoundError(f"{path} is neither a folder nor a .zip file")


def decode(name: str, raw: bytes, problems: list[Problem]) -> str | None:
    if raw.startswith(b"\xef\xbb\xbf"):  # the byte-order mark spreadsheets add
        raw = raw[3:]
    if not raw.strip():
        problems.append(Problem(name, 1, FILE, "the file is empty: it needs at least a header row"))
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        problems.append(
            Problem(
                name,
                line,
                FILE,
                f"not UTF-8 text (byte 0x{raw[error.start]:02X} cannot be read); save the file as UTF-8",
            )
        )
        return None


def convert(column: Column, text: str) -> tuple[object, str | None]:
    """The typed value of one cell, or the reason it is not acceptable."""
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


def parse_table(table: Table, text: str, problems: list[Problem]) -> tuple[list[str], list[Row]]:
    """The file's header and typed rows; what cannot be read becomes a problem."""
    name = table.file_name
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [cell.strip() for cell in next(reader)]
    except (StopIteration, csv.Error) as error:
        problems.append(Problem(name, 1, FILE, f"no header row could be read ({error})"))
        return [], []
    known = {column.name for column in table.columns}
    header_problems = [
        Problem(name, 1, title or "(blank)", f"unknown column; {table.name} has: {', '.join(sorted(known))}")
        for title in header
        if title not in known
    ]
    header_problems += [
        Problem(name, 1, title, "this column appears twice")
        for title in set(header)
        if header.count(title) > 1
    ]
    header_problems += [
        Problem(name, 1, column.name, "missing column")
        for column in table.public_columns()
        if column.name not in header
    ]
    if header_problems:
        problems.extend(header_problems)
        return header, []

    columns = [table.column(title) for title in header]
    rows, first_seen = [], {}
    line = reader.line_num + 1
    try:
        for cells in reader:
            row_line, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(columns):
                problems.append(
                    Problem(
                        name, row_line, ROW, f"this row has {len(cells)} cells; the header has {len(columns)}"
                    )
                )
                continue
            values, row_ok = {}, True
            for column, text_value in zip(columns, cells, strict=True):
                values[column.name], message = convert(column, text_value)
                if message:
                    problems.append(Problem(name, row_line, column.name, message))
                    row_ok = False
            if not row_ok:
                continue
            row = Row(row_line, values)
            key = row.key(table.primary_key)
            if key in first_seen:
                problems.append(
                    Problem(
                        name,
                        row_line,
                        ", ".join(table.primary_key),
                        f"duplicate key {', '.join(map(str, key))!r}: first on line {first_seen[key]}",
                    )
                )
                continue
            first_seen[key] = row_line
            rows.append(row)
    except csv.Error as error:
        problems.append(Problem(name, reader.line_num, ROW, f"not valid CSV: {error}"))
    return header, rows


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

    def get(self, table_name: str, key: tuple) -> int | None:
        return self.ids[table_name].get(key)


def foreign_key_values(table: Table, row: Row):
    """Each foreign key of the row that is filled in: (its columns, target table, the key it names)."""
    for fields, target_name, _ in table.foreign_keys:
        key = row.key(fields)
        if all(part not in ("", None) for part in key):
            yield fields, TABLES_BY_NAME[target_name], key


def check_references(parsed: dict[str, list[Row]], keys: Keys, problems: list[Problem]) -> None:
    """Every key a row refers to exists, in the package or in the archive."""
    in_package = {
        name: {row.key(TABLES_BY_NAME[name].primary_key) for row in rows} for name, rows in parsed.items()
    }
    for name, rows in parsed.items():
        table = TABLES_BY_NAME[name]
        needed = defaultdict(set)
        for row in rows:
            for _, target, key in foreign_key_values(table, row):
                if key not in in_package.get(target.name, ()):
                    needed[target.name].add(key)
        for target_name, target_keys in needed.items():
            keys.load(TABLES_BY_NAME[target_name], target_keys)
        for row in rows:
            for fields, target, key in foreign_key_values(table, row):
                if key not in in_package.get(target.name, ()) and keys.get(target.name, key) is None:
                    problems.append(
                        Problem(
                            table.file_name,
                            row.line,
                            ", ".join(fields),
                            f"refers to {', '.join(key)!r}, which is neither in {target.file_name} "
                            "nor in the archive",
                        )
                    )
    if "issues" in parsed:
        check_issue_cycles(parsed["issues"], problems)


def check_issue_cycles(rows: list[Row], problems: list[Problem]) -> None:
    parent_of = {row.values["slug"]: row.values["parent"] for row in rows}
    for row in rows:
        seen, current = set(), row.values["slug"]
        while current in parent_of and parent_of[current] and current not in seen:
            seen.add(current)
            current = parent_of[current]
            if current == row.values["slug"]:
                problems.append(
                    Problem("issues.csv", row.line, "parent", "the issue would sit beneath itself")
                )
                break


def parents_first(rows: list[Row]) -> list[Row]:
    """Issues ordered so each parent in the package is written before its sub-issues."""
    by_slug = {row.values["slug"]: row for row in rows}
    ordered, placed = [], set()

    def place(row):
        if row.values["slug"] in placed:
            return
        placed.add(row.values["slug"])
        parent = by_slug.get(row.values["parent"])
        if parent:
            place(parent)
        ordered.append(row)

    for row in rows:
        place(row)
    return ordered


# Writing --------------------------------------------------------------------------------------------


def model_field(table: Table, fields: tuple[str, ...]) -> str:
    """The model field a group of reference columns fills: `delegation` for round and party."""
    return table.column(fields[0]).orm_path.split("__", 1)[0]


def write_row(table: Table, header: list[str], row: Row, keys: Keys, result: ImportResult) -> None:
    fk_columns = {name for fields, _, _ in table.foreign_keys for name in fields}
    fk_values, unresolved = {}, False
    for fields, target_name, _ in table.foreign_keys:
        key = row.key(fields)
        if all(part not in ("", None) for part in key):
            pk = keys.get(target_name, key)
            if pk is None:
                keys.load(TABLES_BY_NAME[target_name], {key})
                pk = keys.get(target_name, key)
            unresolved = unresolved or pk is None
            fk_values[model_field(table, fields) + "_id"] = pk
        else:
            fk_values[model_field(table, fields) + "_id"] = None
    if unresolved:
        return  # the record it refers to was refused above, and that problem is already reported

    lookup = {}
    for name in table.primary_key:
        if name in fk_columns:
            fields = next(f for f, _, _ in table.foreign_keys if name in f)
            attname = model_field(table, fields) + "_id"
            lookup[attname] = fk_values[attname]
        else:
            lookup[name] = row.values[name]
    manager = table.model._default_manager
    record = manager.filter(**lookup).first()
    created = record is None
    if created:
        record = table.model(**lookup)

    new_values = dict(fk_values)
    new_values.update({name: row.values[name] for name in header if name not in fk_columns})
    changed = [attname for attname, value in new_values.items() if getattr(record, attname) != value]
    for attname in changed:
        setattr(record, attname, new_values[attname])

    if created or changed:
        try:
            record.full_clean()
            with transaction.atomic():  # a savepoint: a refused row must not abort the whole transaction
                record.save()
        except ValidationError as error:
            columns_of = {
                model_field(table, fields): ", ".join(fields) for fields, _, _ in table.foreign_keys
            }
            for field_name, messages in error.message_dict.items():
                column = ROW if field_name == NON_FIELD_ERRORS else columns_of.get(field_name, field_name)
                for message in messages:
                    result.problems.append(Problem(table.file_name, row.line, column, message))
            return
        except IntegrityError as error:
            result.problems.append(
                Problem(table.file_name, row.line, ROW, f"refused by the database: {error}")
            )
            return
    (result.created if created else result.updated if changed else result.unchanged)[table.name] += 1
    keys.ids[table.name][row.key(table.primary_key)] = record.pk


def import_package(path: Path, dry_run: bool = False) -> ImportResult:
    """Check the whole package, then write it in one transaction; on any problem write nothing."""
    result = ImportResult()
    files = read_files(path)
    parsed: dict[str, list[Row]] = {}
    headers: dict[str, list[str]] = {}
    for name, raw in files.items():
        if name == PACKAGE_DESCRIPTOR or not name.lower().endswith(".csv"):
            continue
        table = TABLES_BY_FILE.get(name)
        if table is None:
            known = ", ".join(table.file_name for table in TABLES)
            result.problems.append(Problem(name, 1, FILE, f"not a Parley table; the tables are: {known}"))
            continue
        text = decode(name, raw, result.problems)
        if text is not None:
            headers[table.name], parsed[table.name] = parse_table(table, text, result.problems)
    if not parsed and not result.problems:
        result.problems.append(Problem(str(path), 1, FILE, "no Parley tables (CSV files) found here"))

    keys = Keys()
    if not result.problems:
        check_references(parsed, keys, result.problems)
    if result.problems:
        return result

    try:
        # Counts are refreshed once at the end, not after each of possibly thousands of rows.
        # The package's check dates stand for its claims as written, citations included.
        # The corrections log gets one entry per record published or visibly changed.
        with transaction.atomic(), one_entry_per_record(), tallies.deferred(), keeping_checks():
            for table in TABLES:
                if table.name not in parsed:
                    continue
                rows = parsed[table.name]
                if table.name == "issues":
                    rows = parents_first(rows)
                for row in rows:
                    write_row(table, headers[table.name], row, keys, result)
            if result.problems or dry_run:
                raise PackageRefused
    except PackageRefused:
        pass
    result.problems.sort(key=lambda problem: (problem.file, problem.line, problem.column))
    return result


TABLES_BY_NAME = {table.name: table for table in TABLES}
