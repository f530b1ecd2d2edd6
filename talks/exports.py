"""Downloads of every public list, as CSV and JSON, streamed.

A download takes exactly its list's query parameters and holds every row, across all pages, that the
list shows for them. Rows come from `typed_rows()`, the generator the data package uses too; this
module only chooses the rows and writes them in a format.
"""

import csv
import datetime
import io
import json
from collections.abc import Iterable, Iterator

from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from talks.dataset.export import cell, typed_rows
from talks.dataset.tables import EXPORTS_BY_NAME, STRING, Column, Export
from talks.filters import ClaimFilter, IssueFilter, ParticipantFilter, RoundFilter, SourceFilter
from talks.models import Citation, Membership

FILTERS = {
    "claims": ClaimFilter,
    "rounds": RoundFilter,
    "sources": SourceFilter,
    "participants": ParticipantFilter,
    "issues": IssueFilter,
}
ROWS_PER_CHUNK = 1000
# OWASP's list of characters a spreadsheet may read as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def rows_for(export: Export, filtered):
    """The records of a download, given the filtered records of its list."""
    if export.name == "citations":
        return Citation.objects.published().filter(claim__in=filtered.values("pk")).order_by("claim_id", "id")
    if export.name == "delegations":
        return (
            Membership.objects.published()
            .filter(delegation__round__in=filtered.values("pk"))
            .order_by(
                "delegation__round__start_date", "delegation__round_id", "delegation__party__name", "id"
            )
        )
    return filtered


def neutralised(column: Column, text: str) -> str:
    """Text that a spreadsheet will show as text, never run as a formula (numbers are left alone)."""
    if column.type == STRING and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_chunks(columns: tuple[Column, ...], rows: Iterable[list], byte_order_mark: bool) -> Iterator[str]:
    """The CSV text in chunks of rows, so a large download never sits whole in memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if byte_order_mark:
        buffer.write("\ufeff")
    writer.writerow([column.name for column in columns])
    for count, row in enumerate(rows, 1):
        writer.writerow(
            [neutralised(column, cell(column, value)) for column, value in zip(columns, row, strict=True)]
        )
        if count % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_value(value):
    return value.isoformat() if isinstance(value, datetime.date) else value


def json_chunks(columns: tuple[Column, ...], rows: Iterable[list]) -> Iterator[str]:
    """A JSON array of objects, one per row, streamed; unknown values are null, lists are arrays."""
    names = [column.name for column in columns]
    yield "["
    parts = []
    for count, row in enumerate(rows):
        record = {name: json_value(value) for name, value in zip(names, row, strict=True)}
        parts.append(("," if count else "") + "\n" + json.dumps(record, ensure_ascii=False))
        if len(parts) == ROWS_PER_CHUNK:
            yield "".join(parts)
            parts = []
    yield "".join(parts) + "\n]\n"


def invalid_filters_message(filterset) -> str:
    lines = ["Invalid filter; nothing was exported."]
    for name, errors in filterset.form.errors.items():
        lines += [f"{name}: {error}" for error in errors]
    return "\n".join(lines) + "\n"


def download(request, name, fmt):
    """`/<name>.csv` or `/<name>.json`: the rows its list shows for these filters, all pages."""
    export = EXPORTS_BY_NAME[name]
    filterset_class = FILTERS[export.filters_of]
    filterset = filterset_class(request.GET, queryset=filterset_class.base_queryset(), request=request)
    # A FilterSet's .qs silently ignores invalid fields: an export must never drop a filter unseen.
    if not filterset.is_valid():
        return HttpResponseBadRequest(
            invalid_filters_message(filterset), content_type="text/plain; charset=utf-8"
        )
    rows = typed_rows(export.columns, rows_for(export, filterset.qs))
    if fmt == "csv":
        content = csv_chunks(export.columns, rows, byte_order_mark=request.GET.get("bom") == "1")
        response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    else:
        response = StreamingHttpResponse(json_chunks(export.columns, rows), content_type="application/json")
    today = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="{name}-{today}.{fmt}"'
    response["Link"] = f'<{reverse("downloads")}#codebook-{name}>; rel="describedby"'
    return response
