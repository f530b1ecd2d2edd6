"""Releases: frozen, citable data packages of the published archive.

A chief editor cuts a release (`manage.py cut_release`, or "Add release" in the admin). It is the
public data package (talks/dataset/export.py) read from one snapshot of the database, with:

- a version never used before, even by a release cut earlier the same day: `2026.12.03.1`, `.2`, ...;
- `CITATION.cff` (type: dataset), so that citation tools cite the version;
- a changelog against the previous release: the keys of the records added, changed, withdrawn or
  otherwise removed, table by table (`CHANGELOG.md` for people, `changelog.json` for programs);
- the SHA-256 and size of every table file in `datapackage.json` (which `frictionless validate`
  checks), and `SHA256SUMS` for every file (`sha256sum -c SHA256SUMS`).

Its zip is kept in RELEASES_DIR for ever, its checksum in the `Release` row: /releases/ serves both.
"""

import csv
import datetime
import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.urls import reverse
from django.utils import timezone

from sources.record_base import PublicationStatus, Publishable
from talks.citing import PUBLISHER
from talks.dataset.export import LICENSE, PACKAGE_TITLE, sha256_of, write_package
from talks.dataset.tables import TABLES, Table
from talks.models import Release

CHANGE_KINDS = ("added", "changed", "withdrawn", "removed")
# How many keys of each kind of change the release's row keeps for its page; the zip has them all.
KEYS_SHOWN = 20
# CHANGELOG.md lists the keys of a kind of change up to this many; changelog.json always lists all.
KEYS_LISTED = 1000
# Any number, the same in every process: the advisory lock that makes cuts take turns on PostgreSQL.
RELEASE_LOCK = 2026_12_03


class ReleaseError(Exception):
    """A release could not be cut; nothing was saved."""


def releases_dir() -> Path:
    return Path(settings.RELEASES_DIR)


def release_file(release: Release) -> Path:
    return releases_dir() / release.file_name


def next_version(day: datetime.date) -> str:
    """The day's next version: `2026.12.03.1`, then `.2`. Counted from the releases recorded and
    from the files in RELEASES_DIR, so that a database restored from a backup older than a release
    never gives that release's version, and its file, to different data."""
    prefix = f"{day:%Y.%m.%d}."
    recorded = Release.objects.filter(version__startswith=prefix).values_list("version", flat=True)
    on_disk = [
        path.name.removeprefix("parley-").removesuffix(".zip")
        for path in releases_dir().glob(f"parley-{prefix}*.zip")
    ]
    serials = [
        int(version.removeprefix(prefix))
        for version in [*recorded, *on_disk]
        if version.removeprefix(prefix).isdigit()
    ]
    return f"{prefix}{max(serials, default=0) + 1}"


@contextmanager
def one_snapshot(using: str = DEFAULT_DB_ALIAS):
    """Every read inside sees the database as it was at one moment, whatever is written meanwhile.

    On PostgreSQL, a REPEATABLE READ, READ ONLY transaction. On SQLite, a read transaction: a plain
    BEGIN, since Django's transactions here begin IMMEDIATE, taking the write lock, which would stop
    editors for as long as the release takes; in WAL mode a reader keeps the snapshot of its first
    read while writers go on. Inside a caller's transaction (the tests') that transaction is the
    snapshot."""
    connection = connections[using]
    if connection.in_atomic_block:
        yield
        return
    if connection.vendor == "postgresql":
        with transaction.atomic(using=using):
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
        return
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("COMMIT")


def row_key(table: Table, header: list[str], row: list[str]) -> str:
    """A row's key as text: its key columns' values, joined by " / " when there are several."""
    return " / ".join(row[header.index(name)] for name in table.primary_key)


def csv_rows(file) -> tuple[list[str], Iterator[list[str]]]:
    reader = csv.reader(file)
    return next(reader, []), reader


class KeysOfAKind:
    """The keys of one kind of change to one table: counted, the first KEYS_LISTED kept for the
    pages and CHANGELOG.md, and every one written to a file, one JSON string a line, for
    changelog.json: the first release lists every key of the archive, which memory need not hold."""

    def __init__(self, path: Path):
        self.path = path
        self.count = 0
        self.first: list[str] = []
        self.file = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed by close()

    def add(self, key: str) -> None:
        self.count += 1
        if len(self.first) < KEYS_LISTED:
            self.first.append(key)
        self.file.write(json.dumps(key, ensure_ascii=False) + "\n")

    def close(self) -> None:
        self.file.close()

    def encoded(self) -> Iterator[str]:
        """Every key, as the JSON string it was written as."""
        with open(self.path, encoding="utf-8") as file:
            for line in file:
                yield line.rstrip("\n")


def digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=16).digest())


def row_digest(header: list[str], row: list[str]) -> int:
    """A digest of a row's cells by column name, so that a column moved in the file is no change."""
    return digest(json.dumps(sorted(zip(header, row, strict=True)), ensure_ascii=False))


def previous_rows(previous: zipfile.ZipFile | None, member: str) -> Iterator[tuple[list[str], list[str]]]:
    if previous is None or member not in previous.namelist():
        return
    with previous.open(member) as raw:
        header, rows = csv_rows(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
        for row in rows:
            yield header, row


def withdrawn_keys(table: Table, keys: list[str]) -> set[str]:
    """Of these keys of a table of records with a publication status, those withdrawn now."""
    if not keys or len(table.primary_key) != 1 or not issubclass(table.model, Publishable):
        return set()
    column = table.column(table.primary_key[0])
    withdrawn = set()
    for start in range(0, len(keys), 500):
        withdrawn.update(
            table.model._base_manager.filter(
                **{f"{column.orm_path}__in": keys[start : start + 500]},
                publication_status=PublicationStatus.WITHDRAWN,
            ).values_list(column.orm_path, flat=True)
        )
    return withdrawn


def compare_with(
    previous_zip: Path | None, folder: Path, workspace: Path
) -> dict[str, dict[str, KeysOfAKind]]:
    """The keys added, changed, withdrawn and removed, table by table, from the previous release's
    package to the one in `folder`. Without a previous release every record is added. Run inside the
    snapshot the package was read from, so that withdrawals are told from other removals as of then.

    Memory holds one table's previous rows as two digests each (key and cells), not the rows; the
    keys of the rows gone are read again from the previous file."""
    changes = {}
    previous = zipfile.ZipFile(previous_zip) if previous_zip else None
    prefix = previous_zip.stem + "/" if previous_zip else ""
    try:
        for table in TABLES:
            member = f"{prefix}{table.file_name}"
            before = {
                digest(row_key(table, header, row)): row_digest(header, row)
                for header, row in previous_rows(previous, member)
            }
            kinds = {kind: KeysOfAKind(workspace / f"{table.name}.{kind}.jsonl") for kind in CHANGE_KINDS}
            with open(folder / table.file_name, encoding="utf-8", newline="") as file:
                header, rows = csv_rows(file)
                for row in rows:
                    key = row_key(table, header, row)
                    cells = before.pop(digest(key), None)
                    if cells is None:
                        kinds["added"].add(key)
                    elif cells != row_digest(header, row):
                        kinds["changed"].add(key)
            gone = (
                sorted(
                    key
                    for key in (
                        row_key(table, header, row) for header, row in previous_rows(previous, member)
                    )
                    if digest(key) in before
                )
                if before
                else []
            )
            withdrawn = withdrawn_keys(table, gone)
            for key in gone:
                kinds["withdrawn" if key in withdrawn else "removed"].add(key)
            for keys in kinds.values():
                keys.close()
            changes[table.name] = kinds
    finally:
        if previous is not None:
            previous.close()
    return changes


def write_changelog_json(path: Path, version: str, previous: str | None, changes: dict) -> None:
    """changelog.json, written key by key from the files the keys were logged to."""
    with open(path, "w", encoding="utf-8") as out:
        out.write(
            f'{{\n "version": {json.dumps(version)},\n "previous": {json.dumps(previous)},\n "tables": {{'
        )
        for table_number, (table, kinds) in enumerate(changes.items()):
            out.write(f"{',' if table_number else ''}\n  {json.dumps(table)}: {{")
            for kind_number, (kind, keys) in enumerate(kinds.items()):
                out.write(f"{',' if kind_number else ''}\n   {json.dumps(kind)}: [")
                for number, key in enumerate(keys.encoded()):
                    out.write(f"{',' if number else ''}\n    {key}")
                out.write("]")
            out.write("\n  }")
        out.write("\n }\n}\n")


def changelog_markdown(version: str, previous: str | None, changes: dict) -> str:
    lines = [f"# Parley {version}: changes", ""]
    if previous:
        lines += [f"Against release {previous}. Keys are the tables' keys (see datapackage.json).", ""]
    else:
        lines += ["The first release: every record is added.", ""]
    for table, kinds in changes.items():
        counted = [f"{keys.count} {kind}" for kind, keys in kinds.items() if keys.count]
        lines += [f"## {table}", "", ", ".join(counted) + "." if counted else "No change.", ""]
        for kind, keys in kinds.items():
            if not keys.count or not previous:
                continue
            if keys.count > KEYS_LISTED:
                lines += [f"{kind.capitalize()}: {keys.count} keys, listed in changelog.json.", ""]
                continue
            lines += [f"{kind.capitalize()}:", "", *(f"- {key}" for key in keys.first), ""]
    return "\n".join(lines)


def citation_cff(version: str, released: datetime.datetime, release_url: str, download_url: str) -> str:
    """CITATION.cff (Citation File Format 1.2.0) for the release, as a dataset."""

    def quoted(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML string

    return "\n".join(
        [
            "cff-version: 1.2.0",
            'message: "If you use this dataset, please cite it using these metadata."',
            "type: dataset",
            f"title: {quoted(PACKAGE_TITLE)}",
            f"version: {quoted(version)}",
            f"date-released: {released.date().isoformat()}",
            f"license: {LICENSE['name']}",
            f"url: {quoted(release_url)}",
            f"repository-artifact: {quoted(download_url)}",
            "authors:",
            # CFF requires authors: the archive, as the body that compiles it, never a person.
            f"  - name: {quoted(PUBLISHER)}",
            "abstract: >-",
            "  Rounds of peace talks, the delegations and people at them, the issues discussed,",
            "  and claims, each traced to the articles that reported it with an exact quote.",
            "  Published records only.",
            "",
        ]
    )


def summary(changes: dict) -> dict:
    """What the release's row keeps of the changelog: for each table that changed, every count and the
    first keys of each kind."""
    return {
        table: {
            kind: {"count": keys.count, "keys": keys.first[:KEYS_SHOWN]}
            for kind, keys in kinds.items()
            if keys.count
        }
        for table, kinds in changes.items()
        if any(keys.count for keys in kinds.values())
    }


def zip_folder(folder: Path, target: Path, when: datetime.datetime) -> None:
    """The folder as one zip holding one folder of its name; every member dated `when`."""
    stamp = timezone.localtime(when, datetime.UTC).timetuple()[:6]
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            member = zipfile.ZipInfo(f"{folder.name}/{path.name}", date_time=stamp)
            member.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as source, archive.open(member, "w") as sink:
                shutil.copyfileobj(source, sink, 1 << 20)


def write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="")


def check_can_cut() -> None:
    """Refuse before any work when the changelog could not be written: the previous release's zip
    is missing or is not the file released (restore RELEASES_DIR from its backup)."""
    previous = Release.objects.first()
    if previous is None:
        return
    path = release_file(previous)
    if not path.is_file():
        raise ReleaseError(
            f"The previous release's file is missing ({path}), so no changelog can be written against "
            "it. Restore the releases folder from its backup, then cut again."
        )
    if sha256_of(path) != previous.sha256:
        raise ReleaseError(
            f"The previous release's file ({path}) is not the file released: its SHA-256 differs from "
            f"the one recorded ({previous.sha256}). Restore it from the backup, then cut again."
        )


def only_one_cut_at_a_time(using: str = DEFAULT_DB_ALIAS) -> None:
    """Inside a transaction, wait for any other cut to end. SQLite's IMMEDIATE transactions already
    take turns; on PostgreSQL a transaction-level advisory lock does it, and the query that follows
    sees the release another cut has just saved."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RELEASE_LOCK])


def cut_release(site_url: str, notes: str = "", cut_by=None, now: datetime.datetime | None = None) -> Release:
    """Cut a release of the published archive and return it. Raises ReleaseError, saving nothing,
    when the previous release's file is missing or another release was cut meanwhile.

    `site_url` is the site's address (https://parley.example.org), for the release's permanent URL."""
    check_can_cut()
    now = (now or timezone.now()).replace(microsecond=0)
    previous = Release.objects.first()
    version = next_version(timezone.localtime(now, datetime.UTC).date())
    name = f"parley-{version}"
    release_url = site_url.rstrip("/") + reverse("release_detail", args=[version])
    download_url = site_url.rstrip("/") + reverse("release_download", args=[version, f"{name}.zip"])
    target_dir = releases_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target_dir, prefix=".cutting-") as workspace:
        folder = Path(workspace) / name
        with one_snapshot():
            counts = write_package(folder, everything=False, created=now, version=version)
            changes = compare_with(release_file(previous) if previous else None, folder, Path(workspace))
        previous_version = previous.version if previous else None
        write_changelog_json(folder / "changelog.json", version, previous_version, changes)
        write_text(folder / "CHANGELOG.md", changelog_markdown(version, previous_version, changes))
        write_text(folder / "CITATION.cff", citation_cff(version, now, release_url, download_url))
        sums = "".join(f"{sha256_of(path)}  {path.name}\n" for path in sorted(folder.iterdir()))
        write_text(folder / "SHA256SUMS", sums)
        partial = Path(workspace) / f"{name}.zip"
        zip_folder(folder, partial, now)
        release = Release(
            version=version,
            released_at=now,
            cut_by=cut_by,
            notes=notes,
            previous=previous,
            file_name=partial.name,
            size=partial.stat().st_size,
            sha256=sha256_of(partial),
            record_counts=counts,
            changelog={"previous": previous_version, "tables": summary(changes)},
        )
        final = target_dir / partial.name
        try:
            with transaction.atomic():
                only_one_cut_at_a_time()
                if Release.objects.first() != previous:
                    raise ReleaseError("Another release was cut meanwhile; nothing was saved. Cut again.")
                release.save()
                os.link(partial, final)  # never over an existing file: a release's file never changes
        except (IntegrityError, FileExistsError) as error:
            raise ReleaseError(
                f"Release {version} was cut meanwhile by someone else; nothing was saved. Cut again."
            ) from error
    return release


def latest_release() -> Release | None:
    return Release.objects.first()


def citation_text(release: Release, site_url: str) -> str:
    """How to cite a release, in plain text, in the form of the records' citations (talks/citing.py)."""
    url = site_url.rstrip("/") + release.get_absolute_url()
    return (
        f"{PACKAGE_TITLE}. Dataset, version {release.version}, "
        f"released {timezone.localtime(release.released_at, datetime.UTC):%Y-%m-%d}. {PUBLISHER}. "
        f"{LICENSE['name']}. {url}"
    )
