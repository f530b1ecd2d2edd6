import pytest
from django.urls import reverse

from sources.record_base import PublicationStatus
from tests.builders import make_article, make_claim, make_disagreement, make_round, make_track

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED


def test_the_home_page_counts_and_lists_only_published_records(client):
    make_round(title="Geneva round", publication_status=PUBLISHED)
    make_round(title="Secret draft round")
    make_claim(publication_status=PUBLISHED)
    make_claim()
    make_article()
    make_disagreement(question="A draft question?")
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert response.context["counts"] == {
        "rounds": 1,
        "claims": 1,
        "articles": 0,
        "participants": 0,
        "issues": 0,
        "disagreements": 0,
    }
    page = response.content.decode()
    assert "Geneva round" in page
    assert "Secret draft round" not in page


def test_the_home_page_says_when_nothing_is_published_yet(client):
    make_round()
    assert "No rounds are published yet." in client.get(reverse("home")).content.decode()


def test_the_timeline_shows_each_tracks_six_latest_published_rounds_oldest_first(client):
    long_track, short_track = make_track(name="Long track"), make_track(name="Short track")
    for sequence in range(1, 9):
        make_round(
            title=f"Long {sequence}", track=long_track, sequence=sequence, publication_status=PUBLISHED
        )
    make_round(title="Long draft", track=long_track, sequence=9)
    for sequence in (1, 2):
        make_round(
            title=f"Short {sequence}", track=short_track, sequence=sequence, publication_status=PUBLISHED
        )
    tracks = {track.name: track for track in client.get(reverse("home")).context["tracks"]}
    assert [round_.title for round_ in tracks["Long track"].public_rounds] == [
        f"Long {n}" for n in range(3, 9)
    ]
    assert [round_.title for round_ in tracks["Short track"].public_rounds] == ["Short 1", "Short 2"]


def test_an_issue_on_the_home_page_counts_its_sub_issues_claims_as_its_own_page_does(client):
    from tests.builders import make_issue, make_public_claim

    territory = make_issue(name="Territory", publication_status=PUBLISHED)
    donbas = make_issue(name="Donbas", parent=territory, publication_status=PUBLISHED)
    make_public_claim(issue=territory)
    make_public_claim(issue=donbas)
    make_public_claim(issue=donbas)
    home = client.get(reverse("home"))
    counts = {issue.name: issue.claim_count for issue in home.context["issues"]}
    assert counts == {"Territory": 3}
    assert client.get(territory.get_absolute_url()).context["claim_count"] == 3
