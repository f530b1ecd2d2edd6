"""Writing the archive as a Frictionless data package: one CSV per table and `datapackage.json`.

Rows come from `table_rows()`, a generator kept apart from files and HTTP, so the same rows can feed
a download, a streamed response or the full dump.
"""

import csv
import datetime
import hashlib
import io
import itertools
import json
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from sources.record_base import Publishable, list_items, public_condition
from talks.dataset.tables import ALIAS_SEPARATOR, TABLES, Column, Table

PACKAGE_NAME = "parley"
PACKAGE_TITLE = "Parley: the open archive of peace-talk rounds"
LICENSE = {
    "name": "CC-BY-4.0",
    "title": "Creative Commons Attribution 4.0 International",
    "path": "https://creativecommons.org/licenses/by/4.0/",
}
# 2: claims say how they are sourced and dated, citations are keyed by their quote, disagreements.
FORMAT_VERSION = "2"


def columns_for(table: Table, everything: bool) -> tuple[Column, ...]:
    """Every column for an editors' dump; only the public ones otherwise."""
    return table.columns if everything else table.public_columns()


def table_queryset(table: Table, everything: bool) -> QuerySet:
    """The table's rows in key order: all of them, or only those readers may see."""
    rows = table.model._default_manager.all()
    if not everything:
        rows = table.public(rows)
    return rows.order_by(*(table.column(name).orm_path for name in table.primary_key))


def reference_condition(column: Column) -> Q | None:
    """For a reference to a record with a publication status: whether the record referred to is
    public, as a condition on the rows holding the reference (`published()`'s rule, through it)."""
    if column.reference and issubclass(column.reference.model, Publishable):
        return public_condition(column.reference.model, column.orm_path.rsplit("__", 1)[0] + "__")
    return None


def cell(column: Column, value) -> str:
    """A typed value as CSV text: empty when unknown, ISO dates, lists joined with "; "."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, list):
        return ALIAS_SEPARATOR.join(value)
    return str(value)


def related_values(model, column: Column, pks: list[int], everything: bool) -> dict[int, list[str]]:
    """For a many-to-many column: the related records' values for each of these rows, in one query."""
    field = model._meta.get_field(column.many_to_many)
    through = field.remote_field.through
    source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
    links = through.objects.filter(**{f"{source}_id__in": pks})
    if not everything and issubclass(field.related_model, Publishable):
        links = links.filter(public_condition(field.related_model, f"{target}__"))
    found: dict[int, list[str]] = {}
    for pk, value in links.order_by(f"{target}__{column.path}").values_list(
        f"{source}_id", f"{target}__{column.path}"
    ):
        found.setdefault(pk, []).append(value)
    return found


def typed_rows(
    columns, queryset: QuerySet, everything: bool = False, batch_size: int = 2000
) -> Iterator[list]:
    """One list of typed values per row, in column order, streamed from the database in batches.

    Unknown values are None; list columns hold lists. In the public scope a reference to an
    unpublished record is None: readers must not learn that a draft exists.
    """
    plain = [column for column in columns if not column.many_to_many]
    paths = ["pk", *(column.orm_path for column in plain)]
    hidden_unless_published = {}
    if not everything:
        for column in plain:
            condition = reference_condition(column)
            if condition is not None:
                hidden_unless_published[column.name] = len(paths)
                paths.append(ExpressionWrapper(condition, output_field=BooleanField()))
    rows = queryset.values_list(*paths).iterator(chunk_size=batch_size)
    while batch := list(itertools.islice(rows, batch_size)):
        related = {
            column.name: related_values(queryset.model, column, [values[0] for values in batch], everything)
            for column in columns
            if column.many_to_many
        }
        for values in batch:
            by_name = dict(zip((column.name for column in plain), values[1:], strict=False))
            for name, public_index in hidden_unless_published.items():
                if not values[public_index]:
                    by_name[name] = None
            row = []
            for column in columns:
                if column.many_to_many:
                    row.append(related[column.name].get(values[0], []))
                elif column.multiline_list:
                    row.append(list_items(by_name[column.name]))
                else:
                    row.append(None if by_name[column.name] == "" else by_name[column.name])
            yield row


def table_rows(table: Table, everything: bool = False) -> Iterator[list]:
    """The package rows of one table: typed values, in key order."""
    return typed_rows(columns_for(table, everything), table_queryset(table, everything), everything)


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


def live_version(token: str | None) -> str:
    """The version of a package of the archive as it is now, not a release: named by the state of the
    archive it holds (`talks.dataset.state`), so two packages of different states never share a
    version. Only a release's version (talks/releases.py) is meant to be cited."""
    return f"live-{(token or 'untracked')[:12]}"


def package_descriptor(
    everything: bool, created: datetime.datetime, version: str, file_facts: dict | None = None
) -> dict:
    """`datapackage.json`: what the package is, its licence, how to cite it, and every table's schema.
    `file_facts` gives each table's file's SHA-256 and size, which `frictionless validate` checks."""
    scope = "everything, drafts and editorial notes included" if everything else "published records"
    released = not version.startswith("live-")
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
        "citation": (
            f"{PACKAGE_TITLE}. Dataset version {version}, released {created.date().isoformat()}. "
            "Licensed CC BY 4.0. Cite the version and the record keys you rely on."
            if released
            else f"{PACKAGE_TITLE}. Live export of {created.isoformat(timespec='seconds')} ({version}), "
            "not a release: cite a release (see /releases/) so that others can get the same data."
        ),
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
                **(file_facts or {}).get(table.file_name, {}),
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
                member = zipfile.ZipInfo(f"{path.stem}/{name}", date_time=time.localtime()[:6])
                member.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(member, "w") as raw:
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


def write_package(
    path: Path,
    everything: bool = False,
    created: datetime.datetime | None = None,
    version: str | None = None,
) -> dict:
    """Write the package to `path` (a folder, or a `.zip` file). Returns the row count of each table.

    Written to a folder, `datapackage.json` also records each table file's SHA-256 and size."""
    from talks.dataset.state import dataset_token

    path = Path(path)
    created = created or datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    version = version or live_version(dataset_token())
    counts = {}
    with package_writer(path) as open_member:
        for table in TABLES:
            with open_member(table.file_name) as file:
                writer = csv.writer(file, lineterminator="\r\n")
                writer.writerow([column.name for column in columns_for(table, everything)])
                counts[table.name] = 0
                columns = columns_for(table, everything)
                for row in table_rows(table, everything):
                    writer.writerow([cell(column, value) for column, value in zip(columns, row, strict=True)])
                    counts[table.name] += 1
        file_facts = None
        if path.suffix.lower() != ".zip":
            file_facts = {
                table.file_name: {
                    "hash": f"sha256:{sha256_of(path / table.file_name)}",
                    "bytes": (path / table.file_name).stat().st_size,
                }
                for table in TABLES
            }
        with open_member("datapackage.json") as file:
            descriptor = package_descriptor(everything, created, version, file_facts)
            json.dump(descriptor, file, indent=2, ensure_ascii=False)
            file.write("\n")
    return counts


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
