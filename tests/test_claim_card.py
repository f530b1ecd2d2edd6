"""A claim's card, rendered by Jinja2 on every page that shows claims: what editors typed is text."""

import pytest
from django.urls import reverse, set_script_prefix

from talks.models import Claim, Issue
from talks.templatetags.parley import claim_card
from tests.builders import PUBLISHED, make_article, make_citation, make_public_claim

pytestmark = pytest.mark.django_db

MARKUP = '<script>alert("x")</script> & <b>bold</b>'


@pytest.fixture
def claim_with_markup():
    claim = make_public_claim(text=f"Claim {MARKUP}")
    claim.round.title = f"Round {MARKUP}"
    claim.round.save()
    Issue.objects.filter(claims=claim).update(name=f"Issue {MARKUP}")
    make_citation(
        claim=claim,
        article=make_article(headline=f"Headline {MARKUP}", publication_status=PUBLISHED),
        quote=f"quote {MARKUP}",
    )
    return claim


def claim_pages(claim):
    return [
        reverse("home"),
        reverse("claim_list"),
        reverse("claim_detail", args=[claim.pk]),
        reverse("round_detail", args=[claim.round.slug]),
        reverse("issue_detail", args=[claim.issues.first().slug]),
        reverse("participant_detail", args=[claim.speaker.slug]),
    ]


def test_every_page_with_claims_shows_typed_markup_as_text(client, claim_with_markup):
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
    for url in claim_pages(claim_with_markup):
        html = client.get(url).content.decode()
        assert "<script>alert" not in html and "<b>bold</b>" not in html, url
        assert f"Claim {escaped}" in html and f"quote {escaped}" in html, url
        assert f"Headline {escaped}" in html and f"Issue {escaped}" in html, url


def test_a_card_names_an_unknown_outlet_and_links_the_claims_round_speaker_issues_and_sources(
    client, claim_with_markup
):
    claim = claim_with_markup
    html = client.get(reverse("claim_list")).content.decode()
    card = html[html.index(f'id="claim-{claim.pk}"') :]
    card = card[: card.index("</article>")]
    for url in [
        reverse("claim_detail", args=[claim.pk]),
        reverse("round_detail", args=[claim.round.slug]),
        reverse("participant_detail", args=[claim.speaker.slug]),
        reverse("issue_detail", args=[claim.issues.first().slug]),
    ] + [reverse("source_detail", args=[citation.article_id]) for citation in claim.citations.all()]:
        assert f'href="{url}"' in card, url
    assert "unknown outlet" in card and "reported by 3 outlets" in card
    assert card.count("<li id=") == 3


def test_a_cards_links_follow_the_path_the_site_is_served_under(claim_with_markup):
    claim = Claim.objects.for_display().get(pk=claim_with_markup.pk)
    link = f'href="/claims/{claim.pk}/"'
    try:
        assert link in claim_card(claim)
        set_script_prefix("/archive/")  # as a server sets it for a site served under /archive/
        assert f'href="/archive/claims/{claim.pk}/"' in claim_card(claim)
    finally:
        set_script_prefix("/")
    assert link in claim_card(claim)
