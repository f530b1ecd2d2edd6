"""A filtered list is ordered in Python from its one scan of the matches: exactly as the database
orders the same rows, NULLs and ties included, on every page."""

import datetime

import pytest
from django.urls import reverse

from talks.lists import sort_terms
from talks.models import Claim, Participant
from tests.builders import PUBLISHED, make_claim, make_issue

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


def page_keys(client, query):
    response = client.get(reverse("claim_list") + query)
    assert response.status_code == 200, query
    return [claim.pk for claim in response.context["object_list"]]


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_a_filtered_list_pages_through_its_rows_in_the_order_the_database_gives_the_whole_list(
    client, claims_on_one_issue, ordering
):
    for page in (1, 2, 3):
        unfiltered = page_keys(client, f"?ordering={ordering}&page={page}")  # ordered by the database
        filtered = page_keys(client, f"?issue={claims_on_one_issue.slug}&ordering={ordering}&page={page}")
        assert filtered == unfiltered and len(filtered) == (25 if page < 3 else 10), (ordering, page)


def test_orderings_python_cannot_match_are_left_to_the_database():
    assert sort_terms(Participant.objects.order_by("name")) is None  # text: the database's collation
    assert sort_terms(Claim.objects.order_by("round__start_date")) is None  # a related field
    assert sort_terms(Claim.objects.order_by("?")) is None
    assert [term.column for term in sort_terms(Claim.objects.all())] == ["date", "id"]
