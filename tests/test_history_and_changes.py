"""Every edit is recorded; nobody overwrites a colleague unseen; readers see what changed and when."""

import datetime
import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from django.urls import reverse

from talks.models import Claim, PublicChange
from tests.admin_forms import form_as_shown
from tests.builders import PUBLISHED, make_article, make_citation, make_claim, make_issue, make_public_claim

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def claim_change_url(claim):
    return reverse("admin:talks_claim_change", args=[claim.pk])


def edit_claim(client, claim, **changes):
    data = form_as_shown(client.get(claim_change_url(claim)), **changes)
    return client.post(claim_change_url(claim), data)


def test_history_records_who_changed_which_fields_issues_included(editor_client, editor):
    claim = make_claim(text="First wording.")
    issue = make_issue(name="Sanctions")
    data = form_as_shown(
        editor_client.get(claim_change_url(claim)), text="Second wording.", issues=[str(issue.pk)]
    )
    assert editor_client.post(claim_change_url(claim), data).status_code == 302
    versions = list(claim.history.order_by("history_date"))
    assert {version.history_user for version in versions[1:]} == {editor}
    texts = [
        change for version in versions[1:] for change in version.diff_against(version.prev_record).changes
    ]
    assert {change.field for change in texts} >= {"text", "issues"}
    page = editor_client.get(reverse("admin:talks_claim_history", args=[claim.pk])).content.decode()
    assert "edith" in page and "First wording." in page and "Second wording." in page


def test_an_old_version_can_be_restored_from_history(editor_client):
    claim = make_claim(text="The right wording.")
    edit_claim(editor_client, claim, text="A wrong edit.")
    original = claim.history.order_by("history_date").first()
    revert_url = reverse("admin:talks_claim_simple_history", args=[claim.pk, original.history_id])
    assert editor_client.post(revert_url, form_as_shown(editor_client.get(revert_url))).status_code == 302
    claim.refresh_from_db()
    assert claim.text == "The right wording."


def test_a_second_save_of_the_same_record_is_refused_and_says_what_changed_meanwhile(editor_client, chief):
    claim = make_claim(text="Original.")
    other = Client()
    other.force_login(chief)
    mine = form_as_shown(editor_client.get(claim_change_url(claim)), text="My version.")
    assert edit_claim(other, claim, text="Their version.").status_code == 302
    response = editor_client.post(claim_change_url(claim), mine)
    assert response.status_code == 200
    message = " ".join(response.context["adminform"].form.non_field_errors())
    assert "Someone else saved this record after you opened it" in message
    assert "charles at" in message and "text" in message
    claim.refresh_from_db()
    assert claim.text == "Their version."


def test_my_own_save_from_another_tab_is_not_called_someone_elses(editor_client):
    claim = make_claim(text="Original.")
    first_tab = form_as_shown(editor_client.get(claim_change_url(claim)), text="From the first tab.")
    assert edit_claim(editor_client, claim, text="From the second tab.").status_code == 302
    response = editor_client.post(claim_change_url(claim), first_tab)
    assert response.status_code == 200
    message = " ".join(response.context["adminform"].form.non_field_errors())
    assert "Someone else" not in message
    assert "You saved this record in another tab or window at" in message
    assert "Reload the record to continue from that version." in message
    claim.refresh_from_db()
    assert claim.text == "From the second tab."


def test_a_conflict_names_only_the_others_saves_as_theirs(editor_client, chief):
    claim = make_claim(text="Original.")
    other = Client()
    other.force_login(chief)
    first_tab = form_as_shown(editor_client.get(claim_change_url(claim)), text="From the first tab.")
    assert edit_claim(editor_client, claim, notes="From my second tab.").status_code == 302
    assert edit_claim(other, claim, text="Their version.").status_code == 302
    response = editor_client.post(claim_change_url(claim), first_tab)
    message = " ".join(response.context["adminform"].form.non_field_errors())
    assert "Someone else saved this record after you opened it" in message
    assert "charles at" in message and "edith at" not in message and "someone at" not in message
    assert "Your own save at" in message and "is in that version too." in message


def test_the_corrections_log_lists_publications_visible_edits_and_withdrawals_with_public_notes(
    chief_client, client
):
    claim = make_claim(text="Draft wording.")
    make_citation(claim=claim, article=make_article(publication_status=PUBLISHED))
    Claim.objects.filter(pk=claim.pk).update(checked_on=datetime.date(2026, 3, 1))
    edit_claim(chief_client, claim, publication_status="published", change_note="")
    edit_claim(chief_client, claim, notes="Checked against the Russian original.")  # internal only
    edit_claim(chief_client, claim, text="Corrected wording.", change_note="Fixed a mistranslation.")
    chief_client.post(
        reverse("admin:talks_claim_changelist"),
        {
            "action": "withdraw_selected",
            "_selected_action": [claim.pk],
            "apply": "1",
            "reason": "Source retracted.",
        },
    )
    entries = PublicChange.objects.filter(record_type="claim").order_by("at", "id")
    kinds = list(entries.values_list("kind", "changed_fields", "note"))
    assert kinds == [
        ("published", "", ""),
        ("updated", "text", "Fixed a mistranslation."),
        ("withdrawn", "", "Source retracted."),
    ]
    page = client.get(reverse("changes")).content.decode()
    assert "Fixed a mistranslation." in page and "Source retracted." in page
    assert "Checked against the Russian original." not in page and "notes" not in page


def test_edits_to_drafts_never_reach_the_log(editor_client):
    claim = make_claim()
    edit_claim(editor_client, claim, text="Still a draft.", change_note="Not for readers yet.")
    assert not PublicChange.objects.exists()


def test_a_new_citation_on_a_published_claim_is_a_public_change_of_the_claim(chief_client):
    claim = make_public_claim(text="Reported once.")
    make_citation(claim=claim, article=make_article(publication_status=PUBLISHED), quote="again")
    change = PublicChange.objects.order_by("-at", "-id").first()
    assert (change.kind, change.changed_fields, change.record_label) == (
        "updated",
        "sources",
        "Reported once.",
    )


def test_the_changes_feed_is_atom_and_lists_only_published_records(client):
    make_public_claim(text="A published claim.")
    make_claim(text="A draft claim.")
    response = client.get(reverse("changes_feed"))
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    titles = [entry.find(f"{ATOM}title").text for entry in feed.findall(f"{ATOM}entry")]
    assert "Published: A published claim." in titles
    assert not any("draft" in title for title in titles)


def test_a_withdrawn_records_address_answers_410_with_when_and_why(client):
    claim = make_public_claim(text="Withdrawn claim.")
    claim.publication_status, claim.withdrawal_reason = "withdrawn", "The only source retracted it."
    claim.save()
    response = client.get(reverse("claim_detail", args=[claim.pk]))
    assert response.status_code == 410
    html = response.content.decode()
    assert "The only source retracted it." in html and "was withdrawn from the archive on" in html


def test_a_withdrawn_record_is_in_no_list_export_feed_or_search(client):
    claim = make_public_claim(text="Zanzibar withdrawn claim.")
    claim.publication_status = "withdrawn"
    claim.save()
    for url in [reverse("claim_list"), reverse("claims_csv"), reverse("citations_json"), reverse("home")]:
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"Zanzibar" not in body, url
    assert client.get(reverse("search"), {"q": "Zanzibar"}).context["total"] == 0
    assert (
        b"Zanzibar withdrawn claim."
        not in client.get(reverse("changes_feed")).content.split(b"Withdrawn:")[0]
    )


def test_record_pages_say_when_they_were_first_published_and_last_updated(client):
    claim = make_public_claim(text="Dated claim.")
    html = client.get(reverse("claim_detail", args=[claim.pk])).content.decode()
    assert f"First published {claim.first_published_at:%-d %B %Y}" in html


def test_deleting_a_published_record_is_in_the_log(chief_client):
    claim = make_public_claim(text="Published, then deleted.")
    chief_client.post(reverse("admin:talks_claim_delete", args=[claim.pk]), {"post": "yes"})
    change = PublicChange.objects.filter(record_type="claim").order_by("-at", "-id").first()
    assert (change.kind, change.record_label) == ("deleted", "Published, then deleted.")


def test_a_save_committed_while_the_form_was_being_built_is_not_taken_for_the_version_shown():
    from talks.admin import ClaimForm
    from talks.models import Claim

    claim = make_claim(text="Original.")
    loaded_by_the_page = Claim.objects.get(pk=claim.pk)
    meanwhile = Claim.objects.get(pk=claim.pk)
    meanwhile.text = "Their version, saved between the page loading the claim and building its form."
    meanwhile.save()
    form = ClaimForm(instance=loaded_by_the_page)
    assert form["text"].value() == "Original."
    assert form["loaded_version"].value() == loaded_by_the_page.updated_at.isoformat()
    assert form["loaded_version"].value() != Claim.objects.get(pk=claim.pk).updated_at.isoformat()
