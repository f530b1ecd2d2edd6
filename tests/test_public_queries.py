"""Each public page runs the same number of queries whatever the amount of data: pinned at two sizes."""

from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from talks import sitemaps
from talks.models import DisagreementClaim
from tests.builders import (
    PUBLISHED,
    make_article,
    make_citation,
    make_claim,
    make_delegation,
    make_disagreement,
    make_issue,
    make_membership,
    make_participant,
    make_public_claim,
    make_round,
    make_track,
)

pytestmark = pytest.mark.django_db


class Archive:
    """An archive that grows around one round, issue, person and article, so every page gets longer."""

    def __init__(self):
        self.track = make_track()
        self.round = make_round(
            track=self.track, sequence=0, publication_status=PUBLISHED
        )  # builders count from 1
        self.issue = make_issue(name="Territory", publication_status=PUBLISHED)
        self.person = make_participant(
            name="Vladimir Medinsky", aliases="Medinski", publication_status=PUBLISHED
        )
        self.article = make_article(headline="Talks in Geneva", publication_status=PUBLISHED)
        self.claim = make_claim(text="A claim with many citations.", publication_status=PUBLISHED)
        self.disagreement = make_disagreement(
            question="How many drones were there?", round=self.round, publication_status=PUBLISHED
        )

    def grow(self, n):
        for _ in range(n):
            claim = make_public_claim(
                text="Geneva claim", round=self.round, speaker=self.person, issue=self.issue
            )
            claim.issues.add(
                make_issue(
                    name=f"Geneva sub-issue {claim.pk}", parent=self.issue, publication_status=PUBLISHED
                )
            )
            make_citation(claim=claim, article=self.article)
            make_citation(claim=self.claim, article=make_article(publication_status=PUBLISHED))
            make_membership(delegation=make_delegation(round=self.round), participant=self.person)
            make_round(track=self.track, title=f"Geneva round {claim.pk}", publication_status=PUBLISHED)
            make_participant(name=f"Geneva delegate {claim.pk}", publication_status=PUBLISHED)
            DisagreementClaim.objects.create(disagreement=self.disagreement, claim=claim, version="another")
            make_disagreement(
                question=f"Geneva question {claim.pk}?",
                versions=[(claim, "one"), (self.claim, "other")],
                round=self.round,
                publication_status=PUBLISHED,
            )

    def pages(self):
        return {
            "home": reverse("home"),
            "about": reverse("about"),
            "round list": reverse("round_list"),
            "round list, filtered": reverse("round_list")
            + f"?issue={self.issue.slug}&year=2026&ordering=-date",
            "round": reverse("round_detail", args=[self.round.slug]),
            "track list": reverse("track_list"),
            "track": reverse("track_detail", args=[self.track.slug]),
            "track timeline, TimelineJS": reverse("track_timeline_json", args=[self.track.slug]),
            "issue list": reverse("issue_list"),
            "issue": reverse("issue_detail", args=[self.issue.slug]),
            "participant list": reverse("participant_list") + "?q=Geneva",
            "participant": reverse("participant_detail", args=[self.person.slug]),
            "source list": reverse("source_list"),
            "source": reverse("source_detail", args=[self.article.pk]),
            "claim list": reverse("claim_list"),
            "claim list, filtered": reverse("claim_list")
            + f"?issue={self.issue.slug}&disputed=true&min_outlets=2",
            "claim": reverse("claim_detail", args=[self.claim.pk]),
            "claim list, by disagreement and sourcing": reverse("claim_list")
            + "?disagreement=true&sourcing=reported",
            "disagreement list": reverse("disagreement_list"),
            "disagreement list, filtered": reverse("disagreement_list") + f"?round={self.round.slug}",
            "disagreement": reverse("disagreement_detail", args=[self.disagreement.slug]),
            "disagreements feed": reverse("disagreements_feed"),
            "search": reverse("search") + "?q=Geneva",
            "changes": reverse("changes"),
            "claims feed": reverse("claims_feed"),
            "rounds feed": reverse("rounds_feed"),
            "issue feed": reverse("issue_feed", args=[self.issue.slug]),
            "claim embed": reverse("claim_embed", args=[self.claim.pk]),
            "oembed": reverse("oembed") + f"?url=http://testserver/claims/{self.claim.pk}/",
            "claim citation, BibTeX": reverse("claim_cite_bib", args=[self.claim.pk]),
            "round citation, CSL-JSON": reverse("round_cite_json", args=[self.round.slug]),
            "sitemap": reverse("sitemap"),
            "sitemap of claims": reverse("sitemap_section", args=["claims"])
            + f"?p={self.claim.pk // sitemaps.BLOCK + 1}",
        }


def queries_per_page(client, archive):
    """Each page's queries on its second request: the first after a write also reads, in a fixed
    number of queries, what the write changed in the lists' in-memory index (talks/list_index.py),
    by patching it or reading it whole, whichever the process's last reading calls for."""
    counts = {}
    for name, url in archive.pages().items():
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, name
        counts[name] = len(queries)
    return counts


def test_every_public_page_runs_as_many_queries_for_30_rows_as_for_3(client):
    archive = Archive()
    archive.grow(3)
    small = queries_per_page(client, archive)
    archive.grow(27)
    large = queries_per_page(client, archive)
    assert large == small
    assert max(small.values()) <= 25


RECORD_PAGES = ["round", "issue", "participant", "source", "claim", "disagreement"]
# The claim's card: the claim with its round, party and speaker; its published citations with their
# articles; its issues; its published disagreements; the cited articles' original addresses.
SHARING_PAGES = {
    "claim embed": 5,
    "oembed": 1,
    "claim citation, BibTeX": 2,
    "round citation, CSL-JSON": 2,
}


def test_the_cite_block_costs_each_record_page_one_query_the_latest_release(client):
    archive = Archive()
    archive.grow(3)
    with_block = queries_per_page(client, archive)
    with mock.patch("talks.citing.latest_release", return_value=None):
        without_release = queries_per_page(client, archive)
    for name in RECORD_PAGES:
        assert with_block[name] == without_release[name] + 1, name
    assert {name: with_block[name] for name in SHARING_PAGES} == SHARING_PAGES
