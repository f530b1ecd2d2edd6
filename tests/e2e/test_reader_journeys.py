"""A reader finding their way through the archive, in a real browser."""

import re

from playwright.sync_api import expect


def result_count(page) -> int:
    return int(page.locator(".result-count strong").inner_text())


def test_a_reader_goes_from_the_home_page_to_a_rounds_claim_to_its_article_and_back(page):
    page.goto("/")
    expect(page).to_have_title(re.compile("Parley"))
    page.get_by_role("link", name="Geneva talks, February 2026").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Geneva talks, February 2026")

    claim = page.locator("article.claim", has_text="had agreed to hold another round of talks").first
    claim.get_by_role("link", name="reference 1").click()
    reference = claim.locator(".references li").first
    expect(reference).to_be_in_viewport()
    article_title = reference.get_by_role("link").inner_text()
    reference.get_by_role("link").click()

    expect(page).to_have_url(re.compile(r"/sources/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(article_title)
    expect(page.get_by_text("had agreed to hold another round of talks").first).to_be_visible()

    page.go_back()
    expect(page).to_have_url(re.compile(r"/rounds/geneva-2026-february/"))
    expect(claim).to_be_visible()


def test_a_reader_filters_claims_by_issue_and_party_and_sees_the_count_change(page):
    page.goto("/claims/")
    everything = result_count(page)

    page.get_by_role("combobox", name="Issue (with sub-issues)").select_option(label="Territory")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"issue=territory"))
    on_territory = result_count(page)

    page.get_by_role("combobox", name="Party").select_option(label="Russia")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"party=russia"))
    by_russia = result_count(page)

    assert everything > on_territory > by_russia > 0
    expect(page.get_by_role("link", name=re.compile("Remove filter Party: Russia"))).to_be_visible()


def test_a_reader_searches_another_spelling_and_reaches_the_persons_page(page):
    page.goto("/")
    page.get_by_role("searchbox", name="Search").fill("Medinski")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("mark", has_text="Medinski").first).to_be_visible()
    page.get_by_role("region", name="People").get_by_role(
        "link", name="Vladimir Medinsky", exact=True
    ).click()
    expect(page).to_have_url(re.compile(r"/participants/vladimir-medinsky/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Vladimir Medinsky")


def test_a_reader_follows_a_claims_disagreement_and_sees_each_version_with_its_source(page):
    page.goto("/claims/?disagreement=true&q=396")
    card = page.locator("article.claim", has_text="396").first
    card.locator(".claim-disagreements a").first.click()
    expect(page).to_have_url(re.compile(r"/disagreements/[\w-]+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("drones"))
    versions = page.locator("section.version")
    expect(versions).to_have_count(2)
    expect(versions.nth(0).locator(".references q").first).to_be_visible()
    expect(versions.nth(1).locator(".references q").first).to_be_visible()


def test_on_a_phone_the_claims_filter_form_is_reached_from_the_top_of_the_list(page):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/claims/")
    jump = page.get_by_role("link", name="Filter this list")
    expect(jump).to_be_in_viewport()
    jump.click()
    expect(page.get_by_role("heading", name="Filter")).to_be_in_viewport()
