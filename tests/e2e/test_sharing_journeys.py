"""A reader citing a claim, and a newsroom embedding one, in a real browser."""

import re

from playwright.sync_api import expect

from talks.models import Claim

NEWSROOM = "https://newsroom.example"


def seeded_claim():
    return Claim.objects.get(key="donbas-under-moscow-control")


def test_a_reader_copies_a_claims_bibtex_and_gets_what_the_bib_file_holds(page, live_server):
    # The clipboard works in headless Chromium once the page's origin may write and read it.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    claim = seeded_claim()
    page.goto(claim.get_absolute_url())
    expect(page.get_by_role("heading", name="Cite this")).to_be_visible()
    copy = page.get_by_role("button", name="Copy BibTeX")
    expect(copy).to_be_hidden()  # inside the closed disclosure

    page.get_by_text("Cite this claim: as text, BibTeX or CSL-JSON").click()
    bibtex = page.get_by_role("region", name="Cite this").locator("#cite-bibtex")
    expect(bibtex).to_contain_text(f"@misc{{parley-claim-{claim.key},")
    copy.click()
    expect(copy.locator("xpath=..").get_by_role("status")).to_have_text("Copied.")

    copied = page.evaluate("navigator.clipboard.readText()")
    download = page.request.get(f"{live_server.url}/claims/{claim.pk}/cite.bib")
    assert copied == download.text() == bibtex.text_content()
    assert f"url = {{{live_server.url}/claims/{claim.pk}/}}" in copied


def test_a_newsrooms_page_shows_the_embedded_claim_but_cannot_frame_the_claims_page(page, live_server):
    claim = seeded_claim()
    card = f"{live_server.url}/claims/{claim.pk}/embed/"
    claim_page = f"{live_server.url}/claims/{claim.pk}/"
    story = (
        "<!doctype html><html><head><title>Newsroom</title></head><body><h1>Our story</h1>"
        f'<iframe id="card" src="{card}" width="560" height="420" title="Claim"></iframe>'
        f'<iframe id="page" src="{claim_page}" width="560" height="420" title="Page"></iframe>'
        "</body></html>"
    )
    # Chromium keeps a public site's page from framing servers on this machine (Local Network
    # Access, granted only to a secure origin, hence https); in production Parley is public too,
    # so the newsroom is allowed as it would be. It changes nothing of what Parley's headers allow.
    page.context.grant_permissions(["local-network-access"], origin=NEWSROOM)
    page.route(
        f"{NEWSROOM}/**", lambda route: route.fulfill(status=200, content_type="text/html", body=story)
    )
    page.goto(f"{NEWSROOM}/story")
    expect(page.get_by_role("heading", name="Our story")).to_be_visible()

    embedded = page.frame_locator("#card")
    expect(embedded.locator(".embed-claim")).to_contain_text(claim.text[:60])
    expect(embedded.locator(".embed-references q").first).to_be_visible()
    expect(embedded.get_by_role("link", name=re.compile("See this claim in Parley"))).to_have_attribute(
        "href", claim_page
    )

    # The claim's own page answers X-Frame-Options DENY and frame-ancestors 'none': the browser
    # shows its error page in that frame, never Parley's page.
    page.wait_for_load_state("load")
    refused = page.locator("#page").element_handle().content_frame()
    for _ in range(50):
        if refused.url.startswith("chrome-error://"):
            break
        page.wait_for_timeout(100)
    assert refused.url.startswith("chrome-error://"), refused.url
    assert "ERR_BLOCKED_BY_RESPONSE" in refused.content()
    assert refused.locator(".cite-this").count() == 0
