"""The corrections log (/changes/) and the feeds' dates follow only what readers can see."""

import datetime
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse
from django.utils import timezone

from talks.models import PublicChange
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
ATOM = "{http://www.w3.org/2005/Atom}"
LONG_AGO = timezone.make_aware(datetime.datetime(2026, 3, 1, 12, 0))


def entries(*fields):
    """The log, oldest first: each entry's kind, record and what changed, or the fields asked for."""
    fields = fields or ("kind", "record_label", "changed_fields")
    return list(PublicChange.objects.order_by("at", "id").values_list(*fields))


def feed_updated(client, name, *args) -> str:
    feed = ET.fromstring(client.get(reverse(name, args=args)).content)
    return feed.find(f"{ATOM}updated").text


def last_seen_long_ago(*records):
    """As if readers last saw these records change long ago, so a new change would show in the feeds."""
    for record in records:
        type(record).objects.filter(pk=record.pk).update(
            first_published_at=LONG_AGO, public_updated_at=LONG_AGO
        )
    PublicChange.objects.update(at=LONG_AGO)


# Links to drafts -------------------------------------------------------------------------------------


def test_citing_a_draft_article_on_a_published_claim_is_no_public_change(client):
    claim = make_public_claim(text="Cited twice.")
    last_seen_long_ago(claim)
    before = entries()
    make_citation(claim=claim, article=make_article(), quote="a draft's words")
    assert entries() == before
    assert feed_updated(client, "claims_feed") == LONG_AGO.isoformat()
    assert feed_updated(client, "changes_feed") == LONG_AGO.isoformat()


def test_tagging_a_published_claim_with_a_draft_issue_is_no_public_change(client):
    claim = make_public_claim(text="Tagged.")
    last_seen_long_ago(claim)
    before = entries()
    claim.issues.add(make_issue(name="A draft issue"))
    assert entries() == before
    assert feed_updated(client, "claims_feed") == LONG_AGO.isoformat()
    assert feed_updated(client, "changes_feed") == LONG_AGO.isoformat()


def test_seating_a_draft_person_in_a_published_rounds_delegation_is_no_public_change(client):
    round_ = make_round(title="Geneva", publication_status=PUBLISHED)
    delegation = make_delegation(round=round_)
    last_seen_long_ago(round_)
    before = entries()
    make_membership(delegation=delegation, participant=make_participant(name="A draft person"))
    assert entries() == before
    assert feed_updated(client, "rounds_feed") == LONG_AGO.isoformat()
    assert feed_updated(client, "changes_feed") == LONG_AGO.isoformat()


def test_seating_a_published_person_is_a_public_change_of_the_round(client):
    round_ = make_round(title="Geneva", publication_status=PUBLISHED)
    delegation = make_delegation(round=round_)
    last_seen_long_ago(round_)
    make_membership(delegation=delegation, participant=make_participant(publication_status=PUBLISHED))
    assert entries()[-1] == ("updated", "Geneva", "delegations")
    assert feed_updated(client, "rounds_feed") > LONG_AGO.isoformat()


def test_a_citation_moved_from_a_published_article_to_a_draft_is_a_public_change():
    claim = make_public_claim(text="Moved.")
    before = len(entries())
    citation = claim.citations.first()
    citation.article = make_article()
    citation.save()  # readers no longer see this source
    assert entries()[before:] == [("updated", "Moved.", "sources")]


def test_publishing_a_cited_draft_article_is_one_entry_the_articles_own():
    claim = make_public_claim(text="Waiting for its source.")
    article = make_article(headline="Draft until now")
    make_citation(claim=claim, article=article, quote="a draft's words")
    before = len(entries())
    article.publication_status = PUBLISHED
    article.save()
    assert entries()[before:] == [("published", "Draft until now", "")]
