"""An editor's first day, in a real browser: log in with the login the command made, preview a draft,
and a chief editor publishes a round with its claims in one confirmed step."""

import datetime
import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from talks.models import Claim
from tests.builders import (
    make_article,
    make_citation,
    make_claim,
    make_delegation,
    make_membership,
    make_outlet,
    make_participant,
    make_party,
    make_round,
)

PASSWORD = "a long unguessable password"


@pytest.fixture
def new_context(browser, live_server, transactional_db):
    contexts = []

    def new_page():
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield new_page
    for context in contexts:
        context.close()


def log_in(page, username):
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(
        page.get_by_role("link", name="Log out").or_(page.get_by_role("button", name="Log out"))
    ).to_be_visible()


def test_a_new_editor_logs_in_and_previews_and_a_chief_publishes_the_round_with_its_claims(
    new_context, monkeypatch
):
    monkeypatch.setenv("PARLEY_EDITOR_PASSWORD", PASSWORD)
    call_command("create_editor", "edwina", "--noinput", stdout=io.StringIO())
    call_command("create_editor", "chiara", "--chief", "--noinput", stdout=io.StringIO())
    round_ = make_round(title="Third round in Abu Dhabi", slug="abu-dhabi-third-round")
    for party in ("Russia", "Ukraine", "United States"):
        delegation = make_delegation(round=round_, party=make_party(name=party))
        make_membership(delegation=delegation, participant=make_participant(), title="Deputy minister")
    claim = make_claim(text="The delegations met for two days.", round=round_, kind="event")
    make_citation(
        claim=claim,
        article=make_article(headline="Talks resume in Abu Dhabi", outlet=make_outlet()),
        quote="met for two days",
    )
    Claim.objects.filter(pk=claim.pk).update(checked_on=datetime.date(2026, 12, 1))

    reader = new_context()
    assert reader.goto(claim.get_absolute_url()).status == 404

    editor = new_context()
    log_in(editor, "edwina")
    editor.goto(f"/admin/talks/claim/{claim.pk}/change/")
    editor.get_by_role("link", name="View on site").click()
    expect(editor.get_by_text("Draft: not public.")).to_be_visible()
    expect(editor.get_by_text("The delegations met for two days.").first).to_be_visible()

    chief = new_context()
    log_in(chief, "chiara")
    chief.goto(f"/admin/talks/round/{round_.pk}/change/")
    expect(chief.locator('input[value="Deputy minister"]')).to_have_count(3)
    # The delegations and their seats fit the form at 1280 px: no sideways scrolling.
    assert chief.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    chief.get_by_role("link", name="Publish with its drafts…").click()
    # The article, the three seated people, the round and the claim.
    expect(chief.locator(".publish-plan li")).to_have_count(6)
    chief.get_by_role("button", name="Publish these 6 records").click()
    expect(chief.get_by_text("Published 6 records.")).to_be_visible()

    reader.goto(round_.get_absolute_url())
    expect(reader.get_by_role("heading", level=1)).to_have_text("Third round in Abu Dhabi")
    expect(reader.get_by_text("The delegations met for two days.").first).to_be_visible()
    expect(reader.get_by_text("Draft: not public.")).to_have_count(0)
    assert re.search(r"/rounds/abu-dhabi-third-round/", reader.url)
