"""A claim says no more than its sources: who says it and how, whether an event happened, where the
articles differ, and a second editor's check before it is published."""

import datetime
import html as html_module
import io
import json

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from talks.models import Citation, Claim, Disagreement
from tests.admin_forms import claim_form, form_as_shown
from tests.builders import (
    PUBLISHED,
    make_article,
    make_citation,
    make_claim,
    make_disagreement,
    make_participant,
    make_public_claim,
    make_round,
)
from tests.packages import copy_of_seed, read_rows, set_cell

pytestmark = pytest.mark.django_db

FILLER = "The delegations met for several hours in the hotel's conference rooms. " * 6
BODY = (
    f"Russia's delegation was led by Vladimir Medinsky. {FILLER}Kyiv's leadership called the assault a "
    f"deliberate attempt to undermine diplomacy. {FILLER}Foreign Minister Andriy Sybiga said allies must act."
)


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def editor(username):
    user = User.objects.create_user(username, password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Chief editors"))
    return user


@pytest.fixture
def two_editors(roles, client):
    from django.test import Client

    first, second = Client(), Client()
    first.force_login(editor("ana"))
    second.force_login(editor("ben"))
    return first, second


def record_check(client, claim):
    return client.post(
        admin_url(Claim, "changelist"),
        {"action": "record_second_reading", "_selected_action": [claim.pk]},
        follow=True,
    )


# The second reader -------------------------------------------------------------------------------


def test_publishing_refuses_a_claim_no_second_editor_has_checked_and_says_why(two_editors):
    first, _ = two_editors
    article = make_article(publication_status=PUBLISHED)
    first.post(admin_url(Claim, "add"), claim_form([{"article": article.pk, "quote": "a phrase"}]))
    claim = Claim.objects.get()
    page = first.get(admin_url(Claim, "change", claim.pk))
    response = first.post(
        admin_url(Claim, "change", claim.pk), form_as_shown(page, publication_status="published")
    )
    assert response.status_code == 200
    assert "no second editor has checked it against its sources" in response.content.decode()
    response = first.post(
        admin_url(Claim, "changelist"),
        {"action": "publish_selected", "_selected_action": [claim.pk]},
        follow=True,
    )
    assert "no second editor has checked it against its sources" in response.content.decode()
    claim.refresh_from_db()
    assert claim.publication_status == "draft"


def test_the_editor_who_wrote_a_claim_cannot_check_it_but_another_can_and_then_it_publishes(two_editors):
    first, second = two_editors
    article = make_article(publication_status=PUBLISHED)
    first.post(admin_url(Claim, "add"), claim_form([{"article": article.pk, "quote": "a phrase"}]))
    claim = Claim.objects.get()
    assert claim.content_changed_by.username == "ana"
    assert "you last changed its text, sourcing or citations" in record_check(first, claim).content.decode()
    claim.refresh_from_db()
    assert claim.checked_on is None
    record_check(second, claim)
    claim.refresh_from_db()
    assert claim.checked_on == datetime.date.today() and claim.checked_by.username == "ben"
    page = first.get(admin_url(Claim, "change", claim.pk))
    assert (
        first.post(
            admin_url(Claim, "change", claim.pk), form_as_shown(page, publication_status="published")
        ).status_code
        == 302
    )
    claim.refresh_from_db()
    assert claim.publication_status == "published"


def test_editing_a_claims_text_or_its_citations_clears_its_check(two_editors):
    first, second = two_editors
    claim = make_claim()
    citation = make_citation(claim=claim, article=make_article(publication_status=PUBLISHED))
    record_check(second, claim)
    claim.refresh_from_db()
    assert claim.checked_on is not None

    page = first.get(admin_url(Claim, "change", claim.pk))
    first.post(admin_url(Claim, "change", claim.pk), form_as_shown(page, text="Reworded by Ana."))
    claim.refresh_from_db()
    assert claim.checked_on is None and claim.content_changed_by.username == "ana"

    record_check(second, claim)
    claim.refresh_from_db()
    assert claim.checked_on is not None
    page = first.get(admin_url(Claim, "change", claim.pk))
    first.post(admin_url(Claim, "change", claim.pk), form_as_shown(page, notes="Internal remark only."))
    claim.refresh_from_db()
    assert claim.checked_on is not None  # the editor's notes are not what a check covers

    citation.quote = "another phrase"
    citation.save()
    claim.refresh_from_db()
    assert claim.checked_on is None

    record_check(second, claim)
    page = first.get(admin_url(Claim, "change", claim.pk))
    first.post(admin_url(Claim, "change", claim.pk), form_as_shown(page, kind="proposal"))
    claim.refresh_from_db()
    assert claim.checked_on is None  # a statement recorded as a proposal says something else


def test_the_claim_page_says_when_it_was_checked_and_never_by_whom(client, roles):
    claim = make_public_claim()
    checker = editor("carla")
    Claim.objects.filter(pk=claim.pk).update(checked_by=checker)
    html = client.get(claim.get_absolute_url()).content.decode()
    assert "Checked against its sources by a second editor on 1 March 2026." in html
    assert "carla" not in html


# Sourcing, hedges, notes -------------------------------------------------------------------------


@pytest.fixture
def hedged_claim():
    claim = make_public_claim(
        text="The talks addressed mechanisms for monitoring a potential ceasefire.",
        sourcing="unnamed_sources",
        attribution="According to Ukrainian diplomatic sources",
        speaker=None,
    )
    citation = claim.citations.filter(stance="supports").get()
    citation.note = "says 'reportedly'"
    citation.save()
    Claim.objects.filter(pk=claim.pk).update(checked_on=datetime.date(2026, 3, 1))
    return claim


def test_a_hedge_comes_before_the_claim_on_its_card_and_its_note_beside_the_quote(client, hedged_claim):
    html = client.get(reverse("claim_list")).content.decode()
    card = html[html.index(f'id="claim-{hedged_claim.pk}"') :]
    assert card.index("According to Ukrainian diplomatic sources:") < card.index("The talks addressed")
    assert "Note: says 'reportedly'" in html_module.unescape(card)


def test_a_hedge_and_a_citation_note_are_in_the_csv_and_json_downloads(client, hedged_claim):
    claims = json.loads(b"".join(client.get(reverse("claims_json")).streaming_content))
    row = next(row for row in claims if row["key"] == hedged_claim.key)
    assert (row["sourcing"], row["attribution"]) == (
        "unnamed_sources",
        "According to Ukrainian diplomatic sources",
    )
    citations = b"".join(client.get(reverse("citations_csv")).streaming_content).decode()
    assert "According to Ukrainian diplomatic sources" in citations and "says 'reportedly'" in citations


def test_the_claims_list_filters_by_how_a_claim_is_sourced_and_by_disagreement(client, hedged_claim):
    other = make_public_claim(sourcing="on_record")
    make_disagreement(
        versions=[(other, "one"), (make_public_claim(), "the other")], publication_status=PUBLISHED
    )

    def listed(query):
        return {claim.pk for claim in client.get(reverse("claim_list") + query).context["object_list"]}

    assert listed("?sourcing=unnamed_sources") == {hedged_claim.pk}
    assert other.pk in listed("?disagreement=true") and hedged_claim.pk not in listed("?disagreement=true")
    assert hedged_claim.pk in listed("?disagreement=false")
    assert client.get(reverse("claim_list") + "?sourcing=rumour").context["result_count"] == 0


def test_an_editors_note_on_a_citation_is_never_public(client, hedged_claim):
    citation = hedged_claim.citations.first()
    citation.editor_note = "Check the French original."
    citation.save()
    assert "French original" not in client.get(hedged_claim.get_absolute_url()).content.decode()
    assert "French original" not in b"".join(client.get(reverse("citations_csv")).streaming_content).decode()


# What a quote can support -------------------------------------------------------------------------


def test_a_quote_that_does_not_name_the_speaker_cannot_be_recorded_as_their_statement():
    sybiga = make_participant(name="Andriy Sybiga")
    claim = make_claim(text="Andriy Sybiga said the strike undermined diplomacy.", speaker=sybiga)
    article = make_article(body=BODY)
    far_away = Citation(
        claim=claim, article=article, quote="Russia's delegation was led by Vladimir Medinsky."
    )
    with pytest.raises(ValidationError, match="does not name Andriy Sybiga"):
        far_away.full_clean()
    own_words = Citation(claim=claim, article=article, quote="said allies must act")
    own_words.full_clean()


def test_an_article_written_before_an_event_cannot_support_that_it_happened():
    claim = make_claim(occurrence="happened", date=datetime.date(2026, 2, 17), date_precision="day")
    before = make_article(published_on=datetime.date(2026, 2, 16), published_on_precision="approximate")
    citation = Citation(claim=claim, article=before, quote="talks will take place", stance="supports")
    with pytest.raises(ValidationError, match="supports only that it was expected or announced"):
        citation.full_clean()
    Citation(claim=claim, article=before, quote="talks will take place", stance="mentions").full_clean()
    claim.occurrence = "expected"
    Citation(claim=claim, article=before, quote="talks will take place", stance="supports").full_clean()


def test_a_claim_may_cite_one_article_twice_with_different_quotes_but_not_the_same_quote_twice():
    claim, article = make_claim(), make_article()
    make_citation(claim=claim, article=article, quote="the first phrase")
    make_citation(claim=claim, article=article, quote="the second phrase")
    assert claim.citations.count() == 2
    with pytest.raises(ValidationError, match="already cites this quote"):
        Citation(claim=claim, article=article, quote="the first phrase").full_clean()


# Disagreements --------------------------------------------------------------------------------------


def test_the_disagreements_pages_show_each_version_side_by_side_and_cards_link_to_them(client):
    first = make_public_claim(text="Russia launched 396 drones.")
    second = make_public_claim(text="Russia launched over 390 drones.")
    draft = make_claim(text="A draft version nobody may see.")
    disagreement = make_disagreement(
        question="How many drones did Russia launch?",
        versions=[(first, "396"), (second, "over 390"), (draft, "secret")],
        publication_status=PUBLISHED,
    )
    hidden = make_disagreement(question="A draft question?", versions=[(first, "x"), (second, "y")])
    listing = client.get(reverse("disagreement_list")).content.decode()
    assert "How many drones did Russia launch?" in listing and "A draft question?" not in listing
    page = client.get(disagreement.get_absolute_url())
    html = page.content.decode()
    assert html.index("Russia launched 396 drones.") < html.index("Russia launched over 390 drones.")
    assert "A draft version nobody may see." not in html and "secret" not in html
    assert client.get(hidden.get_absolute_url()).status_code == 404
    card = client.get(first.get_absolute_url()).content.decode()
    assert f'href="{disagreement.get_absolute_url()}"' in card and "A draft question?" not in card


def test_a_disagreement_is_published_only_with_two_published_claims(roles):
    lonely = make_disagreement(versions=[(make_public_claim(), "one"), (make_claim(), "a draft")])
    assert lonely.publication_problems() == ["it has fewer than two published claims"]
    both = make_disagreement(versions=[(make_public_claim(), "one"), (make_public_claim(), "two")])
    assert both.publication_problems() == []


def test_a_claim_in_a_disagreement_cannot_be_deleted_from_under_it():
    from django.db.models import ProtectedError

    disagreement = make_disagreement()
    with pytest.raises(ProtectedError):
        disagreement.versions.first().claim.delete()


def test_disagreements_import_export_and_round_trip_exactly(tmp_path):
    package = copy_of_seed(tmp_path)
    call_command("import_dataset", str(package), stdout=io.StringIO())
    assert Disagreement.objects.count() == len(read_rows(package / "disagreements.csv")) - 1
    out = tmp_path / "out"
    call_command("export_dataset", "--all", str(out), stdout=io.StringIO())
    for name in ["disagreements.csv", "disagreement_claims.csv", "claims.csv", "citations.csv"]:
        assert (out / name).read_bytes() == (package / name).read_bytes(), name


def test_an_import_that_would_publish_an_unchecked_claim_is_refused_and_changes_nothing(tmp_path):
    package = copy_of_seed(tmp_path)
    set_cell(package / "claims.csv", 2, "checked_on", "")
    err = io.StringIO()
    with pytest.raises(Exception, match="problem"):
        call_command("import_dataset", str(package), stdout=io.StringIO(), stderr=err)
    assert "claims.csv:2: (row): This claim cannot be published yet" in err.getvalue()
    assert not Claim.objects.exists()


def test_the_attribution_also_leads_the_claim_in_search_results_and_on_its_articles_page(
    client, hedged_claim
):
    found = client.get(reverse("search") + "?q=ceasefire").content.decode()
    assert found.index("According to Ukrainian diplomatic sources:") < found.index("monitoring a potential")
    article = hedged_claim.citations.filter(stance="supports").get().article
    backed = html_module.unescape(client.get(article.get_absolute_url()).content.decode())
    assert "According to Ukrainian diplomatic sources:" in backed and "Note: says 'reportedly'" in backed


def checked_claim(second_client):
    claim = make_claim()
    make_citation(claim=claim, article=make_article(publication_status=PUBLISHED), quote="a phrase")
    record_check(second_client, claim)
    claim.refresh_from_db()
    assert claim.checked_on is not None
    return claim


def test_a_claim_cannot_be_changed_and_published_in_one_save(two_editors):
    first, second = two_editors
    claim = checked_claim(second)
    page = first.get(admin_url(Claim, "change", claim.pk))
    data = form_as_shown(page, publication_status="published", text="Changed as it is published.")
    assert first.post(admin_url(Claim, "change", claim.pk), data).status_code == 200
    data = form_as_shown(page, publication_status="published", **{"citations-0-quote": "another phrase"})
    response = first.post(admin_url(Claim, "change", claim.pk), data)
    assert "cannot be published in the save that changes its citations" in response.content.decode()
    claim.refresh_from_db()
    assert (claim.publication_status, claim.text, claim.checked_on is not None) == ("draft", claim.text, True)


def test_whoever_changes_a_citation_anywhere_cannot_then_check_the_claim(two_editors):
    first, second = two_editors
    claim = checked_claim(second)
    citation = claim.citations.get()
    page = second.get(admin_url(Citation, "change", citation.pk))
    second.post(admin_url(Citation, "change", citation.pk), form_as_shown(page, quote="another phrase"))
    claim.refresh_from_db()
    assert claim.checked_on is None and claim.content_changed_by.username == "ben"
    assert "you last changed" in record_check(second, claim).content.decode()


def test_deleting_citations_in_bulk_clears_their_claims_check(two_editors):
    first, second = two_editors
    claim = checked_claim(second)
    make_citation(claim=claim, article=make_article(publication_status=PUBLISHED), quote="more")
    record_check(second, claim)
    first.post(
        admin_url(Citation, "changelist"),
        {"action": "delete_selected", "_selected_action": [claim.citations.last().pk], "post": "yes"},
    )
    claim.refresh_from_db()
    assert claim.citations.count() == 1 and claim.checked_on is None


def test_a_version_restored_from_history_does_not_bring_back_its_old_check(two_editors):
    first, second = two_editors
    claim = checked_claim(second)
    checked_version = claim.history.first()
    citation = claim.citations.get()
    citation.quote = "another phrase"
    citation.save()
    restored = checked_version.instance  # what a revert saves: the old fields, its check included
    assert restored.checked_on is not None
    restored.save()
    claim.refresh_from_db()
    assert claim.checked_on is None


def test_a_claim_is_never_listed_under_a_draft_rounds_dates(client):
    secret = make_round(start_date=datetime.date(2031, 7, 4), end_date=None)
    claim = make_public_claim(round=secret)
    claim.refresh_from_db()
    assert claim.listed_on is None
    assert client.get(reverse("claim_list") + "?date_after=2031-07-04").context["result_count"] == 0
    secret.publication_status = PUBLISHED
    secret.save()  # publishing the round lists its undated claims under its dates
    claim.refresh_from_db()
    assert claim.listed_on == datetime.date(2031, 7, 4)


def test_an_editors_note_on_a_citation_is_not_a_public_correction():
    from talks.models import PublicChange

    claim = make_public_claim()
    before = PublicChange.objects.count()
    citation = claim.citations.first()
    citation.editor_note = "Compare with the French original."
    citation.save()
    assert PublicChange.objects.count() == before
    citation.note = "says 'over 390'"
    citation.save()
    assert PublicChange.objects.count() == before + 1
