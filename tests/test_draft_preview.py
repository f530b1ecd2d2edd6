"""An editor previews a draft at its public address; readers still get 404, and nothing public moves."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from talks.models import PublicChange
from tests.builders import (
    PUBLISHED,
    make_article,
    make_claim,
    make_disagreement,
    make_issue,
    make_outlet,
    make_participant,
    make_public_claim,
    make_round,
)

pytestmark = pytest.mark.django_db

BANNER = "Draft: not public."


def drafts():
    return [
        make_round(title="A round not yet announced"),
        make_claim(text="A claim not yet checked"),
        make_article(headline="An article not yet vetted", outlet=make_outlet()),
        make_participant(name="A negotiator not yet confirmed"),
        make_issue(name="An issue not yet defined"),
        make_disagreement(question="A question not yet settled?"),
    ]


def test_an_editor_sees_each_kind_of_draft_at_its_public_address_marked_as_not_public(editor_client):
    for draft in drafts():
        page = editor_client.get(draft.get_absolute_url())
        assert page.status_code == 200, draft
        html = page.content.decode()
        assert BANNER in html
        assert '<meta name="robots" content="noindex, nofollow">' in html
        assert page["X-Robots-Tag"] == "noindex, nofollow"
        assert "no-store" in page["Cache-Control"] and "private" in page["Cache-Control"]
        assert str(draft) in html or getattr(draft, "headline", "") in html


def test_readers_and_users_without_a_role_still_get_404_for_a_draft(django_user_model):
    outsider = Client()
    outsider.force_login(django_user_model.objects.create_user("subscriber", password="x" * 20))
    for draft in drafts():
        assert Client().get(draft.get_absolute_url()).status_code == 404
        assert outsider.get(draft.get_absolute_url()).status_code == 404


def test_a_published_record_is_shown_to_an_editor_without_the_banner_and_cacheable(editor_client):
    claim = make_public_claim()
    page = editor_client.get(claim.get_absolute_url())
    assert page.status_code == 200
    assert BANNER not in page.content.decode()
    assert "X-Robots-Tag" not in page


def test_view_on_site_in_the_admin_opens_the_preview(editor_client):
    draft = make_claim(text="A claim on its way")
    content_type = ContentType.objects.get_for_model(draft)
    shortcut = reverse("admin:view_on_site", args=[content_type.pk, draft.pk])
    page = editor_client.get(shortcut, follow=True)
    assert page.status_code == 200 and BANNER in page.content.decode()


def test_a_preview_leaves_lists_counts_feeds_and_the_corrections_log_as_they_were(editor_client, client):
    make_public_claim(text="What readers already see")
    draft = make_claim(text="A claim on its way", round=make_round(publication_status=PUBLISHED))
    before = {
        "list": client.get(reverse("claim_list")).content,
        "feed": client.get(reverse("claims_feed")).content,
        "changes": PublicChange.objects.count(),
    }
    assert editor_client.get(draft.get_absolute_url()).status_code == 200
    editors_list = editor_client.get(reverse("claim_list")).content.decode()
    assert "A claim on its way" not in editors_list
    assert client.get(reverse("claim_list")).content == before["list"]
    assert client.get(reverse("claims_feed")).content == before["feed"]
    assert PublicChange.objects.count() == before["changes"]
