"""A parameter a list does not take is never silently ignored: a download refuses it, naming it, and a
list page says it was ignored."""

import pytest
from django.urls import reverse

from talks.filters import parameters_of
from talks.list_specs import LISTS
from tests.builders import make_public_claim

pytestmark = pytest.mark.django_db

LIST_PAGES = {
    "claims": "claim_list",
    "rounds": "round_list",
    "sources": "source_list",
    "participants": "participant_list",
    "issues": "issue_list",
    "disagreements": "disagreement_list",
}


def test_a_download_with_a_misspelt_filter_is_refused_naming_it(client):
    make_public_claim()
    response = client.get("/claims.csv?isue=territory")
    assert response.status_code == 400
    body = response.content.decode()
    assert body.startswith("Unknown parameter: isue; nothing was exported.")
    assert "issue" in body.split("This download takes:")[1]


def test_a_download_refuses_a_filter_of_another_list(client):
    response = client.get("/claims.json?year=2031")
    assert response.status_code == 400 and "year" in response.content.decode()


def test_a_list_page_says_which_parameters_it_ignored_and_still_lists(client):
    claim = make_public_claim(text="Listed whatever the typo.")
    page = client.get(reverse("claim_list") + "?year=2031&isue=territory").content.decode()
    assert "Ignored: year, isue, not filters of this list." in page
    assert "Listed whatever the typo." in page
    assert claim.get_absolute_url() in page


def test_every_list_and_its_downloads_take_each_of_their_own_parameters(client):
    for name, url_name in LIST_PAGES.items():
        filterset_class = LISTS[name].filterset
        filterset = filterset_class({}, queryset=filterset_class.base_queryset())
        query = "&".join(f"{parameter}=" for parameter in sorted(parameters_of(filterset)))
        page = client.get(f"{reverse(url_name)}?{query}&page=1")
        assert page.status_code == 200, name
        assert "Ignored:" not in page.content.decode(), name
        download = client.get(f"/{name}.csv?{query}&bom=1")
        assert download.status_code == 200, name
        b"".join(download.streaming_content)  # read to the end, as a client does, closing the query


def test_the_rounds_list_takes_the_year_the_claims_list_does_not(client):
    assert "Ignored:" not in client.get(reverse("round_list") + "?year=2026").content.decode()
    assert "Ignored: year" in client.get(reverse("claim_list") + "?year=2026").content.decode()


def test_the_downloads_page_lists_each_lists_parameters_from_its_filters(client):
    import re

    page = client.get(reverse("downloads")).content.decode()
    for name in LIST_PAGES:
        filterset_class = LISTS[name].filterset
        section = page.split(f'id="parameters-{name}"')[1].split("</table>")[0]
        cells = re.findall(r'<th scope="row"><code>([^<]+)</code>', section)
        listed = {parameter for cell in cells for parameter in cell.split(", ")}
        expected = parameters_of(filterset_class({}, queryset=filterset_class.base_queryset()))
        assert listed == expected | {"page", "bom"}, name
    claims = page.split('id="parameters-claims"')[1].split("</table>")[0]
    assert "unnamed_sources" in claims


def test_filtered_and_unfiltered_downloads_are_named_apart_and_each_filter_by_its_own_name(client):
    from django.utils import timezone

    def name_of(url):
        response = client.get(url)
        b"".join(response.streaming_content)  # read to the end, as a client does, closing the query
        return response["Content-Disposition"].split('filename="')[1].rstrip('"')

    today = timezone.localdate().isoformat()
    assert name_of("/claims.csv") == f"claims-{today}.csv"
    assert name_of("/claims.csv?page=3&bom=1") == f"claims-{today}.csv"
    disputed = name_of("/claims.csv?disputed=true")
    undisputed = name_of("/claims.json?disputed=false")
    assert disputed.startswith("claims-filtered-") and disputed.endswith(f"-{today}.csv")
    assert undisputed.removesuffix(".json") != disputed.removesuffix(".csv")
    assert name_of("/claims.csv?disputed=true&bom=1") == disputed


def test_every_filter_input_on_every_list_has_a_name_a_screen_reader_can_read(client):
    from html.parser import HTMLParser

    class Inputs(HTMLParser):
        def __init__(self):
            super().__init__()
            self.inputs, self.labelled = [], set()

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "label" and attrs.get("for"):
                self.labelled.add(attrs["for"])
            if tag in ("input", "select") and attrs.get("type") not in ("hidden", "submit"):
                self.inputs.append(attrs)

    for url_name in LIST_PAGES.values():
        html = client.get(reverse(url_name)).content.decode()
        assert "[invalid name]" not in html, url_name
        parser = Inputs()
        parser.feed(html)
        unnamed = [
            attrs.get("name")
            for attrs in parser.inputs
            if not attrs.get("aria-label") and attrs.get("id") not in parser.labelled
        ]
        assert unnamed == [], (url_name, unnamed)
