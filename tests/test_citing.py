"""Cite this: each public record's citation as plain text, BibTeX and CSL-JSON, in its page and as
files; never for a draft; for a withdrawn record, marked withdrawn."""

import datetime
import html
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from sources.models import SourceArticle
from talks.citing import bibtex, bibtex_escape, citation_for, csl_json, plain_text
from talks.models import Claim, Release, Round
from tests.builders import (
    PUBLISHED,
    make_article,
    make_claim,
    make_disagreement,
    make_issue,
    make_participant,
    make_public_claim,
    make_round,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
CITE_THIS = '<h2 id="cite-this-heading">Cite this</h2>'


def cut_release(version="2026.12.01", released_at=None):
    return Release.objects.create(
        version=version,
        released_at=released_at or timezone.now(),
        file_name=f"parley-{version}.zip",
        size=1,
        sha256="0" * 64,
    )


def citation_of(rf, record):
    return citation_for(rf.get("/"), record)


def braces_balance(text: str) -> bool:
    depth = 0
    for char in re.sub(r"\\[{}]", "", text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def test_a_seeded_claims_citation_names_its_permalink_the_archive_and_the_access_date(rf, seeded):
    claim = Claim.objects.get(key="donbas-under-moscow-control")
    citation = citation_of(rf, claim)
    url = f"http://testserver/claims/{claim.pk}/"
    today = f"{TODAY.day} {TODAY:%B %Y}"

    text = plain_text(citation)
    assert claim.text[:40] in text and url in text
    assert "Claim record, in Parley: the open archive of peace-talk rounds. Parley." in text
    assert f"(accessed {today})" in text and "No release of the archive yet." in text

    entry = bibtex(citation)
    assert entry.startswith("@misc{parley-claim-donbas-under-moscow-control,\n")
    assert f"  url = {{{url}}}," in entry and f"  urldate = {{{TODAY.isoformat()}}}," in entry
    assert "  howpublished = {Parley: the open archive of peace-talk rounds}," in entry
    assert "no release of the archive yet" in entry and "version =" not in entry
    assert "author" not in entry and braces_balance(entry)

    [item] = json.loads(csl_json(citation))
    assert item["id"] == "parley-claim-donbas-under-moscow-control"
    assert item["type"] == "entry" and item["genre"] == "Claim record"
    assert item["URL"] == url and item["container-title"] == "Parley: the open archive of peace-talk rounds"
    assert item["accessed"] == {"date-parts": [[TODAY.year, TODAY.month, TODAY.day]]}
    first = claim.first_published_at.date()
    assert item["issued"] == {"date-parts": [[first.year, first.month, first.day]]}
    assert "author" not in item and "version" not in item
    assert f'"accessed": {{"date-parts": [[{TODAY.year}, {TODAY.month}, {TODAY.day}]]}}' in csl_json(citation)


def test_a_rounds_citation_names_the_latest_release(rf, seeded):
    cut_release("2026.11.01")
    cut_release("2026.12.01")
    round_ = Round.objects.get(slug="geneva-2026-february")
    citation = citation_of(rf, round_)
    assert citation.release == "2026.12.01"
    assert "“Geneva talks, February 2026.” Negotiation round record" in plain_text(citation)
    assert ", release 2026.12.01." in plain_text(citation)
    assert "  version = {2026.12.01}," in bibtex(citation)
    assert "  title = {{Geneva talks, February 2026}}," in bibtex(citation)
    [item] = json.loads(csl_json(citation))
    assert item["version"] == "2026.12.01" and item["title"] == "Geneva talks, February 2026"
    assert item["id"] == "parley-round-geneva-2026-february"


def test_a_record_published_or_changed_after_the_latest_release_is_not_cited_as_in_it(rf):
    claim = make_public_claim()
    cut_release("2026.01.01", released_at=timezone.now() - datetime.timedelta(days=30))
    citation = citation_of(rf, claim)
    assert citation.release is None
    assert "Published after the latest release (2026.01.01)." in plain_text(citation)
    assert "version =" not in bibtex(citation) and "version" not in json.loads(csl_json(citation))[0]

    Claim.objects.filter(pk=claim.pk).update(
        first_published_at=timezone.now() - datetime.timedelta(days=60), public_updated_at=timezone.now()
    )
    citation = citation_of(rf, Claim.objects.get(pk=claim.pk))
    assert citation.release is None and citation.release_note == "changed since release 2026.01.01"

    Claim.objects.filter(pk=claim.pk).update(public_updated_at=None)
    citation = citation_of(rf, Claim.objects.get(pk=claim.pk))
    assert citation.release == "2026.01.01" and "as in release 2026.01.01" in bibtex(citation)


def test_bibtex_escapes_latex_specials_and_keeps_braces_balanced(rf):
    tricky = r"50% of {the} $troops_out & #1 ^up ~here \end"
    assert bibtex_escape(tricky) == (
        r"50\% of \{the\} \$troops\_out \& \#1 \textasciicircum{}up \textasciitilde{}here \textbackslash{}end"
    )
    claim = make_public_claim(text="Unbalanced } brace { and a }} closing")
    entry = bibtex(citation_of(rf, claim))
    assert braces_balance(entry)
    assert r"Unbalanced \} brace \{ and a \}\} closing" in entry


def test_the_citation_key_is_the_records_stable_key_and_survives_a_rename(rf):
    claim = make_public_claim(text="First wording")
    before = citation_of(rf, claim).citation_key
    claim.text = "Second wording"
    claim.save()
    assert citation_of(rf, claim).citation_key == before == f"parley-claim-{claim.key}"


def test_a_question_keeps_its_own_mark_in_the_plain_text(rf):
    disagreement = make_disagreement(question="How many drones were there?", publication_status=PUBLISHED)
    assert "“How many drones were there?” Disagreement record" in plain_text(citation_of(rf, disagreement))


def test_a_long_claim_is_cited_by_a_title_of_one_line(rf):
    claim = make_public_claim(text="word " * 400)
    title = citation_of(rf, claim).title
    assert len(title) <= 200 and title.endswith("…")


def test_every_kind_of_public_page_has_the_cite_block_with_three_forms_and_their_downloads(client):
    claim = make_public_claim()
    article = make_article(publication_status=PUBLISHED)
    disagreement = make_disagreement(
        versions=[(claim, "one"), (make_public_claim(), "other")], publication_status=PUBLISHED
    )
    records = [
        (claim.round, "round"),
        (claim, "claim"),
        (article, "source"),
        (claim.speaker, "participant"),
        (claim.issues.get(), "issue"),
        (disagreement, "disagreement"),
    ]
    for record, kind in records:
        page = client.get(record.get_absolute_url()).content.decode()
        assert CITE_THIS in page, kind
        for label in ("Plain text", "BibTeX", "CSL-JSON"):
            assert f">{label}</h3>" in page, (kind, label)
        citation = citation_for(client.get(record.get_absolute_url()).wsgi_request, record)
        # In the page as it downloads: a reader may copy either.
        assert html.escape(citation.as_bibtex(), quote=True) in page, kind
        for fmt in ("bib", "json"):
            assert f'href="{citation.downloads[fmt]}" download' in page, kind
        assert 'data-copy="cite-bibtex" hidden' in page  # shown by static/js/copy.js only


def test_the_downloads_are_files_with_their_content_type_and_name(client):
    claim = make_public_claim()
    bib = client.get(reverse("claim_cite_bib", args=[claim.pk]))
    assert bib.status_code == 200
    assert bib["Content-Type"] == "application/x-bibtex; charset=utf-8"
    assert bib["Content-Disposition"] == f'attachment; filename="parley-claim-{claim.key}.bib"'
    assert bib.content.decode().startswith(f"@misc{{parley-claim-{claim.key},")
    csl = client.get(reverse("round_cite_json", args=[claim.round.slug]))
    assert csl["Content-Type"] == "application/vnd.citationstyles.csl+json; charset=utf-8"
    assert csl["Content-Disposition"] == f'attachment; filename="parley-round-{claim.round.slug}.json"'
    assert json.loads(csl.content)[0]["URL"] == f"http://testserver/rounds/{claim.round.slug}/"


def test_a_draft_has_no_citation_download_even_for_an_editor(client, editor_client):
    drafts = {
        "round": make_round().slug,
        "claim": make_claim().pk,
        "source": make_article().pk,
        "participant": make_participant().slug,
        "issue": make_issue().slug,
        "disagreement": make_disagreement().slug,
    }
    for kind, lookup in drafts.items():
        for fmt in ("bib", "json"):
            url = reverse(f"{kind}_cite_{fmt}", args=[lookup])
            assert client.get(url).status_code == 404, url
            assert editor_client.get(url).status_code == 404, url
    assert client.get(reverse("claim_cite_bib", args=[999_999])).status_code == 404
    assert client.get(reverse("round_cite_bib", args=["no-such-round"])).status_code == 404


def test_an_editors_preview_of_a_draft_shows_no_cite_block_and_no_embed(editor_client):
    draft_claim = make_claim(text="A claim not yet checked")
    drafts = [
        make_round(),
        draft_claim,
        make_article(),
        make_participant(),
        make_issue(),
        make_disagreement(),
    ]
    for draft in drafts:
        page = editor_client.get(draft.get_absolute_url())
        assert page.status_code == 200 and "Draft: not public." in page.content.decode()
        assert "Cite this" not in page.content.decode(), draft
        assert "cite.bib" not in page.content.decode(), draft
    page = editor_client.get(draft_claim.get_absolute_url()).content.decode()
    assert "Embed this claim" not in page and "json+oembed" not in page


def test_a_withdrawn_record_stays_citable_marked_withdrawn(client):
    claim = make_public_claim(text="Said, then retracted")
    claim.publication_status = "withdrawn"
    claim.withdrawal_reason = "The outlet retracted its report."
    claim.save()
    notice = client.get(claim.get_absolute_url())
    assert notice.status_code == 410
    page = notice.content.decode()
    assert CITE_THIS in page and "This record was withdrawn on" in page
    assert "Withdrawn from the archive on" in page  # in the plain text
    assert "Embed this claim" not in page
    [item] = json.loads(client.get(reverse("claim_cite_json", args=[claim.pk])).content)
    assert item["status"] == "withdrawn"
    entry = client.get(reverse("claim_cite_bib", args=[claim.pk])).content.decode()
    assert f"withdrawn from the archive on {claim.withdrawn_at.date().isoformat()}" in entry


def test_a_withdrawn_record_is_cited_and_named_as_it_was_last_published_not_as_edited_since(client):
    claim = make_public_claim(text="What readers saw")
    claim.publication_status = "withdrawn"
    claim.withdrawal_reason = "Retracted."
    claim.save()
    claim.text = "Words written after the withdrawal, never public"
    claim.save()
    pages = [
        client.get(claim.get_absolute_url()),
        client.get(reverse("claim_cite_bib", args=[claim.pk])),
        client.get(reverse("claim_cite_json", args=[claim.pk])),
    ]
    for page in pages:
        text = page.content.decode()
        assert "never public" not in text and "What readers saw" in text


def test_a_record_withdrawn_before_the_latest_release_is_not_cited_as_in_it(client):
    claim = make_public_claim()
    claim.publication_status = "withdrawn"
    claim.save()
    cut_release(released_at=timezone.now() + datetime.timedelta(minutes=1))
    entry = client.get(reverse("claim_cite_bib", args=[claim.pk])).content.decode()
    assert "version = " not in entry and "withdrawn before release 2026.12.01" in entry


def test_a_source_articles_citation_cites_parleys_record_of_it_not_the_article(rf):
    article = make_article(
        headline="Talks & {tensions}", url="https://news.example/talks", publication_status=PUBLISHED
    )
    citation = citation_of(rf, SourceArticle.objects.get(pk=article.pk))
    assert citation.url == f"http://testserver/sources/{article.pk}/"
    assert citation.genre == "Source article record"
    assert r"title = {{Talks \& \{tensions\}}}" in bibtex(citation)


def test_dates_are_the_first_publication_and_last_public_change(rf):
    claim = make_public_claim()
    first = datetime.datetime(2026, 2, 18, 12, tzinfo=datetime.UTC)
    changed = datetime.datetime(2026, 3, 5, 12, tzinfo=datetime.UTC)
    Claim.objects.filter(pk=claim.pk).update(first_published_at=first, public_updated_at=changed)
    citation = citation_of(rf, Claim.objects.get(pk=claim.pk))
    assert "First published 18 February 2026; last changed 5 March 2026." in plain_text(citation)
    assert "  date = {2026-02-18}," in bibtex(citation) and "last changed 2026-03-05" in bibtex(citation)
