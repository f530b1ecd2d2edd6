"""Downloads of every public list, as CSV and JSON, streamed.

A download takes exactly its list's query parameters and holds every row, across all pages, that the
list shows for them. JSON rows come from `typed_rows()`, the generator the data package uses too. CSV
cells are computed by the database (`cell_in_database`), so that even the largest download streams
without a Python step per cell; the bytes are those Python's `csv` writer would make of the typed rows.
"""

import datetime
import hashlib
import itertools
import json
import logging
from collections.abc import Iterable, Iterator
from urllib.parse import urlencode

from django.db import connections
from django.db.models import Case, CharField, F, Func, SlugField, Value, When
from django.db.models.functions import Cast, Coalesce, NullIf, Ord, Replace, StrIndex
from django.db.models.lookups import GreaterThan, In
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from sources.record_base import list_items
from talks.dataset.export import cell, reference_condition, related_values, typed_rows
from talks.dataset.tables import BOOLEAN, DATE, EXPORTS_BY_NAME, STRING, Column, Export
from talks.filters import narrows, parameters_of, unknown_parameters
from talks.list_specs import LISTS
from talks.models import Citation, Membership
from talks.querysets import compiled

# What every download reads beside its list's filters, as the codebook describes them. `page` is
# set aside: a download holds every page of the list it was copied from.
DOWNLOAD_PARAMETERS = {
    "page": ("Page", "a whole number; downloads hold every page"),
    "bom": ("Byte-order mark (downloads)", "1"),
}

logger = logging.getLogger(__name__)

ROWS_PER_CHUNK = 1000
# PostgreSQL's COPY output is passed on in pieces of this size: the buffer and its copy are most of
# what a download holds in memory, and larger pieces would hold more without making it faster.
CHUNK_BYTES = 64 * 1024
LINE_END = "\r\n"  # RFC 4180
# OWASP's list of characters a spreadsheet may read as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def rows_for(export: Export, filtered, narrowed: bool = True):
    """The records of a download, given the filtered records of its list.

    Unless the filters leave some records out, the rows are simply all public ones: the database
    then reads them in order without first listing every public claim or round to filter by.
    """
    if export.name == "citations":
        citations = Citation.objects.published().order_by("claim_id", "id")
        return citations.filter(claim__in=filtered.values("pk")) if narrowed else citations
    if export.name == "delegations":
        seats = Membership.objects.published().order_by(
            "delegation__round__start_date", "delegation__round_id", "delegation__party__name", "id"
        )
        return seats.filter(delegation__round__in=filtered.values("pk")) if narrowed else seats
    return filtered


def neutralised(column: Column, text: str) -> str:
    """Text that a spreadsheet will show as text, never run as a formula (numbers are left alone)."""
    if column.type == STRING and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class IsoDateText(Func):
    """A date as CSV text, YYYY-MM-DD, computed by the database (see `cell_in_database`)."""

    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra_context):
        # SQLite stores that very text: the cast only keeps the driver from parsing it into a date.
        return self.as_sql(compiler, connection, template="CAST(%(expressions)s AS text)", **extra_context)

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template="to_char(%(expressions)s, 'YYYY-MM-DD')", **extra_context
        )


def finished_in_python(column: Column) -> bool:
    """Lists (issues, aliases) are gathered and joined in Python; every other cell comes ready from SQL."""
    return bool(column.many_to_many or column.multiline_list)


class Joined(Func):
    """Texts joined by SQL's `||` operator. Django's Concat wraps every part in COALESCE on SQLite;
    the parts joined here are never NULL, and a step saved is saved on every row of a large
    download."""

    arg_joiner = " || "
    template = "(%(expressions)s)"
    output_field = CharField()


def formula_like(path: str):
    return In(Ord(path), [ord(start) for start in FORMULA_STARTS])  # integers compare fastest


def formula_safe(path: str):
    """Text as a spreadsheet must read it: "'" before a leading formula character; NULL stays NULL."""
    neutralised = Joined(Value("'"), path)
    return Case(When(formula_like(path), then=neutralised), default=F(path), output_field=CharField())


def cell_in_database(column: Column):
    """A column's CSV cell as the database computes it: the text `cell()` makes of its typed value,
    formula-safe, or NULL for an empty cell. Rows then need no Python step per cell, which is what
    lets the largest downloads (citations) stream at full speed.
    """
    path, text = column.orm_path, CharField()
    if column.type == BOOLEAN:
        value = Case(When(**{path: True}, then=Value("true")), default=Value("false"), output_field=text)
    elif column.type == DATE:
        value = IsoDateText(path)
    elif column.type == STRING and not column.choices:  # a choice is a fixed word, never a formula
        value = NullIf(formula_safe(path), Value(""))
    elif column.type == STRING:
        value = NullIf(F(path), Value(""), output_field=text)
    else:
        value = Cast(path, text)  # a number, written as its digits
    return published_only(column, value, hidden=Value(None))


def published_only(column: Column, value, hidden):
    """The cell, or `hidden` where it names a record readers may not see (a draft must not show)."""
    condition = reference_condition(column)
    if condition is None:
        return value
    return Case(When(condition, then=value), default=hidden, output_field=CharField())


QUOTE_WORTHY = ('"', ",", "\n", "\r")  # what makes Python's CSV writer quote a field


def quoted(text: str) -> str:
    """A finished cell as it stands in a CSV line: quoted when it must be, as Python's writer does."""
    if any(character in text for character in QUOTE_WORTHY):
        return '"' + text.replace('"', '""') + '"'
    return text


def holds_slug(model, path: str) -> bool:
    """Whether the field at the end of an ORM path is a slug (validated: letters, digits, - and _)."""
    *relations, name = path.split("__")
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    return isinstance(model._meta.get_field(name), SlugField)


def quoted_in_database(column: Column, model):
    """`cell_in_database`, and then `quoted()` by the database too: a line is then the cells joined
    by commas, with no Python step per cell. Empty cells are '' here, not NULL.

    Free text is one flat CASE, the common case (nothing to quote or neutralise) last: on SQLite a
    large download pays for the expression's steps more than for the reading of rows.
    """
    path, text = column.orm_path, CharField()
    if column.type != STRING:  # numbers, dates and true/false never hold a comma, quote or line break
        return Coalesce(cell_in_database(column), Value(""), output_field=text)
    neutralised = Joined(Value("'"), path)
    if column.choices:  # a fixed word
        value = Coalesce(path, Value(""), output_field=text)
    elif holds_slug(model, path):  # letters, digits, - and _: a leading - is all there is to guard
        value = Case(
            When(formula_like(path), then=neutralised), default=Coalesce(path, Value("")), output_field=text
        )
    else:
        # Where each character first occurs (0: nowhere), summed: plain position searches, no patterns.
        positions = [StrIndex(path, Value(character)) for character in QUOTE_WORTHY]
        holds_any = GreaterThan(sum(positions[1:], positions[0]), 0)
        enclosed = Joined(Value('"'), Replace(formula_safe(path), Value('"'), Value('""')), Value('"'))
        value = Case(
            When(holds_any, then=enclosed),
            When(formula_like(path), then=neutralised),
            default=Coalesce(path, Value("")),
            output_field=text,
        )
    return published_only(column, value, hidden=Value(""))


def joined_csv(columns: tuple[Column, ...], queryset) -> Iterator[str]:
    """CSV lines in chunks, from cells the database (or, for lists, Python) has already quoted."""
    for lines in csv_lines(columns, queryset):
        yield LINE_END.join(lines) + LINE_END


class CsvLine(Func):
    """A row's finished cells joined by commas in the database: one string a row reaches Python
    instead of one a cell: on SQLite, handing every cell of a large download to Python one by one
    would be a large share of its cost."""

    function = "CONCAT_WS"
    output_field = CharField()

    def __init__(self, *cells):
        super().__init__(Value(","), *cells)

    def as_sqlite(self, compiler, connection, **extra_context):
        # SQLite has concat_ws only since 3.44; printf, one format for the whole line, is older.
        cells = self.source_expressions[1:]
        line = self.copy()
        line.set_source_expressions([Value(",".join(["%s"] * len(cells))), *cells])
        return line.as_sql(compiler, connection, function="PRINTF", **extra_context)


def copied_csv(columns: tuple[Column, ...], queryset) -> Iterator[bytes]:
    """CSV rows in chunks, written by PostgreSQL itself (`COPY ... TO STDOUT`), which is faster than
    fetching rows into Python. Same bytes as `joined_csv`: PostgreSQL quotes exactly the values
    Python's writer quotes (those holding a comma, a quote or a line break; empty cells are NULL,
    which it leaves unquoted), and each row arrives as one message, whose line end becomes CRLF here.
    """
    query = compiled(queryset.values_list(*(cell_in_database(column) for column in columns)))
    if query is None:  # filters that cannot match: no rows, and no query
        return
    sql, params = query
    # Django's cursor wraps psycopg's, which binds the parameters into the COPY statement.
    with (
        connections[queryset.db].cursor() as cursor,
        cursor.cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy,
    ):
        chunk = bytearray()
        for row in copy:
            chunk += row[:-1]
            chunk += b"\r\n"
            if len(chunk) >= CHUNK_BYTES:
                yield bytes(chunk)
                chunk.clear()
        yield bytes(chunk)


def fetched_in_batches(rows, batch_size: int) -> Iterator[list[tuple]]:
    """A values_list's rows as the driver returns them, a batch at a time, through a server-side
    cursor where there is one (PostgreSQL), so memory stays flat. Skips the ORM's per-row iterator:
    the cells are finished text, with nothing to convert."""
    query = compiled(rows)
    if query is None:  # filters that cannot match: Django would skip the query too
        return
    with connections[rows.db].chunked_cursor() as cursor:
        cursor.execute(*query)
        while batch := cursor.fetchmany(batch_size):
            yield batch


def csv_lines(columns: tuple[Column, ...], queryset, batch_size: int = ROWS_PER_CHUNK) -> Iterator[list[str]]:
    """The download's rows as CSV lines (without their line ends), a batch at a time."""
    cells = [
        F(column.orm_path) if column.multiline_list else quoted_in_database(column, queryset.model)
        for column in columns
        if not column.many_to_many
    ]
    if not any(finished_in_python(column) for column in columns):
        for batch in fetched_in_batches(queryset.values_list(CsvLine(*cells)), batch_size):
            yield [line for (line,) in batch]
        return
    for batch in fetched_in_batches(queryset.values_list("pk", *cells), batch_size):
        related = {
            column.name: related_values(queryset.model, column, [row[0] for row in batch], everything=False)
            for column in columns
            if column.many_to_many
        }
        lines = []
        for row in batch:
            from_database = iter(row[1:])
            cells_of_row = []
            for column in columns:
                if column.many_to_many:
                    text = cell(column, related[column.name].get(row[0], []))
                    cells_of_row.append(quoted(neutralised(column, text)))
                elif column.multiline_list:
                    items = list_items(next(from_database))
                    cells_of_row.append(quoted(neutralised(column, cell(column, items))))
                else:
                    cells_of_row.append(next(from_database))
            lines.append(",".join(cells_of_row))
        yield lines


def csv_chunks(columns: tuple[Column, ...], queryset, byte_order_mark: bool) -> Iterator[str | bytes]:
    """The CSV text in chunks of rows, so a large download never sits whole in memory. The header
    comes with the first rows, so that the first chunk needs the database (see `streamed`)."""
    header = ("\ufeff" if byte_order_mark else "") + ",".join(quoted(column.name) for column in columns)
    header += LINE_END
    postgresql = connections[queryset.db].vendor == "postgresql"
    if postgresql and not any(finished_in_python(column) for column in columns):
        chunks = copied_csv(columns, queryset)
        yield header.encode() + next(chunks, b"")
    else:
        chunks = joined_csv(columns, queryset)
        yield header + next(chunks, "")
    yield from chunks


def json_value(value):
    return value.isoformat() if isinstance(value, datetime.date) else value


def json_chunks(columns: tuple[Column, ...], rows: Iterable[list]) -> Iterator[str]:
    """A JSON array of objects, one per row, streamed; unknown values are null, lists are arrays.
    The array opens in the chunk of the first rows, so that the first chunk needs the database."""
    names = [column.name for column in columns]
    parts = ["["]
    for count, row in enumerate(rows):
        record = {name: json_value(value) for name, value in zip(names, row, strict=True)}
        parts.append(("," if count else "") + "\n" + json.dumps(record, ensure_ascii=False))
        if len(parts) >= ROWS_PER_CHUNK:
            yield "".join(parts)
            parts = []
    yield "".join(parts) + "\n]\n"


def streamed(chunks: Iterable, description: str) -> Iterator:
    """A download's chunks for a StreamingHttpResponse, the first of them made before it starts.

    The first chunk holds the first rows, so a database that fails before them fails the request
    with a server error, not a 200 that ends after the header. After that the status is sent: an
    error is logged and raised on to the server, which then drops the connection without the
    chunked encoding's closing chunk (gunicorn does), so that a client sees a cut transfer, never a
    file that looks complete. Nothing between here and the server may swallow it.
    """
    chunks = iter(chunks)
    made = list(itertools.islice(chunks, 1))

    def all_chunks():
        sent = 0
        try:
            for chunk in itertools.chain(made, chunks):
                yield chunk
                sent += 1
        except Exception:
            logger.exception("%s broke off after %d chunks; the client sees it cut.", description, sent)
            raise

    return all_chunks()


def invalid_filters_message(filterset) -> str:
    lines = ["Invalid filter; nothing was exported."]
    for name, errors in filterset.form.errors.items():
        lines += [f"{name}: {error}" for error in errors]
    return "\n".join(lines) + "\n"


def file_name(name: str, filterset, fmt: str) -> str:
    """`claims-2026-12-03.csv` for a whole list; a filtered one is named apart, by a digest of its
    filters, so two downloads of one day are not saved over each other."""
    today = timezone.localdate().isoformat()
    if not narrows(filterset):
        return f"{name}-{today}.{fmt}"
    filters = sorted(
        (key, value)
        for key, values in filterset.data.lists()
        for value in values
        if key not in DOWNLOAD_PARAMETERS
    )
    digest = hashlib.sha256(urlencode(filters).encode()).hexdigest()[:8]
    return f"{name}-filtered-{digest}-{today}.{fmt}"


def download(request, name, fmt):
    """`/<name>.csv` or `/<name>.json`: the rows its list shows for these filters, all pages."""
    export = EXPORTS_BY_NAME[name]
    filterset_class = LISTS[export.filters_of].filterset
    filterset = filterset_class(request.GET, queryset=filterset_class.base_queryset(), request=request)
    unknown = unknown_parameters(filterset, request.GET, also=tuple(DOWNLOAD_PARAMETERS))
    if unknown:
        known = ", ".join(sorted(parameters_of(filterset) | set(DOWNLOAD_PARAMETERS)))
        return HttpResponseBadRequest(
            f"Unknown parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}; nothing was "
            f"exported. This download takes: {known}.\n",
            content_type="text/plain; charset=utf-8",
        )
    # A FilterSet's .qs silently ignores invalid fields: an export must never drop a filter unseen.
    if not filterset.is_valid():
        return HttpResponseBadRequest(
            invalid_filters_message(filterset), content_type="text/plain; charset=utf-8"
        )
    rows = rows_for(export, filterset.qs, narrowed=narrows(filterset))
    if fmt == "csv":
        content = csv_chunks(export.columns, rows, byte_order_mark=request.GET.get("bom") == "1")
        content_type = "text/csv; charset=utf-8"
    else:
        content = json_chunks(export.columns, typed_rows(export.columns, rows))
        content_type = "application/json"
    response = StreamingHttpResponse(
        streamed(content, f"The download {request.get_full_path()}"), content_type=content_type
    )
    response["Content-Disposition"] = f'attachment; filename="{file_name(name, filterset, fmt)}"'
    response["Link"] = f'<{reverse("downloads")}#codebook-{name}>; rel="describedby"'
    return response
