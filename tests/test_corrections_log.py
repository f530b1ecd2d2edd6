"""The corrections log (/changes/) and the feeds' dates follow only what readers can see, one entry per
record for each import or admin save."""

import datetime
import io
import xml.etree.ElementTree as ET

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from sources.models import SourceArticle
from talks.changes import one_entry_per_record
from talks.models import Claim, Disagreement, Issue, Participant, PublicChange, Round
from tests.admin_forms import form_as_shown
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
from tests.packages import copy_of_seed, import_seed, read_rows, set_cell

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


# One entry per record --------------------------------------------------------------------------------


def test_a_stance_change_says_so():
    claim = make_public_claim(text="Disputed now.")
    citation = claim.citations.get(stance="supports")
    citation.stance = "disputes"
    citation.save()
    assert entries()[-1] == ("updated", "Disputed now.", "sources (stance changed: supports → disputes)")


def test_changes_within_one_block_are_one_entry_per_record():
    claim = make_public_claim(text="Corrected twice.")
    other = make_public_claim(text="Corrected once.")
    before = len(entries())
    with one_entry_per_record():
        first, second = claim.citations.order_by("id")
        first.quote, first.note = "the right words", "says 'over 390'"
        first.save()
        second.stance = "mentions"
        second.save()
        other.text = "Corrected once, and only once."
        other.save()
    assert sorted(entries()[before:]) == [
        ("updated", "Corrected once, and only once.", "text"),
        (
            "updated",
            "Corrected twice.",
            "sources (quote changed; public note changed; stance changed: disputes → mentions)",
        ),
    ]


def test_a_block_that_fails_writes_no_entry():
    claim = make_public_claim(text="Never corrected.")
    before = len(entries())
    with pytest.raises(RuntimeError), one_entry_per_record():
        claim.text = "A correction that fails."
        claim.save()
        raise RuntimeError
    assert len(entries()) == before


def test_importing_the_seed_is_one_entry_per_record_it_publishes():
    import_seed()
    log = entries()
    assert {kind for kind, _, _ in log} == {"published"}
    published = sum(
        model.objects.published().count()
        for model in [SourceArticle, Round, Participant, Issue, Claim, Disagreement]
    )
    assert len(log) == published
    witkoff = [label for _, label, _ in log if label.startswith("Special Envoy Steve Witkoff")]
    assert len(witkoff) == 1


def test_importing_a_corrected_citation_again_is_one_entry_saying_what_changed(tmp_path):
    package = copy_of_seed(tmp_path)
    import_seed()
    rows = read_rows(package / "citations.csv")
    header = rows[0]
    line = next(
        number
        for number, row in enumerate(rows[1:], start=2)
        if row[header.index("claim")] == "witkoff-and-kushner-lead-us-team"
        and row[header.index("stance")] == "supports"
    )
    set_cell(package / "citations.csv", line, "stance", "disputes")
    set_cell(package / "citations.csv", line, "note", "the delegation, not the talks")
    before = len(entries())
    call_command("import_dataset", str(package), stdout=io.StringIO())
    assert [(kind, fields) for kind, _, fields in entries()[before:]] == [
        ("updated", "sources (stance changed: supports → disputes; public note changed)")
    ]


def test_saving_a_claim_with_its_citations_and_issues_in_the_admin_is_one_entry(chief_client):
    claim = make_public_claim(text="Before the save.")
    issues = [str(issue.pk) for issue in [*claim.issues.all(), make_issue(publication_status=PUBLISHED)]]
    before = len(entries())
    url = reverse("admin:talks_claim_change", args=[claim.pk])
    data = form_as_shown(
        chief_client.get(url),
        text="After the save.",
        issues=issues,
        change_note="One correction.",
        **{"citations-0-stance": "disputes", "citations-1-note": "says 'over 390'"},
    )
    assert chief_client.post(url, data).status_code == 302
    assert entries("kind", "changed_fields", "note")[before:] == [
        (
            "updated",
            "text, issues, sources (stance changed: supports → disputes; public note changed)",
            "One correction.",
        )
    ]


def test_deleting_a_published_claim_in_the_admin_is_one_entry(chief_client):
    claim = make_public_claim(text="Deleted with its citations.")
    before = len(entries())
    chief_client.post(reverse("admin:talks_claim_delete", args=[claim.pk]), {"post": "yes"})
    assert entries()[before:] == [("deleted", "Deleted with its citations.", "")]
