"""Every list filter by its public parameter; bad values give messages, never errors."""

import html as html_module
import json
import re

import pytest
from django.urls import reverse

from talks.evidence import refresh_evidence
from talks.models import Claim

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded_module")]


def results(client, name, query=""):
    response = client.get(reverse(name) + query)
    assert response.status_code == 200, query
    return response


def keys(response):
    return {
        getattr(record, "key", None) or getattr(record, "slug", None)
        for record in response.context["object_list"]
    }


def count(client, name, query=""):
    return results(client, name, query).context["result_count"]


def test_claims_by_issue_include_the_claims_of_its_sub_issues(client):
    territory, donbas = (
        count(client, "claim_list", "?issue=territory"),
        count(client, "claim_list", "?issue=donbas"),
    )
    assert territory > donbas > 0
    assert "russia-demands-donbas" in keys(results(client, "claim_list", "?issue=territory"))


def test_claims_by_issue_and_party_narrow_the_count(client):
    everything = count(client, "claim_list")
    by_issue = count(client, "claim_list", "?issue=territory")
    by_both = count(client, "claim_list", "?issue=territory&party=russia")
    assert everything > by_issue > by_both > 0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?speaker=vladimir-medinsky", "medinsky-difficult-but-business-like"),
        ("?kind=figure", "strike-29-missiles-396-drones"),
        ("?round=istanbul-2022-march", "istanbul-medinsky-chief-negotiator"),
        ("?outlet=swi-swissinfo-ch", "venue-hotel-intercontinental"),
        ("?outlet=unknown", "geneva-ended-without-breakthrough"),
        ("?disputed=true", "donbas-under-moscow-control"),
        ("?min_outlets=4", "ukraine-rejects-withdrawal"),
        ("?q=Medinski", "medinsky-leads-russia"),
        ("?q=business-like", "medinsky-difficult-but-business-like"),
    ],
)
def test_claims_filter_by_each_parameter(client, query, expected):
    found = keys(results(client, "claim_list", query))
    assert expected in found


def test_disputed_false_and_min_outlets_exclude_what_they_should(client):
    assert "donbas-under-moscow-control" not in keys(results(client, "claim_list", "?disputed=false"))
    many = results(client, "claim_list", "?min_outlets=4").context["object_list"]
    assert all(claim.outlet_count >= 4 for claim in many)


def test_each_end_of_a_date_range_is_shown_as_a_day_and_removed_on_its_own(client):
    page = results(client, "source_list", "?date_after=2026-02-01&date_before=2026-02-28&language=en")
    html = page.content.decode()
    assert (
        'href="?date_before=2026-02-28&amp;language=en" '
        'aria-label="Remove filter Published (from, to) from: 2026-02-01"' in html
    )
    assert (
        'href="?date_after=2026-02-01&amp;language=en" '
        'aria-label="Remove filter Published (from, to) to: 2026-02-28"' in html
    )


def test_claims_by_date_range(client):
    claim = Claim.objects.filter(key="zelensky-not-easy")
    stored = claim.values("date", "date_precision").get()
    claim.update(date="2026-02-19", date_precision="day")
    refresh_evidence(claim.values("pk"))
    assert keys(results(client, "claim_list", "?date_after=2026-02-19&date_before=2026-02-19")) == {
        "zelensky-not-easy"
    }
    assert count(client, "claim_list", "?date_before=2021-01-01") == 0
    claim.update(**stored)
    refresh_evidence(claim.values("pk"))


def downloaded_rows(client, query):
    response = client.get(reverse("claims_json") + query)
    return json.loads(b"".join(response.streaming_content))


def test_a_claim_without_a_date_of_its_own_is_filtered_by_its_rounds_and_says_so(client):
    geneva = Claim.objects.published().filter(round__slug="geneva-2026-february")
    undated = geneva.filter(date__isnull=True)
    assert undated.exists()
    # The February round's start is 17 February: its undated claims are found under that day.
    on_the_17th = downloaded_rows(client, "?date_after=2026-02-17&date_before=2026-02-17")
    assert set(undated.values_list("key", flat=True)) <= {row["key"] for row in on_the_17th}
    in_february = downloaded_rows(client, "?date_after=2026-02-01&date_before=2026-02-28")
    assert set(geneva.values_list("key", flat=True)) <= {row["key"] for row in in_february}
    card = results(client, "claim_list", "?date_after=2026-02-17&date_before=2026-02-17").content.decode()
    assert "dated by its round: 17–18 February 2026" in card


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "?track=us-brokered-trilateral-talks-2026",
            {"abu-dhabi-2026-january", "abu-dhabi-2026-february", "geneva-2026-february"},
        ),
        ("?party=italy", {"geneva-2026-february"}),
        ("?issue=negotiating-teams", {"geneva-2026-february", "istanbul-2022-march"}),
        ("?year=2022", {"istanbul-2022-march"}),
        ("?date_after=2026-02-10&date_before=2026-02-28", {"geneva-2026-february"}),
        ("?country=Turkey", {"istanbul-2022-march"}),
        ("?format=trilateral", {"geneva-2026-february"}),
        ("?status=held&q=Istanbul", {"istanbul-2022-march"}),
    ],
)
def test_rounds_filter_by_each_parameter(client, query, expected):
    assert keys(results(client, "round_list", query)) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?outlet=unknown", 4),
        ("?outlet=swi-swissinfo-ch", 1),
        ("?language=en", 5),
        ("?date_after=2026-02-18", 2),
        ("?round=istanbul-2022-march", 1),
        ("?q=Deadlock", 1),
    ],
)
def test_sources_filter_by_each_parameter(client, query, expected):
    assert count(client, "source_list", query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?q=Medinski", {"vladimir-medinsky"}),
        ("?q=Zelenskyy", {"volodymyr-zelensky"}),
        ("?role=military", {"michael-adamski"}),
        ("?round=istanbul-2022-march", {"vladimir-medinsky"}),
        ("?party=switzerland", {"ignazio-cassis"}),
    ],
)
def test_participants_filter_by_each_parameter(client, query, expected):
    assert keys(results(client, "participant_list", query)) == expected


@pytest.mark.parametrize(
    ("name", "query", "field"),
    [
        ("claim_list", "?kind=rumour", "kind"),
        ("claim_list", "?issue=no-such-issue", "issue"),
        ("claim_list", "?disputed=maybe", "disputed"),
        ("claim_list", "?min_outlets=two", "min_outlets"),
        ("claim_list", "?min_outlets=0", "min_outlets"),
        ("claim_list", "?date_after=2026-13-45", "date"),
        ("claim_list", "?ordering=colour", "ordering"),
        ("round_list", "?year=20260", "year"),
        ("round_list", "?country=Atlantis", "country"),
        ("source_list", "?outlet=no-such-outlet", "outlet"),
        ("participant_list", "?role=king", "role"),
        ("claim_list", "?q=" + "x" * 201, "q"),
    ],
)
def test_an_invalid_filter_shows_its_message_beside_the_field_and_no_rows(client, name, query, field):
    response = results(client, name, query)
    assert response.context["result_count"] == 0
    assert field in response.context["filter"].form.errors
    html = response.content.decode()
    assert "Some filters are not valid" in html and 'class="error"' in html


def test_lists_show_25_rows_a_page_and_a_page_past_the_end_is_a_styled_404(client):
    total = Claim.objects.published().count()
    pages = -(-total // 25)
    first = results(client, "claim_list")
    assert len(first.context["object_list"]) == 25 and first.context["paginator"].num_pages == pages
    assert 'rel="next"' in first.content.decode()
    last = results(client, "claim_list", f"?page={pages}")
    assert len(last.context["object_list"]) == total - 25 * (pages - 1)
    for query in [f"?page={pages + 1}", "?page=0", "?page=abc"]:
        response = client.get(reverse("claim_list") + query)
        assert response.status_code == 404
        assert "There is no published record at this address" in response.content.decode()


def test_pages_of_an_ordered_list_do_not_overlap(client):
    seen = []
    total = Claim.objects.published().count()
    for page in range(1, -(-total // 25) + 1):
        seen += [
            claim.pk
            for claim in results(client, "claim_list", f"?ordering=-outlets&page={page}").context[
                "object_list"
            ]
        ]
    assert len(seen) == len(set(seen)) == total


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/rounds/no-such-round/", 404),
        ("/claims/999999/", 404),
        ("/sources/99999999999999999999999999/", 404),
        ("/participants/%E2%82%AC/", 404),
        ("/claims/?round=%00", 400),
        ("/search/?q=%00", 400),
        ("/claims/?q=%FF%FE", 200),
        ("/rounds/?year=%F0%9F%98%80", 200),
    ],
)
def test_odd_addresses_and_query_strings_never_give_a_server_error(client, url, status):
    assert client.get(url).status_code == status


def test_a_very_long_query_string_gives_a_bad_request_or_the_page(client):
    response = client.get("/claims/?" + "&".join(f"p{i}=x" for i in range(2000)))
    assert response.status_code in (200, 400)
    response = client.get("/claims/?q=" + "Geneva " * 3000)
    assert response.status_code == 200 and response.context["result_count"] == 0


@pytest.mark.parametrize("list_name", ["claim_list", "source_list"])
def test_an_outlet_is_typed_by_slug_not_picked_from_a_list_of_every_outlet(client, list_name):
    html = client.get(reverse(list_name)).content.decode()
    assert '<select name="outlet"' not in html
    assert re.search(r'<input type="text" name="outlet"[^>]*placeholder="slug', html)
    typed = client.get(reverse(list_name) + "?outlet=unknown")
    assert typed.context["filters_valid"]
    refused = client.get(reverse(list_name) + "?outlet=no-such-outlet")
    assert not refused.context["filters_valid"] and "outlet" in refused.context["filter"].form.errors


def test_drop_downs_offer_the_public_records_by_name_with_the_chosen_one_selected(client):
    from talks.models import Issue

    draft = Issue.objects.create(name="Draft topic", slug="draft-topic", publication_status="draft")
    html = results(client, "claim_list", "?issue=territory").content.decode()
    issue_select = re.search(r'<select name="issue".*?</select>', html, re.S).group(0)
    options = re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', issue_select)
    public = list(Issue.objects.published().order_by("name").values_list("slug", "name"))
    assert [(value, html_module.unescape(name)) for value, _, name in options] == [("", "---------"), *public]
    assert [value for value, chosen, _ in options if chosen] == ["territory"]
    assert draft.slug not in issue_select
    party_select = re.search(r'<select name="party".*?</select>', html, re.S).group(0)
    assert '<option value="russia">Russia</option>' in party_select
