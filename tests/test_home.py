import pytest
from django.urls import reverse

from sources.records import PublicationStatus
from tests.builders import make_article, make_claim, make_round

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED


def test_the_home_page_counts_and_lists_only_published_records(client):
    make_round(title="Geneva round", publication_status=PUBLISHED)
    make_round(title="Secret draft round")
    make_claim(publication_status=PUBLISHED)
    make_claim()
    make_article()
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert response.context["counts"] == {
        "rounds": 1,
        "claims": 1,
        "articles": 0,
        "participants": 0,
        "issues": 0,
    }
    page = response.content.decode()
    assert "Geneva round" in page
    assert "Secret draft round" not in page


def test_the_home_page_says_when_nothing_is_published_yet(client):
    make_round()
    assert "No rounds are published yet." in client.get(reverse("home")).content.decode()
