"""The read-only API (/api/v1/): only published records, in every list, detail, count and expansion;
errors in JSON naming the parameter; CORS for GETs under /api/ only; the per-client throttle; the
removals feed and releases."""

import datetime
import json

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from talks.models import Claim
from talks.releases import cut_release
from tests.builders import (
    PUBLISHED,
    make_article,
    make_citation,
    make_claim,
    make_delegation,
    make_issue,
    make_membership,
    make_participant,
    make_public_claim,
    make_round,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unthrottled_api")]

EVERY_LIST = [
    "api:claim-list",
    "api:round-list",
    "api:article-list",
    "api:person-list",
    "api:issue-list",
    "api:disagreement-list",
    "api:citation-list",
    "api:release-list",
    "api:removal-list",
]
CLAIM_EXPANSIONS = "round,speaker,party,issues,citations,disagreements"


def get(client, url, **query):
    response = client.get(url, query)
    assert response["Content-Type"] == "application/json", (url, response.content[:200])
    return response


def withdrawn(record):
    record.publication_status = "withdrawn"
    record.withdrawal_reason = "Wrong."
    record.save()
    return record


@pytest.fixture
def drafts_beside_a_public_claim():
    """A published claim with a draft round, speaker and issue, citing a draft article beside a
    published one; a draft claim; a withdrawn claim; a withdrawn person."""
    public = make_public_claim(
        round=make_round(title="Draft round"),
        speaker=make_participant(name="Draft Speaker"),
        issue=make_issue(name="Draft issue"),
    )
    make_citation(claim=public, article=make_article(headline="Draft article"), quote="draft quote")
    draft = make_claim(text="A draft claim", speaker=public.speaker)
    make_citation(claim=draft, article=public.citations.first().article)
    withdrawn(make_public_claim(text="A withdrawn claim"))
    withdrawn(make_participant(name="Withdrawn Person", publication_status=PUBLISHED))
    return public


def test_drafts_and_withdrawn_records_appear_in_no_list_detail_count_or_expansion(
    client, drafts_beside_a_public_claim
):
    public = drafts_beside_a_public_claim
    for name in EVERY_LIST:
        query = {
            "api:claim-list": {"expand": CLAIM_EXPANSIONS},
            "api:person-list": {"expand": "seats"},
            "api:issue-list": {"expand": "sub_issues"},
            "api:citation-list": {"updated_since": "2000-01-01T00:00:00Z"},
        }.get(name, {})
        body = get(client, reverse(name), **query)
        assert body.status_code == 200, (name, body.content)
        text = body.content.decode()
        for hidden in ["Draft round", "Draft Speaker", "Draft issue", "Draft article", "draft quote"]:
            assert hidden not in text, (name, hidden)
        assert "A draft claim" not in text
        if name != "api:removal-list":  # which names what was withdrawn, and only that
            assert "A withdrawn claim" not in text and "Withdrawn Person" not in text
    claims = get(client, reverse("api:claim-list"), expand=CLAIM_EXPANSIONS).json()
    assert claims["count"] == Claim.objects.published().count() == 1
    (row,) = claims["results"]
    assert row["key"] == public.key
    assert (row["round"], row["speaker"], row["issues"]) == (None, None, [])
    assert row["expanded"]["round"] is None and row["expanded"]["speaker"] is None
    assert len(row["expanded"]["citations"]) == 2  # the two published articles', not the draft's
    citations = get(client, reverse("api:citation-list"), claim=public.key).json()
    assert citations["count"] == 2
    for draft in Claim.objects.exclude(publication_status=PUBLISHED):
        assert get(client, reverse("api:claim-detail", args=[draft.key])).status_code == 404


def test_citations_are_listed_by_claim_article_or_change_never_all_at_once(client):
    claim = make_public_claim()
    refused = get(client, reverse("api:citation-list"), stance="supports")
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["claim"]
    article = claim.citations.first().article
    assert get(client, reverse("api:citation-list"), article=article.key).json()["count"] == 1
    assert get(client, reverse("api:citation-list"), claim=claim.key, stance="disputes").json()["count"] == 1


def test_a_claim_without_expand_gives_keys_and_links_and_with_it_the_records(client):
    claim = make_public_claim()
    url = reverse("api:claim-detail", args=[claim.key])
    plain = get(client, url).json()
    assert "expanded" not in plain
    assert plain["speaker"] == claim.speaker.slug and plain["round"] == claim.round.slug
    assert plain["citations_url"].endswith(f"/api/v1/citations/?claim={claim.key}")
    assert plain["html_url"].endswith(claim.get_absolute_url())
    expanded = get(client, url, expand="speaker,citations").json()["expanded"]
    assert set(expanded) == {"speaker", "citations"}
    assert expanded["speaker"]["name"] == claim.speaker.name


def test_people_expand_to_their_seats_at_published_rounds_only(client):
    person = make_participant(publication_status=PUBLISHED)
    public_round = make_round(title="The public round", publication_status=PUBLISHED)
    make_membership(participant=person, delegation=make_delegation(round=public_round), title="Envoy")
    make_membership(participant=person, delegation=make_delegation(round=make_round(title="A draft round")))
    plain = get(client, reverse("api:person-detail", args=[person.slug])).json()
    assert "expanded" not in plain
    for response in [
        get(client, reverse("api:person-detail", args=[person.slug]), expand="seats"),
        get(client, reverse("api:person-list"), expand="seats"),
    ]:
        assert "draft round" not in response.content.decode().lower()
    (seat,) = get(client, reverse("api:person-detail", args=[person.slug]), expand="seats").json()[
        "expanded"
    ]["seats"]
    assert (seat["round"], seat["round_title"], seat["title"]) == (
        public_round.slug,
        "The public round",
        "Envoy",
    )


def test_issues_expand_to_their_published_sub_issues_only(client):
    parent = make_issue(name="Security", publication_status=PUBLISHED)
    make_issue(name="Guarantees", parent=parent, publication_status=PUBLISHED)
    make_issue(name="A draft sub-issue", parent=parent)
    body = get(client, reverse("api:issue-detail", args=[parent.slug]), expand="sub_issues").json()
    assert body["expanded"]["sub_issues"] == [{"slug": "guarantees", "name": "Guarantees"}]
    listed = get(client, reverse("api:issue-list"), expand="sub_issues").content.decode()
    assert "A draft sub-issue" not in listed


def test_updated_since_keeps_the_records_readers_saw_change_since(client):
    old, new = make_public_claim(), make_public_claim()
    long_ago = timezone.now() - datetime.timedelta(days=400)
    Claim.objects.filter(pk=old.pk).update(first_published_at=long_ago, public_updated_at=None)
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    found = get(client, reverse("api:claim-list"), updated_since=since).json()
    assert [row["key"] for row in found["results"]] == [new.key]
    assert found["count"] == 1
    # An offset PostgreSQL would refuse (beyond ±15:59) is the same moment in UTC; the most
    # recently changed come first.
    offset = get(client, reverse("api:claim-list"), updated_since="2000-01-01T00:00:00+17:25").json()
    assert [row["key"] for row in offset["results"]] == [new.key, old.key]
    assert offset["count"] == 2
    # A record with no recorded change (written around the ORM): a copy cannot know it holds it.
    Claim.objects.filter(pk=old.pk).update(first_published_at=None)
    unknown = get(client, reverse("api:claim-list"), updated_since=since).json()
    assert unknown["count"] == 2 and {row["key"] for row in unknown["results"]} == {old.key, new.key}


@pytest.mark.parametrize(
    "query, parameter, status",
    [
        ({"page": "0"}, "page", 400),
        ({"page": "-1"}, "page", 400),
        ({"page": "abc"}, "page", 400),
        ({"page": "99999999999999999999999"}, "page", 400),
        ({"page": "999"}, "page", 404),
        ({"page_size": "1000"}, "page_size", 400),
        ({"page_size": "٣"}, "page_size", 400),  # a digit, but not an ASCII one
        ({"expand": "everything"}, "expand", 400),
        ({"isue": "territory"}, "isue", 400),
        ({"year": "2026"}, "year", 400),  # another list's filter
        ({"kind": "rumour"}, "kind", 400),
        ({"issue": "no-such-issue"}, "issue", 400),
        ({"min_outlets": "10000000000000000000000"}, "min_outlets", 400),
        ({"date_after": "2026-13-45"}, "date", 400),
        ({"updated_since": "yesterday"}, "updated_since", 400),
        ({"updated_since": "0001-01-01T00:00:00+17:25"}, "updated_since", 400),
        ({"round": "\x00"}, "round", 400),
        ({"q": "x" * 201}, "q", 400),
    ],
)
def test_odd_parameters_are_refused_in_json_naming_the_parameter(client, query, parameter, status):
    make_public_claim()
    response = get(client, reverse("api:claim-list"), **query)
    assert response.status_code == status
    assert list(response.json()["errors"]) == [parameter]


def test_every_error_is_json_even_at_an_unknown_address_or_a_record_that_is_not_public(client):
    for url in ["/api/v1/nothing/", "/api/v1/claims/no-such-key/", "/api/v1/rounds/x/y/z/"]:
        response = get(client, url)
        assert response.status_code == 404
        assert response.json()["errors"]
    detail = get(client, "/api/v1/claims/no-such-key/", expand="speaker")
    assert detail.status_code == 404
    assert get(client, "/api/v1/claims/no-such-key/", page="2").json()["errors"] == {
        "page": ["Unknown parameter 'page'. This address takes: expand."]
    }


def test_pages_carry_count_links_and_a_link_header(client):
    for _ in range(3):
        make_public_claim()
    response = get(client, reverse("api:claim-list"), page_size=1, page=2)
    body = response.json()
    assert body["count"] == 3
    assert body["next"].endswith("page=3&page_size=1") and "page=" not in body["previous"]
    links = response["Link"]
    for rel in ["first", "prev", "next", "last"]:
        assert f'rel="{rel}"' in links
    assert "page=3" in links.split('rel="last"')[0].rsplit("<", 1)[1]


def test_cors_is_open_for_gets_under_api_only(client):
    make_public_claim()
    api = client.get(reverse("api:claim-list"), headers={"Origin": "https://elsewhere.example"})
    assert api["Access-Control-Allow-Origin"] == "*"
    assert "Link" in api["Access-Control-Expose-Headers"]
    preflight = client.options(
        reverse("api:claim-list"),
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"},
    )
    assert "POST" not in preflight["Access-Control-Allow-Methods"]
    assert "GET" in preflight["Access-Control-Allow-Methods"]
    page = client.get(reverse("claim_list"), headers={"Origin": "https://elsewhere.example"})
    assert "Access-Control-Allow-Origin" not in page


def test_writes_are_refused(client):
    claim = make_public_claim()
    assert client.post(reverse("api:claim-list"), {}).status_code == 405
    assert client.delete(reverse("api:claim-detail", args=[claim.key])).status_code == 405


def test_a_client_past_its_rate_is_told_to_wait_in_json(client, settings):
    settings.API_THROTTLE_RATE = "2/min"
    cache.clear()
    try:
        statuses = [client.get(reverse("api:issue-list")).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        refused = client.get(reverse("api:issue-list"))
        assert refused.json()["errors"]["detail"] and int(refused["Retry-After"]) > 0
        assert client.get(reverse("issue_list")).status_code == 200  # the site itself is not throttled
    finally:
        cache.clear()


def test_removals_list_withdrawals_and_deletions_of_public_records_by_stable_key(client):
    before = timezone.now()
    gone = make_public_claim()
    withdrawn(gone)
    person = make_participant(publication_status=PUBLISHED)
    person.delete()
    never_public = make_claim()
    withdrawn(never_public)
    make_round(title="Draft then deleted").delete()
    removals = get(client, reverse("api:removal-list"), since=before.isoformat()).json()
    assert [(row["kind"], row["record_type"], row["record_key"]) for row in removals["results"]] == [
        ("withdrawn", "claim", gone.key),
        ("deleted", "participant", person.slug),
    ]
    later = get(client, reverse("api:removal-list"), since=timezone.now().isoformat()).json()
    assert later["count"] == 0


def test_releases_give_their_checksum_counts_changelog_and_download(client):
    withdrawn = make_public_claim()
    first = cut_release(site_url="https://parley.example.org")
    withdrawn.publication_status = "withdrawn"
    withdrawn.save()
    release = cut_release(site_url="https://parley.example.org", notes="For the report.")
    rows = get(client, reverse("api:release-list")).json()["results"]
    assert [row["version"] for row in rows] == [release.version, first.version]
    (row, _) = rows
    assert row == get(client, reverse("api:release-detail", args=[release.version])).json()
    assert row["previous"] == first.version and row["notes"] == "For the report."
    assert row["changelog"]["previous"] == first.version
    assert row["changelog"]["tables"]["claims"] == {"withdrawn": {"count": 1, "keys": [withdrawn.key]}}
    assert (row["sha256"], row["size"]) == (release.sha256, release.size)
    assert row["record_counts"]["claims"] == 0
    assert row["download_url"] == "http://testserver" + reverse(
        "release_download", args=[release.version, release.file_name]
    )
    assert row["html_url"] == "http://testserver" + reverse("release_detail", args=[release.version])
    downloaded = client.get(row["changelog_url"])
    assert downloaded.status_code == 200 and json.loads(downloaded.content)["version"] == release.version


def test_the_docs_page_loads_only_its_own_files_under_the_sites_csp(client):
    response = client.get(reverse("api:docs"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<style" not in html and "<script>" not in html  # the CSP allows neither inline
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "https://" not in html  # no CDN
    script = client.get(reverse("api:docs") + "?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert reverse("api:schema") in script.content.decode()


def test_removals_logged_before_keys_were_are_named_from_their_address_by_the_migration(client):
    from importlib import import_module

    from django.apps import apps

    from talks.models import PublicChange

    migration = import_module("talks.migrations.0028_public_changes_name_stable_keys")
    claim = withdrawn(make_public_claim())
    person = make_participant(publication_status=PUBLISHED)
    person.delete()
    PublicChange.objects.update(record_key="")
    migration.name_earlier_entries(apps, None)
    removals = get(client, reverse("api:removal-list")).json()["results"]
    assert [row["record_key"] for row in removals] == [claim.key, person.slug]
