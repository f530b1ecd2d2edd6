"""A draft never shows on a page, in a count, a facet, a search result or a link."""

import pytest
from django.urls import reverse

from tests.builders import (
    PUBLISHED,
    make_article,
    make_citation,
    make_delegation,
    make_issue,
    make_membership,
    make_participant,
    make_public_claim,
    make_round,
)

pytestmark = pytest.mark.django_db
SECRET = "Zanzibar"  # a word only drafts contain


@pytest.fixture
def archive_with_drafts():
    public = make_public_claim(text="A published claim.")
    draft_round = make_round(title=f"{SECRET} round")
    draft_person = make_participant(name=f"{SECRET} Person")
    draft_issue = make_issue(name=f"{SECRET} issue")
    draft_article = make_article(headline=f"{SECRET} article")
    make_public_claim(
        text="Another published claim.", round=draft_round, speaker=draft_person, issue=draft_issue
    )
    make_citation(claim=public, article=draft_article, quote=f"{SECRET} quote")
    draft_claim = make_public_claim(text=f"{SECRET} claim")
    draft_claim.publication_status = "draft"
    draft_claim.save()
    make_membership(delegation=make_delegation(round=public.round), participant=draft_person)
    return public, draft_round, draft_person, draft_issue, draft_article


def public_pages(public):
    return [
        reverse("home"),
        reverse("round_list"),
        reverse("round_detail", args=[public.round.slug]),
        reverse("track_list"),
        reverse("track_detail", args=[public.round.track.slug]),
        reverse("track_timeline_json", args=[public.round.track.slug]),
        reverse("timeline_json"),
        reverse("issue_list"),
        reverse("issue_detail", args=[public.issues.get().slug]),
        reverse("participant_list"),
        reverse("participant_detail", args=[public.speaker.slug]),
        reverse("source_list"),
        reverse("source_detail", args=[public.citations.first().article.pk]),
        reverse("claim_list"),
        reverse("claim_detail", args=[public.pk]),
        reverse("search") + "?q=claim",
    ]


def test_no_public_page_shows_anything_of_a_draft(client, archive_with_drafts):
    public = archive_with_drafts[0]
    for url in public_pages(public):
        response = client.get(url)
        assert response.status_code == 200, url
        assert SECRET not in response.content.decode(), url


def test_searching_for_a_drafts_words_finds_nothing(client, archive_with_drafts):
    response = client.get(reverse("search") + f"?q={SECRET}")
    assert response.context["total"] == 0


def test_a_drafts_own_page_is_not_found(client, archive_with_drafts):
    _, draft_round, draft_person, draft_issue, draft_article = archive_with_drafts
    for url in [
        reverse("round_detail", args=[draft_round.slug]),
        reverse("participant_detail", args=[draft_person.slug]),
        reverse("issue_detail", args=[draft_issue.slug]),
        reverse("source_detail", args=[draft_article.pk]),
    ]:
        assert client.get(url).status_code == 404, url


def test_counts_count_only_published_records(client, archive_with_drafts):
    counts = client.get(reverse("home")).context["counts"]
    assert counts == {
        "rounds": 2,
        "claims": 2,
        "articles": 6,
        "participants": 2,
        "issues": 2,
        "disagreements": 0,
    }


def test_a_draft_article_does_not_add_to_a_claims_outlet_count(client, archive_with_drafts):
    public = archive_with_drafts[0]
    html = client.get(reverse("claim_detail", args=[public.pk])).content.decode()
    assert "reported by 2 outlets" in html


def test_filtering_by_a_drafts_slug_is_refused_like_any_unknown_value(client, archive_with_drafts):
    _, draft_round, draft_person, draft_issue, _ = archive_with_drafts
    for query in [f"round={draft_round.slug}", f"speaker={draft_person.slug}", f"issue={draft_issue.slug}"]:
        response = client.get(reverse("claim_list") + "?" + query)
        assert response.status_code == 200
        assert response.context["result_count"] == 0
        assert "Select a valid choice" in response.content.decode()


def test_a_published_round_lists_only_published_people_in_its_delegations(client, archive_with_drafts):
    public = archive_with_drafts[0]
    make_membership(
        delegation=public.round.delegations.first(),
        participant=make_participant(name="Open Person", publication_status=PUBLISHED),
    )
    html = client.get(reverse("round_detail", args=[public.round.slug])).content.decode()
    assert "Open Person" in html and SECRET not in html
