"""`make soak`: its readers request pages that exist, and its writers' saves are counted as the admin
answered them. The writers run against a live server here, as they run against gunicorn in the soak;
a full soak needs gunicorn on a database file, so the suite does not run one."""

import datetime

import pytest

from talks.management.commands.run_soak import audit, claims_to_edit, editor_logins, reader_pages
from talks.management.editor_session import CONFLICT, REFUSED, SAVED, EditorSession, error_messages
from talks.models import Claim, Sourcing
from tests.builders import make_claim, make_issue, make_participant, make_public_claim


@pytest.fixture
def plain_http_cookies(settings):
    """The live server speaks plain HTTP, over which a client sends no cookie marked secure."""
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False


@pytest.fixture
def editors(live_server, transactional_db, plain_http_cookies):
    """Two editors' browsers, logged in to the live server's admin."""
    sessions = []
    for username, password in editor_logins(2):
        session = EditorSession(live_server.url)
        session.log_in(username, password)
        sessions.append(session)
    return sessions


def change_path(claim):
    from django.urls import reverse

    return reverse("admin:talks_claim_change", args=[claim.pk]), reverse("admin:talks_claim_changelist")


def append(session, claim, word):
    """Opens the claim's change form and saves it with `word` added to the text: the save's outcome."""
    path, list_path = change_path(claim)
    answer, fields = session.open_form(path, "claim_form")
    assert answer.status == 200 and fields is not None
    return session.save(path, list_path, fields, text=f"{dict(fields)['text']} {word}")


@pytest.mark.django_db
def test_every_page_the_soak_reads_answers_200_on_a_small_archive(client):
    for _ in range(3):
        make_public_claim()
    pages = reader_pages()
    assert "CSV download" in pages
    for name, urls in pages.items():
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (name, url)
            if response.streaming:
                b"".join(response.streaming_content)  # read to the end, as a reader does


def test_a_form_posted_back_with_a_new_text_changes_the_text_and_nothing_else(editors):
    claim = make_public_claim(
        date=datetime.date(2026, 2, 17),
        notes='First line & <second>\n"quoted" line',
        date_note="From the wire",
    )
    claim.issues.add(make_issue())
    before = Claim.objects.get(pk=claim.pk)
    quotes = sorted(claim.citations.values_list("article", "quote", "stance"))

    _, outcome = append(editors[0], claim, "appended")

    assert outcome == SAVED
    after = Claim.objects.get(pk=claim.pk)
    assert after.text == f"{before.text} appended"
    for field in [
        "notes",
        "date",
        "date_precision",
        "date_note",
        "round_id",
        "speaker_id",
        "kind",
        "sourcing",
    ]:
        assert getattr(after, field) == getattr(before, field), field
    assert after.publication_status == "published"
    assert sorted(after.issues.values_list("pk", flat=True)) == sorted(
        before.issues.values_list("pk", flat=True)
    )
    assert sorted(after.citations.values_list("article", "quote", "stance")) == quotes


def test_the_later_of_two_saves_from_the_same_version_is_a_conflict_and_stays_out_of_the_text(editors):
    claim = make_public_claim()
    first, second = editors
    path, list_path = change_path(claim)
    _, first_fields = first.open_form(path, "claim_form")
    _, second_fields = second.open_form(path, "claim_form")
    text = dict(first_fields)["text"]

    _, first_outcome = first.save(path, list_path, first_fields, text=f"{text} first")
    _, second_outcome = second.save(path, list_path, second_fields, text=f"{text} second")

    assert (first_outcome, second_outcome) == (SAVED, CONFLICT)
    texts = dict(Claim.objects.filter(pk=claim.pk).values_list("pk", "text"))
    assert audit({claim.pk: ["first"]}, {claim.pk: ["second"]}, texts) == ([], [])
    # Reopened, the form shows the first editor's text, and the second editor's save goes through.
    _, outcome = append(second, claim, "again")
    assert outcome == SAVED
    assert Claim.objects.get(pk=claim.pk).text == f"{text} first again"


def test_a_save_the_claims_own_checks_refuse_is_counted_apart_from_conflicts(editors):
    claim = make_public_claim(sourcing=Sourcing.UNNAMED_SOURCES, speaker=make_participant())

    answer, outcome = append(editors[0], claim, "refused")

    assert outcome == REFUSED
    assert any("unnamed sources has no named speaker" in message for message in error_messages(answer.text))
    assert "refused" not in Claim.objects.get(pk=claim.pk).text.split()


def test_the_audit_finds_a_saved_word_a_later_write_removed_and_a_refused_word_that_was_kept(editors):
    claim = make_public_claim()
    _, outcome = append(editors[0], claim, "saved-word")
    assert outcome == SAVED
    Claim.objects.filter(pk=claim.pk).update(text="Rewritten without it. refused-word")

    texts = dict(Claim.objects.filter(pk=claim.pk).values_list("pk", "text"))
    lost, kept = audit({claim.pk: ["saved-word"]}, {claim.pk: ["refused-word"]}, texts)

    assert lost == [(claim.pk, "saved-word")]
    assert kept == [(claim.pk, "refused-word")]


@pytest.mark.django_db
def test_the_writers_share_published_claims_the_admin_would_save_as_they_stand():
    make_claim()  # a draft
    refused = make_public_claim(sourcing=Sourcing.UNNAMED_SOURCES, speaker=make_participant())
    first, second = make_public_claim(), make_public_claim()

    assert claims_to_edit(2) == [first.pk, second.pk]
    assert refused.pk not in claims_to_edit(5)


@pytest.mark.django_db
def test_the_soak_refuses_a_database_that_holds_more_than_a_demo_archive():
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from tests.builders import make_public_claim, make_round, make_track

    make_public_claim(
        round=make_round(track=make_track(slug="us-brokered-talks"), publication_status="published")
    )
    with pytest.raises(CommandError, match="runs only on a demo archive"):
        call_command("run_soak", "--seconds", "1")
