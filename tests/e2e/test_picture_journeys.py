"""A reader using the archive's pictures, in a real browser."""

import re

from playwright.sync_api import expect


def test_a_reader_follows_a_timeline_mark_on_a_phone_to_its_round(page):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/tracks/us-brokered-trilateral-talks-2026/")
    timeline = page.get_by_role("group", name="Timeline of the rounds of US-brokered trilateral talks, 2026")
    expect(timeline).to_be_visible()
    # The picture fits the phone's width: the page does not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    mark = timeline.get_by_role("link", name=re.compile("^Geneva talks, February 2026"))
    mark.click()
    expect(page).to_have_url(re.compile(r"/rounds/geneva-2026-february/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Geneva talks, February 2026")


def test_a_reader_goes_from_a_home_page_timeline_to_the_track_and_a_bar_to_its_claims(page):
    page.goto("/")
    page.get_by_role("link", name="US-brokered trilateral talks, 2026", exact=True).click()
    expect(page).to_have_url(re.compile(r"/tracks/us-brokered-trilateral-talks-2026/$"))
    chart = page.get_by_role("group", name="Claims per issue at these rounds")
    bar = chart.get_by_role("link", name=re.compile("^Territory: "))
    counted = int(bar.locator("text").last.text_content())
    bar.click()
    expect(page).to_have_url(
        re.compile(r"/claims/\?track=us-brokered-trilateral-talks-2026&issue=territory$")
    )
    assert int(page.locator(".result-count strong").inner_text()) == counted
