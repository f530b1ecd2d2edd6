"""Helpers for tests that read and write data packages."""

import csv
import io
import shutil
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management import call_command

from sources.models import Outlet, SourceArticle
from talks.models import (
    Citation,
    Claim,
    Delegation,
    Issue,
    Membership,
    Participant,
    Party,
    PublicChange,
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
    """Delete every record, dependants first (references are protected), then its history and log."""
    Citation.objects.all().delete()
    Claim.objects.all().delete()
    while Issue.objects.exists():
        Issue.objects.filter(children__isnull=True).delete()
    for model in [Membership, Delegation, Round, Participant, Track, Party, SourceArticle, Outlet]:
        model.objects.all().delete()
    PublicChange.objects.all().delete()
    for model in apps.get_models():
        if model._meta.app_label in ("sources", "talks") and model.__name__.startswith("Historical"):
            model.objects.all().delete()


def import_seed() -> None:
    call_command("import_dataset", str(SEED), stdout=io.StringIO())
