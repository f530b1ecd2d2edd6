"""What no download may ever do: run a formula in a spreadsheet, or show a draft."""

import csv
import datetime
import io
import json

import pytest
from django.urls import reverse

from talks.dataset.export import cell, typed_rows
from talks.dataset.tables import EXPORTS
from talks.exports import FORMULA_STARTS, neutralised, rows_for
from talks.list_specs import LISTS
from tests.builders import PUBLISHED, make_article, make_citation, make_public_claim, make_round

pytestmark = pytest.mark.django_db


def body(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return b"".join(response.streaming_content).decode()


def test_a_cell_that_could_run_as_a_formula_is_neutralised(client):
    claim = make_public_claim(text='=HYPERLINK("http://example.com")')
    make_public_claim(text="-2 is not a formula here either")
    make_public_claim(text="@SUM(A1)")
    rows = list(csv.DictReader(io.StringIO(body(client, reverse("claims_csv")))))
    texts = {row["text"] for row in rows}
    assert texts == {'\'=HYPERLINK("http://example.com")', "'-2 is not a formula here either", "'@SUM(A1)"}
    assert {row["outlet_count"] for row in rows} == {"2"}  # numbers are left as numbers
    citation = list(csv.DictReader(io.StringIO(body(client, reverse("citations_csv")))))[0]
    assert citation["claim_text"].startswith("'")
    # JSON is not read by spreadsheets: the text stays exactly as recorded.
    records = json.loads(body(client, reverse("claims_json")))
    assert claim.text in {record["text"] for record in records}


def test_no_download_ever_holds_a_draft(client):
    public = make_public_claim(text="Published claim.")
    draft_round = make_round(title="Zanzibar round")
    make_public_claim(text="Also published.", round=draft_round)
    make_citation(claim=public, article=make_article(headline="Zanzibar article"), quote="Zanzibar quote")
    hidden = make_public_claim(text="Zanzibar claim")
    hidden.publication_status = "draft"
    hidden.save()
    make_round(title="Open round", publication_status=PUBLISHED)
    for export in EXPORTS:
        for fmt in ("csv", "json"):
            content = body(client, reverse(f"{export.name}_{fmt}"))
            assert "Zanzibar" not in content and "zanzibar" not in content, f"{export.name}.{fmt}"


def test_a_download_writes_awkward_values_exactly_as_the_csv_module_would(client):
    """The database computes the cells (and on PostgreSQL writes the CSV itself): the bytes must be
    those Python's CSV writer makes of the typed values, whatever the text holds."""
    awkward = [
        'Said "no", twice',
        "line one\nline two",
        "carriage\r\nreturn",
        "=SUM(A1)",
        "=SUM(A1, B1)",  # both neutralised and quoted
        '-"quoted" from the first dash',
        "\ttabbed",
        " leading space ",
        "Тиждень переговорів — ü, 中文",
        "",
    ]
    for number, text in enumerate(awkward):
        claim = make_public_claim(text=text or "plain", date=datetime.date(2026, 2, number + 1))
        dated = {"published_on": datetime.date(999 + number, 1, 31), "published_on_precision": "day"}
        article = make_article(headline=text, publication_status=PUBLISHED, **(dated if number % 2 else {}))
        make_citation(claim=claim, article=article, quote=text or "x", note=text)
    # A key is a slug, which may still begin with a dash.
    dashed = make_public_claim(text="Dashed key", key="-dashed-claim")
    make_citation(claim=dashed, article=make_article(key="-dashed-article", publication_status=PUBLISHED))
    for export in EXPORTS:
        expected = io.StringIO()
        writer = csv.writer(expected, lineterminator="\r\n")
        writer.writerow([column.name for column in export.columns])
        filterset_class = LISTS[export.filters_of].filterset
        rows = rows_for(export, filterset_class.base_queryset(), narrowed=False)
        for row in typed_rows(export.columns, rows):
            writer.writerow(
                [
                    neutralised(column, cell(column, value))
                    for column, value in zip(export.columns, row, strict=True)
                ]
            )
        assert body(client, reverse(f"{export.name}_csv")) == expected.getvalue(), export.name


def test_no_fixed_choice_could_be_read_as_a_formula():
    """Choice columns skip the formula check: that is safe only while no choice starts like one."""
    for export in EXPORTS:
        for column in export.columns:
            assert not any(choice.startswith(FORMULA_STARTS) for choice in column.choices), column.name
