"""Each list's filters are declared once (talks/list_specs.py): its form, the SQL its page and its
downloads apply, the in-memory index's matching and its facet all come from that declaration."""

import csv
import dataclasses
import datetime
import io

import pytest
from django.urls import reverse

from sources.record_base import DatePrecision
from talks.downloads import list_parameters
from talks.list_specs import LISTS, Choice
from tests.builders import make_public_claim

pytestmark = pytest.mark.django_db


@pytest.fixture
def claims_by_precision():
    day = datetime.date(2026, 2, 17)
    for precision in ["month", "month", "day", "approximate"]:
        make_public_claim(date=day, date_precision=precision)
    make_public_claim()  # no date of its own: no precision either


def facet_of(response, param) -> dict:
    [facet] = [facet for facet in response.context["facets"] if facet.param == param]
    return {choice.value: choice.count for choice in facet.choices}


def test_a_filter_declared_once_works_in_the_list_its_facet_its_download_and_its_form(
    client, monkeypatch, claims_by_precision
):
    precision = Choice(
        param="precision",
        label="Date precision",
        column="date_precision",
        choices=DatePrecision.choices,
        facet="Date precision",
    )
    claims = LISTS["claims"]
    monkeypatch.setitem(LISTS, "claims", dataclasses.replace(claims, filters=(*claims.filters, precision)))

    unfiltered = client.get(reverse("claim_list"))
    assert facet_of(unfiltered, "precision") == {"month": 2, "day": 1, "approximate": 1}
    assert '<a href="?precision=month">Month only</a>' in unfiltered.content.decode()

    filtered = client.get(reverse("claim_list") + "?precision=month&kind=statement")
    assert filtered.context["result_count"] == 2
    assert facet_of(filtered, "precision") == {"month": 2}
    form = filtered.context["filter"].form
    assert form.fields["precision"].label == "Date precision"
    assert 'name="precision"' in filtered.content.decode()
    assert "Ignored" not in filtered.content.decode()

    download = client.get(reverse("claims_csv") + "?precision=month")
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    assert download.status_code == 200 and len(rows) == 2
    assert client.get(reverse("claims_csv") + "?precision=someday").status_code == 400

    claims_parameters = dict(list_parameters())["claims"]
    assert ("precision", "Date precision", "day, month, approximate") in claims_parameters


def test_every_filter_a_list_declares_is_in_its_form_and_its_index_holds_those_it_answers():
    for name, spec in LISTS.items():
        form_fields = spec.filterset().form.fields
        for declared in spec.filters:
            assert declared.param in form_fields, (name, declared.param)
            if spec.index is not None and declared.held_filter() is not None:
                assert declared.param in spec.index.filters, (name, declared.param)
        if spec.index is not None:
            facets = {facet.param for facet in spec.index.facets}
            assert facets == {declared.param for declared in spec.filters if declared.facet}, name
