"""What a reader sees on each public page, with the seed archive loaded."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from sources.models import SourceArticle
from talks.lists import CLAIMS
from talks.models import Claim

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded_module")]

GENEVA = "geneva-2026-february"
COPY_SCRIPT = '<script src="/static/js/copy.js" defer></script>'


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def article_pk(key):
    return SourceArticle.objects.get(key=key).pk


def public_urls():
    return [
        reverse("home"),
        reverse("about"),
        reverse("search") + "?q=Geneva",
        reverse("round_list"),
        reverse("round_detail", args=[GENEVA]),
        reverse("issue_list"),
        reverse("issue_detail", args=["territory"]),
        reverse("participant_list"),
        reverse("participant_detail", args=["vladimir-medinsky"]),
        reverse("source_list"),
        reverse("source_detail", args=[article_pk("what-to-expect-from-the-geneva-talks")]),
        reverse("claim_list"),
        reverse("claim_detail", args=[Claim.objects.get(key="donbas-under-moscow-control").pk]),
        reverse("disagreement_list"),
        reverse("disagreement_detail", args=["drone-count-before-the-talks"]),
    ]


def test_every_page_has_a_title_a_description_landmarks_and_a_skip_link(client):
    for url in public_urls():
        html = page(client, url)
        assert re.search(r"<title>[^<]+ · Parley</title>", html), url
        assert re.search(r'<meta name="description" content="[^"]{20,}">', html), url
        assert '<main id="main"' in html and 'href="#main"' in html and '<nav aria-label="Main">' in html, url
        assert "<h1>" in html, url


def test_pages_load_no_external_script_style_or_font(client):
    for url in public_urls():
        html = page(client, url)
        executable = re.findall(r"<script(?! type=\"application/ld\+json\">)[^>]*>[^<]*</script>", html)
        # Structured data, and at most the copy buttons' script of static/ (the "Cite this" block),
        # which nothing needs to be read: no inline script, no other.
        assert set(executable) <= {COPY_SCRIPT}, url
        assert html.count("<script") == len(executable) + html.count('<script type="application/ld+json">')
        # Absolute addresses of this site only (the oEmbed discovery link must be absolute).
        assert not re.search(r'(href|src)="(https?:)?//(?!testserver/)', html), url


def test_the_home_page_shows_the_holdings_the_timeline_the_latest_claims_and_the_issues(client):
    html = page(client, reverse("home"))
    claims = Claim.objects.published().count()
    assert "<strong>5</strong> rounds" in html and f"<strong>{claims}</strong> claims" in html
    assert "US-brokered trilateral talks, 2026" in html
    assert html.index("Abu Dhabi talks, January 2026") < html.index("Geneva talks, February 2026")
    assert "Latest claims" in html and 'class="references"' in html
    assert re.search(r'href="/issues/territory/">Territory</a> <span class="count">\d+ claims', html)


def test_the_round_page_shows_dates_venue_track_delegations_positions_outcome_and_sources(client):
    html = page(client, reverse("round_detail", args=[GENEVA]))
    assert "17–18 February 2026" in html and "Inferred, not stated" in html
    assert "Hotel Intercontinental" in html and "Trilateral" in html and "Held" in html
    assert 'href="/rounds/abu-dhabi-2026-february/" rel="prev"' in html
    assert html.index("Russia <span") < html.index("United States <span") < html.index("Switzerland <span")
    medinsky = '<a href="/participants/vladimir-medinsky/">Vladimir Medinsky</a>'
    assert f"{medinsky}, head of delegation (Kremlin adviser)" in html
    assert "Brigadier General, U.S. Army" in html
    assert "without a significant breakthrough" in html
    positions = html[html.index('id="positions"') : html.index('id="sources"')]
    assert '<a href="/issues/donbas/">Donbas</a>' in positions and "<h4>Russia</h4>" in positions
    sources = html[html.index('id="sources"') :]
    assert sources.count('href="/sources/') == 5


def test_every_claim_carries_numbered_references_an_outlet_count_and_a_disputed_mark(client):
    claim = Claim.objects.get(key="donbas-under-moscow-control")
    html = page(client, reverse("claim_detail", args=[claim.pk]))
    assert f'href="#claim-{claim.pk}-ref-1"' in html and f'id="claim-{claim.pk}-ref-3"' in html
    assert "reported by 3 outlets" in html
    assert 'class="badge badge-disputed">Disputed' in html
    assert "especially in the Donbas region now under Moscow’s control" in html
    assert '<span class="stance stance-disputes">Disputes</span>' in html
    assert "Untitled article #" in html and "unknown outlet" in html and "about 18 February 2026" in html


def test_the_issue_page_shows_sub_issues_and_positions_by_round_and_party(client):
    html = page(client, reverse("issue_detail", args=["territory"]))
    assert '<a href="/issues/donbas/">Donbas</a>' in html
    table = html[html.index('<table class="positions">') : html.index("</table>")]
    assert '<th scope="col">Russia</th>' in table and '<th scope="col">Ukraine</th>' in table
    assert "Geneva talks, February 2026" in table and "Not tied to a round" in table
    assert "Russia demands full control of the Donbas region" in table  # from the sub-issue
    assert "and its sub-issues, by round" in table and '<th scope="row"><a href="/rounds/' in table


# The total of claims decides how the page finds the issue's claims (talks.views.claims_on):
# as few, looked up by key, or as many, by walking the newest claims and rounds.
@pytest.mark.parametrize("total", [10**9, 0], ids=["looked up by key", "walked"])
def test_each_claim_of_the_issue_table_sits_in_its_rounds_row_and_its_partys_column(
    client, monkeypatch, total
):
    monkeypatch.setattr(CLAIMS, "total", lambda alias="default": total)
    response = client.get(reverse("issue_detail", args=["territory"]))
    placed = []
    for round_, row in response.context["table"]:
        for party, cell in zip(response.context["parties"], row, strict=True):
            for claim in cell:
                assert claim.round_id == (round_.pk if round_ else None) and claim.party == party
                placed.append(claim.pk)
    on_issue = Claim.objects.published().filter(issues__slug__in=["territory", "donbas"]).distinct()
    assert sorted(placed) == sorted(on_issue.values_list("pk", flat=True))


def test_the_participant_page_shows_aliases_seats_and_claims(client):
    html = page(client, reverse("participant_detail", args=["vladimir-medinsky"]))
    assert "Medinski, Vladimir Medinski" in html
    assert html.index("Istanbul talks, March 2022") < html.index("Geneva talks, February 2026")
    assert "Head of delegation" in html
    assert "the parties had agreed to hold another round of talks in the near future." in html


def test_the_article_page_says_unknown_plainly_and_lists_what_it_backs_with_quotes(client):
    html = page(client, reverse("source_detail", args=[article_pk("geneva-talks-concluded-wednesday")]))
    assert "The copy of this article in hand has no headline." in html
    for fact in [
        "<dt>Outlet</dt><dd>unknown</dd>",
        "<dt>Author</dt><dd>unknown</dd>",
        "<dt>Original</dt><dd>unknown</dd>",
    ]:
        assert fact in html
    assert "<h3>Supports</h3>" in html and "<h3>Disputes</h3>" in html and "<h3>Mentions</h3>" in html
    assert "<q>the remaining Ukrainian-controlled pockets of the eastern Donbas region</q>" in html


def test_the_article_page_links_the_original_and_the_archived_copy_when_known(client):
    article = SourceArticle.objects.get(key="what-to-expect-from-the-geneva-talks")
    article.url, article.archive_url = "https://www.example.org/geneva", "https://archive.example.org/geneva"
    article.save()
    html = page(client, reverse("source_detail", args=[article.pk]))
    assert '<a href="https://www.example.org/geneva" rel="noopener noreferrer">' in html
    assert '<a href="https://archive.example.org/geneva" rel="noopener noreferrer">' in html


def test_the_about_page_explains_claims_stances_and_unknown(client):
    html = page(client, reverse("about"))
    assert "What a stance means" in html and 'What "unknown" means' in html and "Disputed" in html


def test_lists_show_count_active_filters_facets_ordering_and_a_reproducible_url(client):
    html = page(client, reverse("claim_list") + "?issue=territory&party=russia")
    assert re.search(r"<strong>\d+</strong> results for", html)
    assert 'href="?party=russia" aria-label="Remove filter Issue (with sub-issues): Territory"' in html
    assert 'href="?issue=territory" aria-label="Remove filter Party: Russia"' in html
    assert re.search(
        r'<a href="\?issue=territory&amp;party=russia&amp;kind=demand">Demand</a> <span class="count">\d+',
        html,
    )
    assert 'name="ordering"' in html and 'value="-outlets"' in html


def test_round_and_claim_pages_print_without_navigation_or_filters(settings):
    css = (settings.BASE_DIR / "static" / "css" / "parley.css").read_text()
    print_rules = css.split("@media print")[1]
    assert "nav" in print_rules and ".filters" in print_rules and ".site-search" in print_rules


def test_the_seeds_disagreements_are_all_listed_and_each_of_their_claims_links_to_them(client):
    from talks.models import Disagreement

    listing = page(client, reverse("disagreement_list") + "?page=1")
    disagreements = Disagreement.objects.published().prefetch_related("versions__claim")
    assert disagreements.count() <= 25  # one page
    for disagreement in disagreements:
        assert f'href="{disagreement.get_absolute_url()}"' in listing
        for link in disagreement.versions.all():
            card = page(client, link.claim.get_absolute_url())
            assert f'href="{disagreement.get_absolute_url()}"' in card, link.claim.key


def test_the_sitemap_lists_the_disagreements(client):
    section = page(client, reverse("sitemap_section", args=["disagreements"]) + "?p=1")
    assert "/disagreements/drone-count-before-the-talks/" in section


HUGE = "9" * 10_000  # more digits than Python turns into a number (4,300) without raising ValueError
# Addresses anyone can type, each with what it answers: not found, or a clear refusal; never a 500.
HOSTILE_URLS = [
    (f"/sitemap-claims.xml?p={HUGE}", 404),
    (f"/sitemap-rounds.xml?p={HUGE}", 404),
    (f"/sitemap-pages.xml?p={HUGE}", 404),
    ("/sitemap-claims.xml?p=99999999999999999999", 404),
    (f"/claims/?page={HUGE}", 404),
    ("/claims/?page=-1", 404),
    (f"/rounds/?page={HUGE}", 404),
    (f"/changes/?page={HUGE}", 404),
    (f"/claims/{HUGE}/", 404),
    ("/sources/99999999999999999999/", 404),  # beyond a 64-bit key
    (f"/claims.csv?min_outlets={HUGE}", 400),
    (f"/rounds.json?year={HUGE}", 400),
    (f"/claims.csv?page={HUGE}", 200),  # a download holds every page: it takes no page number
    (f"/claims/?min_outlets={HUGE}", 200),  # the list, with its filter marked as not valid
    (f"/rounds/?year={HUGE}&date_after={HUGE}", 200),
    (f"/search/?q={HUGE}", 400),  # longer than a search may be
    (f"/claims/feed/?page={HUGE}", 200),
]


@pytest.mark.parametrize(("url", "status"), HOSTILE_URLS, ids=[url[:40] for url, _ in HOSTILE_URLS])
def test_an_address_with_a_number_too_large_to_read_is_never_a_server_error(url, status):
    assert Client(raise_request_exception=False).get(url).status_code == status
