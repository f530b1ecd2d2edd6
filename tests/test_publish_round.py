"""A chief editor publishes a new round with the drafts beneath it, after one confirmation page."""

import datetime

import pytest
from django.urls import reverse

from sources.models import SourceArticle
from talks.models import Claim, Disagreement, Issue, Participant, PublicChange, Round
from tests.builders import (
    PUBLISHED,
    make_article,
    make_citation,
    make_claim,
    make_delegation,
    make_disagreement,
    make_issue,
    make_membership,
    make_outlet,
    make_participant,
    make_public_claim,
    make_round,
)

pytestmark = pytest.mark.django_db


def checked(claim):
    Claim.objects.filter(pk=claim.pk).update(checked_on=datetime.date(2026, 3, 1))
    return claim


@pytest.fixture
def new_round():
    """A draft round as an editor leaves it: a seated newcomer, a checked claim resting on a draft
    article, a draft speaker and a draft sub-issue of a draft issue, an unchecked claim, and two
    disagreements, one of which would be left with a single published claim."""
    round_ = make_round(title="Third round in Geneva")
    make_membership(
        delegation=make_delegation(round=round_), participant=make_participant(name="Seated Newcomer")
    )
    parent = make_issue(name="Security guarantees")
    child = make_issue(name="Monitoring the ceasefire", parent=parent)
    ready = make_claim(text="The ready claim", round=round_, speaker=make_participant(name="Draft Speaker"))
    ready.issues.add(child)
    make_citation(claim=ready, article=make_article(headline="A draft report", outlet=make_outlet()))
    checked(ready)
    unchecked = make_claim(text="The unchecked claim", round=round_)
    make_citation(claim=unchecked, article=make_article(publication_status=PUBLISHED, outlet=make_outlet()))
    already_public = make_public_claim(text="Already public", round=round_)
    Round.objects.filter(pk=round_.pk).update(publication_status="draft")
    agreed = make_disagreement(
        question="How many?", round=round_, versions=[(ready, "one"), (already_public, "two")]
    )
    stuck = make_disagreement(question="When?", round=round_, versions=[(ready, "now"), (unchecked, "later")])
    return {"round": round_, "ready": ready, "unchecked": unchecked, "agreed": agreed, "stuck": stuck}


def publish_url(round_):
    return reverse("admin:talks_round_publish_with_drafts", args=[round_.pk])


def status_of(record):
    return type(record).objects.filter(pk=record.pk).values_list("publication_status", flat=True).get()


def test_the_confirmation_page_lists_what_will_be_published_and_what_cannot_be_yet_and_why(
    chief_client, new_round
):
    page = chief_client.get(publish_url(new_round["round"]))
    assert page.status_code == 200
    to_publish = [str(record) for record in page.context["plan"].to_publish]
    assert to_publish == [
        str(SourceArticle.objects.get(headline="A draft report")),
        "Draft Speaker",
        "Seated Newcomer",
        "Security guarantees",
        "Monitoring the ceasefire",
        str(new_round["round"]),
        str(new_round["ready"]),
        str(new_round["agreed"]),
    ]
    held_back = {str(record): reasons for record, reasons in page.context["plan"].held_back}
    assert held_back == {
        str(new_round["unchecked"]): ["no second editor has checked it against its sources"],
        str(new_round["stuck"]): ["it would have fewer than two published claims"],
    }
    html = page.content.decode()
    assert "Publish these 8 records" in html and "no second editor has checked it" in html


def test_confirming_publishes_exactly_the_listed_records_each_logged_once(chief_client, new_round):
    plan = chief_client.get(publish_url(new_round["round"])).context["plan"]
    publications = PublicChange.objects.filter(kind="published")
    before = set(publications.values_list("pk", flat=True))
    response = chief_client.post(publish_url(new_round["round"]), {"plan": plan.keys})
    assert response.status_code == 302
    assert all(status_of(record) == "published" for record in plan.to_publish)
    assert status_of(new_round["unchecked"]) == "draft" and status_of(new_round["stuck"]) == "draft"
    logged = sorted(publications.exclude(pk__in=before).values_list("record_label", flat=True))
    assert logged == sorted(str(record) for record in plan.to_publish)
    assert chief_client.get(new_round["round"].get_absolute_url()).status_code == 200


def test_nothing_is_published_when_the_drafts_changed_after_the_page_was_shown(chief_client, new_round):
    plan = chief_client.get(publish_url(new_round["round"])).context["plan"]
    late = make_claim(text="Added meanwhile", round=new_round["round"])
    make_citation(claim=late, article=make_article(publication_status=PUBLISHED, outlet=make_outlet()))
    checked(late)
    page = chief_client.post(publish_url(new_round["round"]), {"plan": plan.keys})
    assert page.status_code == 200 and "changed after this page was shown" in page.content.decode()
    assert status_of(new_round["round"]) == "draft" and status_of(new_round["ready"]) == "draft"


def test_a_round_that_cannot_be_published_publishes_nothing_beneath_it(chief_client):
    round_ = make_round(start_date=None, end_date=None)
    claim = checked(make_claim(round=round_))
    make_citation(claim=claim, article=make_article(publication_status=PUBLISHED, outlet=make_outlet()))
    page = chief_client.get(publish_url(round_))
    assert "cannot be published yet: it has no start date" in page.content.decode()
    assert page.context["plan"].to_publish == []
    chief_client.post(publish_url(round_), {"plan": ""})
    assert status_of(round_) == "draft" and status_of(claim) == "draft"


def test_an_editor_who_may_not_publish_is_refused_and_sees_no_button(editor_client, chief_client, new_round):
    change_url = reverse("admin:talks_round_change", args=[new_round["round"].pk])
    assert "Publish with its drafts" not in editor_client.get(change_url).content.decode()
    assert "Publish with its drafts" in chief_client.get(change_url).content.decode()
    assert editor_client.get(publish_url(new_round["round"])).status_code == 403
    plan = chief_client.get(publish_url(new_round["round"])).context["plan"]
    assert editor_client.post(publish_url(new_round["round"]), {"plan": plan.keys}).status_code == 403
    assert status_of(new_round["round"]) == "draft" and status_of(new_round["ready"]) == "draft"
    assert not Participant.objects.published().filter(name__in=["Draft Speaker", "Seated Newcomer"]).exists()
    assert not Issue.objects.published().filter(name="Security guarantees").exists()
    assert not Disagreement.objects.published().exists()


def test_a_record_edited_after_the_confirmation_was_shown_is_not_published_unseen(chief_client, new_round):
    plan = chief_client.get(publish_url(new_round["round"])).context["plan"]
    article = SourceArticle.objects.get(headline="A draft report")
    article.headline = "A draft report, headline changed after the page was shown"
    article.save()
    page = chief_client.post(publish_url(new_round["round"]), {"plan": plan.keys})
    assert "changed after this page was shown" in page.content.decode()
    assert status_of(article) == "draft" and status_of(new_round["round"]) == "draft"


def test_a_save_landing_between_the_last_reading_and_the_publishing_stops_the_publication(
    chief_client, new_round, monkeypatch
):
    from talks import publishing

    plan = chief_client.get(publish_url(new_round["round"])).context["plan"]
    planned = publishing.plan_for
    calls = []

    def plan_then_an_editor_saves(round_):
        result = planned(round_)
        if not calls:  # between the first reading and the publishing, an editor corrects the claim
            claim = Claim.objects.get(pk=new_round["ready"].pk)
            claim.text = "The ready claim, corrected meanwhile."
            claim.save()
        calls.append(round_)
        return result

    monkeypatch.setattr(publishing, "plan_for", plan_then_an_editor_saves)
    page = chief_client.post(publish_url(new_round["round"]), {"plan": plan.keys})
    assert "changed after this page was shown" in page.content.decode()
    # (Here the editor's save shares the test's transaction, so it is rolled back with the refusal.)
    assert status_of(new_round["ready"]) == "draft" and status_of(new_round["round"]) == "draft"


def test_a_sub_issue_is_not_published_beneath_a_draft_issue_by_form_or_by_action(chief_client):
    from tests.admin_forms import form_as_shown

    parent = make_issue(name="Security guarantees")
    child = make_issue(name="Monitoring the ceasefire", parent=parent)
    url = reverse("admin:talks_issue_change", args=[child.pk])
    page = chief_client.post(url, form_as_shown(chief_client.get(url), publication_status="published"))
    assert "its parent issue is not published" in page.content.decode()
    changelist = reverse("admin:talks_issue_changelist")
    chief_client.post(changelist, {"action": "publish_selected", "_selected_action": [child.pk]})
    assert status_of(child) == "draft"
    chief_client.post(changelist, {"action": "publish_selected", "_selected_action": [parent.pk]})
    chief_client.post(changelist, {"action": "publish_selected", "_selected_action": [child.pk]})
    assert status_of(parent) == "published" and status_of(child) == "published"
