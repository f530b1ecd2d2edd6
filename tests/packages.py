"""Helpers for tests that read and write data packages."""

import csv
import io
import shutil
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction

from sources.models import Outlet, SourceArticle
from talks.models import (
    Citation,
    Claim,
    Delegation,
    Issue,
    Membership,
    Participant,
    Party,
    Round,
    Track,
)

SEED = Path(settings.BASE_DIR) / "talks" / "seed"
SHARED_SEEDS = Path(settings.BASE_DIR).parent / "shared" / "seeds"
ARCHIVE_MODELS = [
    Outlet,
    SourceArticle,
    Party,
    Track,
    Round,
    Delegation,
    Participant,
    Membership,
    Issue,
    Claim,
    Citation,
]


def copy_of_seed(folder: Path) -> Path:
    target = folder / "package"
    shutil.copytree(SEED, target)
    return target


def read_rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as file:
        csv.writer(file, lineterminator="\r\n").writerows(rows)


def write_table(folder: Path, name: str, rows: list[dict]) -> Path:
    """A package file of the table `name` with its public columns (and any other the rows fill):
    each row's cells as given, the others empty."""
    from talks.dataset.tables import TABLES_BY_FILE

    table = TABLES_BY_FILE[f"{name}.csv"]
    filled = {column for row in rows for column in row}
    header = [column.name for column in table.columns if not column.internal or column.name in filled]
    folder.mkdir(parents=True, exist_ok=True)
    write_rows(
        folder / table.file_name, [header] + [[row.get(column, "") for column in header] for row in rows]
    )
    return folder


def set_cell(path: Path, line: int, column: str, value: str) -> None:
    """Change one cell, naming the row by its line in the file (the header is line 1)."""
    rows = read_rows(path)
    rows[line - 1][rows[0].index(column)] = value
    write_rows(path, rows)


def archive_state() -> dict:
    """Every archive record, field by field: equal before and after means nothing changed."""
    state = {model.__name__: list(model.objects.order_by("pk").values()) for model in ARCHIVE_MODELS}
    state["claim issues"] = list(Claim.issues.through.objects.order_by("pk").values())
    return state


def empty_the_archive() -> None:
    """Delete every record of the archive's apps, with its history, log and stored counts.

    Rows go straight to the database in one transaction (the foreign keys are checked at its end),
    without the per-record signals that deleting through the ORM runs (history, change log,
    recounts): there is nothing left for them to keep right, and they took some 3 s a module on
    PostgreSQL. SQLite's search indexes follow through their triggers.
    """
    tables = [
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in ("sources", "talks")
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")


def import_seed() -> None:
    call_command("import_dataset", str(SEED), stdout=io.StringIO())
