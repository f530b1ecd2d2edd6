"""The API's lists count what the site's lists count: for every list, with no filter, with each
filter, and with each value its facets offer, over the seed archive."""

import pytest
from django.urls import reverse

from talks.models import Claim, Participant

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded_module", "unthrottled_api")]

# Each list: its page, its API address, and filters of every kind it takes (facets' values are
# added from the page itself).
LISTS = {
    "claims": ("claim_list", "api:claim-list"),
    "rounds": ("round_list", "api:round-list"),
    "sources": ("source_list", "api:article-list"),
    "participants": ("participant_list", "api:person-list"),
    "issues": ("issue_list", "api:issue-list"),
    "disagreements": ("disagreement_list", "api:disagreement-list"),
}


def filters_of(name: str) -> list[dict]:
    speaker = Participant.objects.published().filter(claims__in=Claim.objects.published()).first()
    common = [{}, {"q": "Geneva"}, {"q": "ceasefire talks"}, {"q": "zzzz-no-such-word"}]
    return (
        common
        + {
            "claims": [
                {"disputed": "true"},
                {"disputed": "false"},
                {"min_outlets": "2"},
                {"date_after": "2026-02-01", "date_before": "2026-02-28"},
                {"outlet": "unknown"},
                {"disagreement": "true"},
                {"disagreement": "false"},
                {"sourcing": "hedged"},
                {"occurrence": "happened"},
                {"speaker": speaker.slug},
                {"ordering": "-outlets", "kind": "demand"},
                {"updated_since": "2000-01-01T00:00:00Z"},
            ],
            "rounds": [{"year": "2026"}, {"date_after": "2026-01-01"}, {"issue": "territory"}],
            "sources": [{"date_after": "2026-02-18"}, {"round": "geneva-2026-february"}],
            "participants": [{"role": "head"}, {"round": "geneva-2026-february"}],
            "issues": [],
            "disagreements": [{"round": "geneva-2026-february"}, {"issue": "territory"}],
        }[name]
    )


def html_count(client, page: str, query: dict) -> tuple[int, list]:
    response = client.get(reverse(page), query)
    assert response.status_code == 200, (page, query)
    facets = response.context["facets"]
    return response.context["result_count"], [
        (facet.param, choice.value) for facet in facets for choice in facet.choices
    ]


def api_count(client, name: str, query: dict) -> int:
    response = client.get(reverse(name), query)
    assert response.status_code == 200, (name, query, response.content)
    return response.json()["count"]


@pytest.mark.parametrize("list_name", LISTS)
def test_the_api_counts_what_the_list_counts_for_every_filter_and_facet_value(client, list_name):
    page, api = LISTS[list_name]
    queries = filters_of(list_name)
    _, facet_values = html_count(client, page, {})
    queries += [{param: value} for param, value in facet_values]
    assert len(queries) > 3
    for query in queries:
        html_query = {name: value for name, value in query.items() if name != "updated_since"}
        expected, _ = html_count(client, page, html_query)
        assert api_count(client, api, query) == expected, (list_name, query)
