"""A claim's card for other sites (/claims/<id>/embed/) and the oEmbed answer that hands it out:
published claims only, framable by any site while every other page stays unframable."""

import json
from urllib.parse import quote

import pytest
from django.urls import reverse

from talks.models import Claim
from tests.builders import (
    PUBLISHED,
    make_article,
    make_citation,
    make_claim,
    make_disagreement,
    make_outlet,
    make_participant,
    make_public_claim,
)

pytestmark = pytest.mark.django_db


def embed(client, claim):
    return client.get(reverse("claim_embed", args=[claim.pk]))


def oembed(client, **params):
    return client.get(reverse("oembed"), params)


def claim_url(claim):
    return f"http://testserver{claim.get_absolute_url()}"


def test_the_card_shows_the_claim_its_hedge_speaker_references_quotes_and_links(client):
    claim = make_public_claim(text="The sides agreed to meet again.", attribution="Officials told reporters")
    original = make_article(
        headline="Talks to resume",
        url="https://news.example/talks-resume",
        outlet=make_outlet(name="The Daily Example"),
        publication_status=PUBLISHED,
    )
    make_citation(claim=claim, article=original, quote="the talks will resume next week")
    page = embed(client, claim)
    assert page.status_code == 200
    html = page.content.decode()
    assert "The sides agreed to meet again." in html
    assert '<span class="hedge">Officials told reporters:</span>' in html
    assert claim.speaker.name in html
    assert "<q>the talks will resume next week</q>" in html
    assert (
        'href="https://news.example/talks-resume" target="_blank" rel="noopener noreferrer">Talks to resume'
        in html
    )
    assert f'href="http://testserver/sources/{original.pk}/" target="_blank"' in html
    assert f'href="{claim_url(claim)}" target="_blank" rel="noopener">See this claim in Parley' in html
    # make_public_claim cites a disputing article.
    assert "badge-disputed" in html and "Disputed" in html
    assert "<script" not in html and "<form" not in html


def test_the_card_leaves_out_a_draft_article_a_draft_speaker_and_a_draft_disagreement(client):
    claim = make_public_claim(speaker=make_participant(name="Someone Unconfirmed"))
    make_citation(
        claim=claim,
        article=make_article(headline="A draft article", url="https://news.example/draft"),
        quote="words in a draft",
    )
    published = make_disagreement(
        question="Did they meet?",
        versions=[(claim, "yes"), (make_public_claim(), "no")],
        publication_status=PUBLISHED,
    )
    make_disagreement(question="A draft question?", versions=[(claim, "maybe"), (make_claim(), "no")])
    html = embed(client, claim).content.decode()
    assert (
        "A draft article" not in html and "news.example/draft" not in html and "words in a draft" not in html
    )
    assert "Someone Unconfirmed" not in html
    assert "A draft question?" not in html
    assert f'href="http://testserver/disagreements/{published.slug}/"' in html and "Articles disagree" in html
    assert html.count("<li>") == 2  # the two published references of make_public_claim


def test_only_the_card_may_be_framed_by_other_sites(client):
    claim = make_public_claim()
    card = embed(client, claim)
    assert "X-Frame-Options" not in card
    assert "frame-ancestors *" in card["Content-Security-Policy"]
    assert "script-src 'none'" in card["Content-Security-Policy"]
    for url in [claim.get_absolute_url(), reverse("home"), reverse("oembed") + "?url=x"]:
        response = client.get(url)
        assert response["X-Frame-Options"] == "DENY", url
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"], url


def test_a_draft_claim_has_no_card_even_for_an_editor(client, editor_client):
    draft = make_claim(text="A claim not yet checked")
    assert embed(client, draft).status_code == 404
    assert embed(editor_client, draft).status_code == 404
    assert client.get(reverse("claim_embed", args=[999_999])).status_code == 404


def test_a_withdrawn_claims_card_says_it_was_withdrawn_and_why(client):
    claim = make_public_claim(text="Reported, then retracted")
    claim.publication_status = "withdrawn"
    claim.withdrawal_reason = "The outlet retracted its report."
    claim.save()
    card = embed(client, claim)
    assert card.status_code == 410 and "X-Frame-Options" not in card
    html = card.content.decode()
    assert "Withdrawn." in html and "The outlet retracted its report." in html
    assert "Reported, then retracted" not in html


def test_oembed_answers_a_rich_iframe_of_the_card(client):
    claim = make_public_claim(text="The sides agreed to meet again.")
    response = oembed(client, url=claim_url(claim), format="json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    answer = json.loads(response.content)
    assert answer["version"] == "1.0" and answer["type"] == "rich"
    assert answer["provider_name"] == "Parley" and answer["provider_url"] == "http://testserver/"
    assert answer["title"] == "The sides agreed to meet again."
    assert (answer["width"], answer["height"]) == (560, 420)
    src = f"http://testserver/claims/{claim.pk}/embed/"
    assert answer["html"].startswith(f'<iframe src="{src}" width="560" height="420"')
    # The card's own address is a claim's address too; the format defaults to JSON.
    assert json.loads(oembed(client, url=src).content)["html"] == answer["html"]


def test_oembed_keeps_within_maxwidth_and_maxheight(client):
    claim = make_public_claim()
    answer = json.loads(oembed(client, url=claim_url(claim), maxwidth="300", maxheight="200").content)
    assert (answer["width"], answer["height"]) == (300, 200)
    assert 'width="300" height="200"' in answer["html"]
    answer = json.loads(oembed(client, url=claim_url(claim), maxwidth="5000").content)
    assert answer["width"] == 560


def test_oembed_refuses_what_it_cannot_answer_without_a_server_error(client):
    claim = make_public_claim()
    draft = make_claim()
    withdrawn = make_public_claim()
    Claim.objects.filter(pk=withdrawn.pk).update(publication_status="withdrawn")
    url = claim_url(claim)
    answers = {
        "xml": (oembed(client, url=url, format="xml"), 501),
        "another format": (oembed(client, url=url, format="yaml"), 501),
        "no url": (oembed(client), 400),
        "empty url": (oembed(client, url=""), 400),
        "maxwidth not a number": (oembed(client, url=url, maxwidth="wide"), 400),
        "maxwidth zero": (oembed(client, url=url, maxwidth="0"), 400),
        "maxheight negative": (oembed(client, url=url, maxheight="-5"), 400),
        "maxheight of 5,000 digits": (oembed(client, url=url, maxheight="9" * 5000), 400),
        "maxwidth in other digits": (oembed(client, url=url, maxwidth="\u0663\u0660\u0660"), 400),
        "broken IPv6 host": (oembed(client, url="http://[::1/claims/1/"), 400),
        "control character": (oembed(client, url=url + "\x01"), 400),
        "too long": (oembed(client, url=url + "a" * 3000), 400),
        "NUL byte": (client.get(reverse("oembed") + "?url=" + quote(url) + "%00"), 400),
        "another host": (oembed(client, url=f"https://elsewhere.example/claims/{claim.pk}/"), 404),
        "user in the host": (oembed(client, url=f"http://evil@testserver/claims/{claim.pk}/"), 404),
        "not http": (oembed(client, url=f"javascript://testserver/claims/{claim.pk}/"), 404),
        "relative": (oembed(client, url=f"/claims/{claim.pk}/"), 404),
        "a page that is no claim's": (oembed(client, url="http://testserver/rounds/"), 404),
        "no page at all": (oembed(client, url="http://testserver/nowhere/"), 404),
        "unknown claim": (oembed(client, url="http://testserver/claims/999999/"), 404),
        "draft claim": (oembed(client, url=claim_url(draft)), 404),
        "withdrawn claim": (oembed(client, url=claim_url(withdrawn)), 404),
    }
    for case, (response, status) in answers.items():
        assert response.status_code == status, case


def test_a_claim_page_offers_oembed_discovery_and_the_snippet_to_paste(client):
    claim = make_public_claim()
    html = client.get(claim.get_absolute_url()).content.decode()
    discovery = (
        '<link rel="alternate" type="application/json+oembed" href="http://testserver/oembed/'
        f'?url=http%3A%2F%2Ftestserver%2Fclaims%2F{claim.pk}%2F&amp;format=json"'
    )
    assert discovery in html
    assert "Embed this claim" in html
    assert f"&lt;iframe src=&quot;http://testserver/claims/{claim.pk}/embed/&quot;" in html
