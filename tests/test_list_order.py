"""A filtered list pages through its matches in the order the database gives them: the list index
(talks/list_index.py) orders them from ranks the database computed, NULLs, ties and text collation
included, on every page."""

import datetime

import pytest
from django.urls import reverse

from talks.lists import CLAIMS
from talks.models import Claim
from tests.builders import (
    PUBLISHED,
    make_article,
    make_claim,
    make_issue,
    make_participant,
    make_party,
    unique,
)

pytestmark = pytest.mark.django_db

ORDERINGS = ["", "date", "-date", "outlets", "-outlets", "added", "-added"]


@pytest.fixture
def claims_on_one_issue():
    issue = make_issue(publication_status=PUBLISHED)
    start = datetime.date(2026, 2, 1)
    for n in range(60):
        # Every third claim has no date, and dates and outlet counts repeat: NULLs and ties everywhere.
        date = None if n % 3 == 0 else start + datetime.timedelta(days=n % 7)
        claim = make_claim(publication_status=PUBLISHED, date=date)
        claim.issues.add(issue)
        Claim.objects.filter(pk=claim.pk).update(outlet_count=n % 4)  # the stored evidence, as if cited
    return issue


def page_keys(client, name, query):
    response = client.get(reverse(name) + query)
    assert response.status_code == 200, query
    return [record.pk for record in response.context["object_list"]]


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_a_filtered_list_pages_through_its_rows_in_the_order_the_database_gives_the_whole_list(
    client, claims_on_one_issue, ordering
):
    for page in (1, 2, 3):
        unfiltered = page_keys(client, "claim_list", f"?ordering={ordering}&page={page}")  # by the database
        filtered = page_keys(
            client, "claim_list", f"?issue={claims_on_one_issue.slug}&ordering={ordering}&page={page}"
        )
        assert filtered == unfiltered and len(filtered) == (25 if page < 3 else 10), (ordering, page)


@pytest.mark.parametrize("ordering", ["", "headline", "-headline", "date", "-date"])
def test_text_is_ordered_by_the_databases_collation_with_ties_broken_by_key(client, ordering):
    # Headlines differing only in case, accents and punctuation, several of them twice, some dates missing.
    headlines = [
        "Zelensky",
        "zelensky",
        "Écoles",
        "ecoles",
        "Alpha",
        "alpha-2",
        "Alpha",
        "beta",
        "Beta",
        "_x",
    ]
    for n in range(40):
        dated = n % 4 != 0
        make_article(
            headline=headlines[n % len(headlines)],
            published_on=datetime.date(2026, 2, 1 + n % 5) if dated else None,
            published_on_precision="day" if dated else "",
            publication_status=PUBLISHED,
        )

    def whole(query):
        pages = client.get(reverse("source_list") + query).context["paginator"].num_pages
        return [
            key for n in range(1, pages + 1) for key in page_keys(client, "source_list", f"{query}&page={n}")
        ]

    unfiltered = whole(f"?ordering={ordering}")  # ordered by the database
    assert len(unfiltered) == 40
    assert whole(f"?outlet=unknown&ordering={ordering}") == unfiltered  # all of them, by the list index
    some = whole(f"?q=e&ordering={ordering}")
    assert 0 < len(some) < 40
    assert some == [key for key in unfiltered if key in some]


def test_people_with_the_same_name_keep_one_order_across_pages(client):
    party = make_party()
    for _ in range(30):
        make_participant(
            name="Ivan Petrov", slug=unique("ivan-petrov"), party=party, publication_status=PUBLISHED
        )
    pages = [page_keys(client, "participant_list", f"?party={party.slug}&page={page}") for page in (1, 2)]
    assert pages[0] + pages[1] == sorted(pages[0] + pages[1])  # the same name: by key


def test_orders_reading_other_tables_are_left_to_the_database():
    assert CLAIMS.ordering_of(Claim.objects.order_by("round__start_date")) is None
    assert CLAIMS.ordering_of(Claim.objects.order_by("?")) is None
    assert CLAIMS.ordering_of(Claim.objects.order_by("text")) is None  # not a column the index watches
    assert CLAIMS.ordering_of(Claim.objects.all()) is not None
