"""Reading a data package's files: which files it holds, and their rows, one at a time.

A package comes from outside the archive, so its files are read as what they claim to be and nothing
more: a folder's symbolic links and a zip's members named outside it (`../`, absolute paths) are
refused, never followed. A file is never held whole. It is read a line at a time, and a row is refused
as soon as it grows longer than its table's columns allow (`Table.row_limit`): a 200 MB cell costs no
more memory than the longest row the table can hold, and is reported at its line and column.
"""

import codecs
import csv
import io
import os
import re
import stat
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from talks.dataset.tables import TABLES, Table

FILE = "(file)"
ROW = "(row)"
UTF8_WIDEST = 4  # bytes a character may take in UTF-8
# No legitimate field is longer than the longest row; the rows' own limit refuses one before this.
csv.field_size_limit(max(table.row_limit() for table in TABLES) + 1)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    column: str
    message: str

    def __str__(self):
        return f"{self.file}:{self.line}: {self.column}: {self.message}"


Opener = Callable[[], BinaryIO]


# The package's files --------------------------------------------------------------------------------


def open_without_following(path: Path) -> BinaryIO:
    # A link put in place after the folder was listed is refused here too (ELOOP), not followed.
    return open(path, "rb", opener=lambda name, flags: os.open(name, flags | os.O_NOFOLLOW))  # noqa: SIM115


def folder_members(folder: Path, problems: list[Problem]) -> dict[str, Opener]:
    members = {}
    for child in sorted(folder.iterdir()):
        if child.is_symlink():
            problems.append(
                Problem(child.name, 1, FILE, "a symbolic link, not read: put the file itself in the package")
            )
        elif child.is_file():
            members[child.name] = partial(open_without_following, child)
    return members


def escapes(name: str) -> bool:
    """Whether a zip member's name leads outside the package: absolute, a drive, or through `..`."""
    path = PurePosixPath(name.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or bool(re.match(r"[A-Za-z]:", name))


def zip_members(archive: zipfile.ZipFile, problems: list[Problem]) -> dict[str, Opener]:
    """The files at the zip's root, or in its one folder."""
    infos = []
    for info in archive.infolist():
        if info.is_dir():
            continue
        if escapes(info.filename):
            problems.append(
                Problem(
                    info.filename, 1, FILE, "named outside the package (an absolute path or ..): not read"
                )
            )
        elif stat.S_ISLNK(info.external_attr >> 16):
            problems.append(
                Problem(
                    info.filename, 1, FILE, "a symbolic link, not read: put the file itself in the package"
                )
            )
        else:
            infos.append(info)
    folders = {info.filename.split("/", 1)[0] for info in infos if "/" in info.filename}
    in_one_folder = len(folders) == 1 and all("/" in info.filename for info in infos)
    prefix = f"{folders.pop()}/" if in_one_folder else ""
    return {
        info.filename[len(prefix) :]: partial(archive.open, info)
        for info in infos
        if "/" not in info.filename[len(prefix) :]
    }


@contextmanager
def package_members(path: Path, problems: list[Problem]) -> Iterator[dict[str, Opener]]:
    """The package's files by name, each opened for reading on demand: from a folder, or a `.zip`."""
    path = Path(path)
    if path.is_dir():
        yield folder_members(path, problems)
    elif path.suffix.lower() == ".zip" and path.is_file():
        with zipfile.ZipFile(path) as archive:
            yield zip_members(archive, problems)
    else:
        raise FileNotFoundError(f"{path} is neither a folder nor a .zip file")


# A file's rows --------------------------------------------------------------------------------------


class NotUtf8(Exception):
    def __init__(self, line: int, byte: int):
        super().__init__(line, byte)
        self.line, self.byte = line, byte


class RowTooLong(Exception):
    """The row being read is longer than any row of its table may be."""


class Lines:
    """A file's lines for `csv.reader`: decoded as UTF-8, a byte-order mark dropped, and refused once
    the row being read outgrows `limit` characters. It keeps that row's text, to tell which cell did."""

    def __init__(self, stream: BinaryIO, limit: int):
        self.stream, self.limit = stream, limit
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.number = 0  # lines read so far
        self.row: list[str] = []
        self.row_length = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        # A line longer than this is longer than `limit` characters, however its bytes decode.
        raw = self.stream.readline(UTF8_WIDEST * self.limit + UTF8_WIDEST)
        try:
            text = self.decoder.decode(raw, final=not raw)
        except UnicodeDecodeError as error:
            # At the end of the file, the last line was cut in the middle of a character.
            raise NotUtf8(
                self.number + 1 if raw else max(self.number, 1), error.object[error.start]
            ) from error
        if not raw:
            raise StopIteration
        self.number += 1
        self.row.append(text)
        self.row_length += len(text)
        if self.row_length > self.limit:
            raise RowTooLong
        return text

    def next_row(self) -> None:
        """The reader has taken the lines of a whole row; the next line starts another."""
        self.row, self.row_length = [], 0


@dataclass
class CsvFile:
    """One table's file, read from its beginning each time `rows()` is called."""

    table: Table
    open: Opener

    @property
    def name(self) -> str:
        return self.table.file_name

    def rows(self, problems: list[Problem]) -> Iterator[tuple[int, list[str]]]:
        """(line, cells) for each row that is not blank, the header first. What cannot be read is a
        problem, and ends the reading where the file cannot be followed further."""
        with self.open() as stream:
            lines = Lines(stream, self.table.row_limit())
            header, line = None, 1
            try:
                for cells in csv.reader(lines):
                    if any(cell.strip() for cell in cells):
                        header = header or [cell.strip() for cell in cells]
                        yield line, cells
                    lines.next_row()
                    line = lines.number + 1
            except NotUtf8 as error:
                problems.append(
                    Problem(
                        self.name,
                        error.line,
                        FILE,
                        f"not UTF-8 text (byte 0x{error.byte:02X} cannot be read); save the file as UTF-8",
                    )
                )
            except RowTooLong:
                problems.append(self.overlong_row(header, line, "".join(lines.row)))
            except csv.Error as error:
                problems.append(Problem(self.name, line, ROW, f"not valid CSV: {error}"))
            else:
                if header is None:
                    problems.append(
                        Problem(self.name, 1, FILE, "the file is empty: it needs at least a header row")
                    )

    def overlong_row(self, header: list[str] | None, line: int, text: str) -> Problem:
        """A row that outgrew its table's limit, reported at the column whose cell did."""
        if header is None:
            return Problem(self.name, line, FILE, "the header row is longer than any header may be")
        # The row as far as its limit: past it, whatever cell is being read is past its own.
        cells = next(csv.reader(io.StringIO(text[: self.table.row_limit() + 1], newline="")), [])
        known = {column.name: column for column in self.table.columns}
        for title, cell in zip(header, cells, strict=False):
            limit = self.table.cell_limit(known[title]) if title in known else None
            if limit is not None and len(cell) > limit:
                return Problem(self.name, line, title, too_long(limit))
        return Problem(self.name, line, ROW, "longer than any row of this table may be")


def too_long(limit: int) -> str:
    return f"longer than the {limit:,} characters this column may hold"
