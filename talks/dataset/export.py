"""Writing the archive as a Frictionless data package: one CSV per table and `datapackage.json`.

Rows come from `table_rows()`, a generator kept apart from files and HTTP, so the same rows can feed
a download, a streamed response or the full dump.
"""

import csv
import datetime
import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db.models import QuerySet

from sources.records import PublicationStatus, Publishable
from talks.dataset.tables import ALIAS_SEPARATOR, TABLES, Column, Table

PACKAGE_NAME = "parley"
PACKAGE_TITLE = "Parley: the open archive of peace-talk rounds"
LICENSE = {
    "name": "CC-BY-4.0",
    "title": "Creative Commons Attribution 4.0 International",
    "path": "https://creativecommons.org/licenses/by/4.0/",
}
FORMAT_VERSION = "1"


def columns_for(table: Table, everything: bool) -> tuple[Column, ...]:
    """Every column for an editors' dump; only the public ones otherwise."""
    return table.columns if everything else table.public_columns()


def table_queryset(table: Table, everything: bool) -> QuerySet:
    """The table's rows in key order: all of them, or only those readers may see."""
    rows = table.model._default_manager.all()
    if not everything:
        rows = table.public(rows)
    return rows.order_by(*(table.column(name).orm_path for name in table.primary_key))


def reference_status_path(column: Column) -> str | None:
    """For a reference to a record with a publication status: where that status is read."""
    if column.reference and issubclass(column.reference.model, Publishable):
        return column.orm_path.rsplit("__", 1)[0] + "__publication_status"
    return None


def cell(column: Column, value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if column.multiline_list:
        return ALIAS_SEPARATOR.join(line.strip() for line in value.splitlines() if line.strip())
    return str(value)


def table_rows(table: Table, everything: bool = False, chunk_size: int = 2000) -> Iterator[list[str]]:
    """One list of cells per row, in column order, streamed from the database.

    In the public scope a reference to an unpublished record is left empty: readers must not learn
    that a draft exists.
    """
    columns = columns_for(table, everything)
    paths = [column.orm_path for column in columns]
    status_paths = {}
    if not everything:
        for index, column in enumerate(columns):
            status_path = reference_status_path(column)
            if status_path:
                status_paths[index] = len(paths)
                paths.append(status_path)
    queryset = table_queryset(table, everything).values_list(*paths)
    for values in queryset.iterator(chunk_size=chunk_size):
        row = [cell(column, value) for column, value in zip(columns, values, strict=False)]
        for index, status_index in status_paths.items():
            if values[status_index] != PublicationStatus.PUBLISHED:
                row[index] = ""
        yield row


def field_schema(column: Column) -> dict:
    schema = {"name": column.name, "type": column.type, "description": column.description}
    constraints = {}
    if column.required:
        constraints["required"] = True
    if column.choices:
        constraints["enum"] = list(column.choices)
    if column.type == "integer":
        constraints["minimum"] = 0
    if constraints:
        schema["constraints"] = constraints
    return schema


def table_schema(table: Table, everything: bool) -> dict:
    """The Frictionless Table Schema of one table."""
    return {
        "fields": [field_schema(column) for column in columns_for(table, everything)],
        "missingValues": [""],
        "primaryKey": list(table.primary_key),
        "foreignKeys": [
            {
                "fields": list(fields),
                # An empty resource name is Frictionless for "this same table".
                "reference": {
                    "resource": "" if target == table.name else target,
                    "fields": list(target_fields),
                },
            }
            for fields, target, target_fields in table.foreign_keys
        ],
    }


def package_descriptor(everything: bool, created: datetime.datetime) -> dict:
    """`datapackage.json`: what the package is, its licence, how to cite it, and every table's schema."""
    version = created.strftime("%Y.%m.%d")
    scope = "everything, drafts and editorial notes included" if everything else "published records"
    return {
        "profile": "tabular-data-package",
        "name": PACKAGE_NAME,
        "title": PACKAGE_TITLE,
        "description": (
            "Rounds of peace talks, the delegations and people at them, the issues discussed, and "
            "claims, each traced to the articles that reported it with an exact quote. "
            f"This package holds {scope}. Unknown values are empty cells, never guesses."
        ),
        "version": version,
        "created": created.isoformat(timespec="seconds"),
        "licenses": [LICENSE],
        "citation": f"{PACKAGE_TITLE}. Dataset version {version}, created {created.date().isoformat()}. "
        "Licensed CC BY 4.0. Cite the record keys you rely on.",
        "parley": {"format_version": FORMAT_VERSION, "scope": "all" if everything else "published"},
        "resources": [
            {
                "name": table.name,
                "path": table.file_name,
                "title": table.name.replace("_", " ").capitalize(),
                "description": table.description,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": table_schema(table, everything),
            }
            for table in TABLES
        ],
    }


@contextmanager
def package_writer(path: Path):
    """Yields `open_member(name)`, writing into a folder, or into a `.zip` holding one folder."""
    if path.suffix.lower() == ".zip":
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:

            @contextmanager
            def open_member(name):
                with archive.open(f"{path.stem}/{name}", "w") as raw:
                    text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                    yield text
                    text.flush()
                    text.detach()

            yield open_member
    else:
        path.mkdir(parents=True, exist_ok=True)

        @contextmanager
        def open_member(name):
            with open(path / name, "w", encoding="utf-8", newline="") as file:
                yield file

        yield open_member


def write_package(path: Path, everything: bool = False, created: datetime.datetime | None = None) -> dict:
    """Write the package to `path` (a folder, or a `.zip` file). Returns the row count of each table."""
    created = created or datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    counts = {}
    with package_writer(Path(path)) as open_member:
        for table in TABLES:
            with open_member(table.file_name) as file:
                writer = csv.writer(file, lineterminator="\r\n")
                writer.writerow([column.name for column in columns_for(table, everything)])
                counts[table.name] = 0
                for row in table_rows(table, everything):
                    writer.writerow(row)
                    counts[table.name] += 1
        with open_member("datapackage.json") as file:
            json.dump(package_descriptor(everything, created), file, indent=2, ensure_ascii=False)
            file.write("\n")
    return counts
