"""Downloads of every list: exactly the rows the list shows, safe in a spreadsheet, streamed."""

import contextlib
import csv
import io
import itertools
import json

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

from talks import exports as exports_module
from talks.dataset.tables import EXPORTS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded_module")]

LIST_OF = {
    "claims": "claim_list",
    "rounds": "round_list",
    "sources": "source_list",
    "participants": "participant_list",
    "issues": "issue_list",
}
KEY_OF = {"claims": "key", "rounds": "slug", "sources": "key", "participants": "slug", "issues": "slug"}


def downloaded(client, name, query="", fmt="csv"):
    response = client.get(reverse(f"{name}_{fmt}") + query)
    assert response.status_code == 200, query
    body = b"".join(response.streaming_content).decode("utf-8")
    return response, body


def csv_rows(client, name, query=""):
    return list(csv.DictReader(io.StringIO(downloaded(client, name, query)[1])))


def listed_keys(client, name, query=""):
    """The keys the HTML list shows for this query, page after page."""
    keys, page = [], 1
    while True:
        separator = "&" if query else "?"
        response = client.get(
            reverse(LIST_OF[name]) + query + (f"{separator}page={page}" if page > 1 else "")
        )
        if response.status_code == 404:
            return keys
        keys += [getattr(record, KEY_OF[name]) for record in response.context["object_list"]]
        if not response.context["page_obj"] or not response.context["page_obj"].has_next():
            return keys
        page += 1


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("claims", ""),
        ("claims", "?ordering=-outlets"),
        ("claims", "?issue=territory&party=russia"),
        ("claims", "?outlet=unknown&disputed=false"),
        ("claims", "?min_outlets=2&ordering=date"),
        ("claims", "?q=Medinsky&page=2"),
        ("rounds", "?track=us-brokered-trilateral-talks-2026&ordering=title"),
        ("sources", "?outlet=unknown"),
        ("participants", "?party=united-states"),
        ("issues", "?q=security"),
    ],
)
def test_a_download_holds_exactly_the_rows_its_list_shows_across_all_pages(client, name, query):
    expected = listed_keys(client, name, query.replace("&page=2", "").replace("?page=2", ""))
    rows = csv_rows(client, name, query)
    assert [row[KEY_OF[name]] for row in rows] == expected
    assert expected


def test_the_json_twin_holds_the_same_rows_with_types(client):
    rows = csv_rows(client, "claims", "?issue=donbas")
    records = json.loads(downloaded(client, "claims", "?issue=donbas", fmt="json")[1])
    assert [record["key"] for record in records] == [row["key"] for row in rows]
    first = records[0]
    assert isinstance(first["outlet_count"], int) and isinstance(first["disputed"], bool)
    assert isinstance(first["issues"], list) and first["date"] is None


def test_a_claims_issues_are_joined_in_one_cell_and_unknown_values_are_empty(client):
    row = next(row for row in csv_rows(client, "claims") if row["key"] == "geneva-no-agreement-on-territory")
    assert row["issues"] == "security-guarantees; territory"
    assert row["speaker"] == "" and row["attribution"] == ""
    assert (row["outlet_count"], row["disputed"]) == ("2", "false")


def test_citations_take_the_claim_filters_and_carry_the_article_and_quote(client):
    claims = {row["key"] for row in csv_rows(client, "claims", "?issue=donbas")}
    citations = csv_rows(client, "citations", "?issue=donbas")
    assert {row["claim"] for row in citations} == claims
    row = next(
        row
        for row in citations
        if row["claim"] == "donbas-under-moscow-control" and row["stance"] == "disputes"
    )
    assert row["published_on"] == "2026-02-18" and row["outlet"] == "" and row["quote"]


def test_delegations_take_the_round_filters_with_one_row_per_seat(client):
    rows = csv_rows(client, "delegations", "?year=2022")
    assert rows == [
        {
            "round": "istanbul-2022-march",
            "party": "russia",
            "delegation_role": "negotiating",
            "participant": "vladimir-medinsky",
            "seat_role": "head",
            "title": "",
        }
    ]


@pytest.mark.parametrize("export", EXPORTS, ids=lambda export: export.name)
def test_an_invalid_filter_is_refused_with_a_message_naming_the_parameter(client, export):
    bad = {
        "claims": "kind=rumour",
        "rounds": "status=dreamt",
        "sources": "language=xx",
        "participants": "role=king",
        "issues": "q=" + "x" * 300,
        "disagreements": "round=no-such-round",
    }
    response = client.get(reverse(f"{export.name}_csv") + "?" + bad[export.filters_of])
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    parameter = bad[export.filters_of].split("=")[0]
    assert f"\n{parameter}: " in response.content.decode()


def test_files_are_named_by_date_and_point_to_the_codebook(client):
    response, _ = downloaded(client, "rounds")
    assert response["Content-Disposition"].startswith('attachment; filename="rounds-')
    assert response["Content-Disposition"].endswith('.csv"')
    assert response["Link"] == '</downloads/#codebook-rounds>; rel="describedby"'


def test_a_byte_order_mark_is_added_for_excel_only_when_asked(client):
    assert downloaded(client, "issues", "?bom=1")[1].startswith("\ufeffslug,")
    assert downloaded(client, "issues")[1].startswith("slug,")


def test_every_list_page_links_to_its_downloads_with_the_current_filters(client):
    html = client.get(reverse("claim_list") + "?issue=donbas&page=1").content.decode()
    assert 'href="/claims.csv?issue=donbas"' in html and 'href="/claims.json?issue=donbas"' in html
    assert 'href="/citations.csv?issue=donbas"' in html
    html = client.get(reverse("round_list") + "?year=2026").content.decode()
    assert 'href="/delegations.csv?year=2026"' in html


def test_filters_that_cannot_match_give_a_csv_of_just_its_header(client, monkeypatch):
    """Django compiles a filter on an empty list of keys to no query at all; a download then
    streams its header and no rows, never an error."""
    rows_for = exports_module.rows_for
    monkeypatch.setattr(exports_module, "rows_for", lambda *args, **kwargs: rows_for(*args, **kwargs).none())
    for export in EXPORTS:
        response = client.get(reverse(f"{export.name}_csv"))
        assert response.status_code == 200
        lines = b"".join(response.streaming_content).decode().splitlines()
        assert lines == [",".join(column.name for column in export.columns)], export.name


def losing_the_database_after(pieces: int, monkeypatch):
    """The downloads' row sources made to fail, as a dropped database connection does, after their
    first `pieces`: rows, batches of two rows, or small pieces of PostgreSQL's COPY output."""

    def cut(source):
        # Closed as a real failure inside it would end it: a COPY left open holds its connection.
        with contextlib.closing(source):
            yield from itertools.islice(source, pieces)
            raise OperationalError("server closed the connection unexpectedly")

    fetched, copied, typed = (
        exports_module.fetched_in_batches,
        exports_module.copied_csv,
        exports_module.typed_rows,
    )
    monkeypatch.setattr(exports_module, "fetched_in_batches", lambda rows, size: cut(fetched(rows, 2)))
    monkeypatch.setattr(exports_module, "copied_csv", lambda columns, rows: cut(copied(columns, rows)))
    monkeypatch.setattr(exports_module, "typed_rows", lambda columns, rows: cut(typed(columns, rows)))
    monkeypatch.setattr(exports_module, "CHUNK_BYTES", 256)
    monkeypatch.setattr(exports_module, "ROWS_PER_CHUNK", 2)


@pytest.mark.parametrize("url", ["/claims.csv", "/citations.csv", "/claims.json"])
def test_a_download_cut_mid_stream_is_not_ended_cleanly(client, monkeypatch, caplog, url):
    complete = b"".join(client.get(url).streaming_content)
    losing_the_database_after(1, monkeypatch)
    response = client.get(url)
    assert response.status_code == 200  # sent before the database was lost
    received = []
    with pytest.raises(OperationalError):  # the server then drops the connection: no closing chunk
        for chunk in response.streaming_content:
            received.append(chunk)
    received = b"".join(received)
    first_line = complete.index(b"\n") + 1
    assert first_line < len(received) < len(complete) and complete.startswith(received)
    assert f"The download {url} broke off" in caplog.text and "ERROR" in caplog.text


@pytest.mark.parametrize("url", ["/claims.csv", "/citations.csv", "/claims.json"])
def test_a_download_whose_database_fails_before_the_first_rows_answers_a_server_error(url):
    with pytest.MonkeyPatch.context() as monkeypatch:
        losing_the_database_after(0, monkeypatch)
        response = Client(raise_request_exception=False).get(url)
    assert response.status_code == 500  # not a 200 that ends after the header
