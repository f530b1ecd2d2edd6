"""What no download may ever do: run a formula in a spreadsheet, or show a draft."""

import csv
import io
import json

import pytest
from django.urls import reverse

from talks.dataset.tables import EXPORTS
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
