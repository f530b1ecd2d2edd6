"""Serving Parley in production: settings, headers, feeds, sitemap, health, structured data."""

import datetime
import json
import os
import re
import secrets
import socket
import subprocess
import sys
from contextlib import contextmanager
from unittest import mock

import feedparser
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import DEFAULT_DB_ALIAS, OperationalError, close_old_connections, connection, connections
from django.test import Client
from django.urls import reverse

from config.settings import BASE_DIR, env_header
from config.warmup import warm_pages
from sources.models import SourceArticle
from talks import feeds, sitemaps
from talks.models import Claim, Issue, Participant, Round
from tests.builders import (
    PUBLISHED,
    make_article,
    make_citation,
    make_claim,
    make_issue,
    make_public_claim,
    make_round,
)

pytestmark = pytest.mark.django_db

PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "parley.example.org",
}


def test_the_wsgi_entry_point_loads_the_site_and_keeps_it_out_of_full_garbage_collections(tmp_path):
    """Each server process loads the URL conf at start and freezes what it loaded, so that the
    collector's full passes no longer walk Django's long-lived objects during requests. A database
    not yet migrated does not stop it (the lists' counts are then built at the first request)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'not-migrated.sqlite3'}"
    probe = (
        "import gc, sys, config.wsgi; "
        "print(gc.get_freeze_count(), 'talks.urls' in sys.modules, type(config.wsgi.application).__name__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=BASE_DIR, env={**env, **PRODUCTION}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    *logged, last_line = result.stdout.splitlines()
    assert logged
    assert all("were not built at start" in line or "No pages were served" in line for line in logged)
    frozen, urls_loaded, handler = last_line.split()
    assert int(frozen) > 10_000
    assert urls_loaded == "True"
    assert handler == "WSGIHandler"


@contextmanager
def connection_kept_for_the_test():
    """Requests made straight through a WSGI handler close the database connection when they start
    and finish, which would end the test's transaction; Django's test client disconnects the same."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_a_server_process_serves_each_kind_of_page_once_before_its_readers(seeded, settings):
    """Rendered in full, as if over HTTPS, even where plain HTTP is redirected and the allowed host
    is a wildcard: a redirect would compile no template."""
    settings.ALLOWED_HOSTS = [".example.org"]
    settings.SECURE_SSL_REDIRECT = True
    with connection_kept_for_the_test():
        served = warm_pages(WSGIHandler())
    paths = [path for path, _ in served]
    assert [status for _, status in served] == ["200 OK"] * len(served)
    assert {"/", "/rounds/", "/claims/", "/issues/", "/participants/", "/sources/"} <= set(paths)
    for model in (Round, Claim, Issue, Participant, SourceArticle):
        first = model.objects.published().order_by("pk").first()
        assert first.get_absolute_url() in paths
    assert any(path.startswith("/search/?q=") for path in paths)
    claim = Claim.objects.published().order_by("pk").first()
    assert reverse("claim_embed", args=[claim.pk]) in paths and reverse("api:claim-list") in paths


def test_a_server_process_of_an_empty_archive_serves_its_lists_at_start(db, settings):
    settings.ALLOWED_HOSTS = ["parley.example.org"]
    with connection_kept_for_the_test():
        served = warm_pages(WSGIHandler())
    assert ("/claims/", "200 OK") in served
    assert not any(path.startswith("/rounds/") and path != "/rounds/" for path, _ in served)


def test_the_deploy_check_passes_with_production_settings():
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env={**env, **PRODUCTION},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_public_pages_carry_the_security_headers(client):
    response = client.get(reverse("home"), secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_cookies_are_secure_and_the_proxy_header_is_read_from_the_environment(settings, monkeypatch):
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    monkeypatch.setenv("PARLEY_PROXY", "HTTP_X_FORWARDED_PROTO=https")
    assert env_header("PARLEY_PROXY") == ("HTTP_X_FORWARDED_PROTO", "https")
    monkeypatch.setenv("PARLEY_PROXY", "X-Forwarded-Proto")
    with pytest.raises(Exception, match="must look like HTTP_X_FORWARDED_PROTO=https"):
        env_header("PARLEY_PROXY")


def parsed_feed(client, url):
    response = client.get(url)
    assert response.status_code == 200
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    return feed


def test_feeds_parse_and_list_only_published_records(client):
    issue = make_issue(name="Sanctions", publication_status=PUBLISHED)
    published = make_public_claim(text="Published claim.", issue=issue)
    draft = make_claim(text="Draft claim.")
    draft.issues.add(issue)
    make_round(title="Draft round")
    for url, expected, hidden in [
        (reverse("claims_feed"), "Published claim.", "Draft claim."),
        (reverse("issue_feed", args=[issue.slug]), "Published claim.", "Draft claim."),
        (reverse("rounds_feed"), published.round.title, "Draft round"),
        (reverse("changes_feed"), "Published: Published claim.", "Draft"),
    ]:
        titles = [entry.title for entry in parsed_feed(client, url).entries]
        assert expected in titles, url
        assert not any(hidden in title for title in titles), url


@pytest.mark.parametrize("items", [2, 50], ids=["walking the newest claims", "looking up the issue's"])
def test_an_issue_feed_gives_the_issues_newest_claims_and_its_sub_issues_however_it_finds_them(
    client, monkeypatch, items
):
    # For 2 items (3 claims on the issue of 4) a feed walks the archive's newest claims; for 50 it
    # looks up the issue's claims: both must give the same newest claims.
    monkeypatch.setattr(feeds, "ITEMS", items)
    issue = make_issue(name="Prisoners", publication_status=PUBLISHED)
    sub_issue = make_issue(name="Exchanges", parent=issue, publication_status=PUBLISHED)
    on_issue = [make_public_claim(text=f"On the issue {n}.", issue=issue) for n in range(2)]
    on_sub_issue = make_public_claim(text="On a sub-issue.", issue=sub_issue)
    make_public_claim(text="On another issue.")
    draft = make_claim(text="A draft on the issue.")
    draft.issues.add(issue)
    moments = [datetime.datetime(2026, 2, day, tzinfo=datetime.UTC) for day in (10, 12, 11)]
    for claim, moment in zip([*on_issue, on_sub_issue], moments, strict=True):
        Claim.objects.filter(pk=claim.pk).update(first_published_at=moment, public_updated_at=None)
    titles = [entry.title for entry in parsed_feed(client, reverse("issue_feed", args=[issue.slug])).entries]
    assert titles == ["On the issue 1.", "On a sub-issue.", "On the issue 0."][:items]


def test_pages_link_to_the_feeds_that_follow_them(client):
    claim = make_public_claim()
    html = client.get(reverse("round_detail", args=[claim.round.slug])).content.decode()
    assert f'href="{reverse("rounds_feed")}"' in html
    html = client.get(reverse("issue_detail", args=[claim.issues.get().slug])).content.decode()
    assert f'href="{reverse("issue_feed", args=[claim.issues.get().slug])}"' in html


def sitemap_locations(client):
    index = client.get(reverse("sitemap")).content.decode()
    locations = []
    for section in re.findall(r"<loc>(.*?)</loc>", index):
        locations += re.findall(
            r"<loc>(.*?)</loc>", client.get(section.replace("http://testserver", "")).content.decode()
        )
    return {location.replace("http://testserver", "") for location in locations}


def test_the_sitemap_lists_every_published_page_and_no_draft(client):
    public = make_public_claim()
    draft_claim, draft_round = make_claim(), make_round()
    locations = sitemap_locations(client)
    for record in [
        public,
        public.round,
        public.speaker,
        public.issues.get(),
        *(c.article for c in public.citations.all()),
    ]:
        assert record.get_absolute_url() in locations
    assert draft_claim.get_absolute_url() not in locations and draft_round.get_absolute_url() not in locations
    assert reverse("about") in locations and reverse("downloads") in locations


def test_sitemap_pages_cover_blocks_of_keys_each_record_once_and_list_no_block_without_one(
    client, monkeypatch
):
    monkeypatch.setattr(sitemaps, "BLOCK", 3)
    claims = [make_claim(publication_status=PUBLISHED) for _ in range(7)]
    drafts = [make_claim() for _ in range(4)]  # with no published claim among them, a block is left out
    public_urls = {claim.get_absolute_url() for claim in claims}
    index = client.get(reverse("sitemap")).content.decode()
    pages = [loc for loc in re.findall(r"<loc>(.*?)</loc>", index) if "sitemap-claims" in loc]
    listed = []
    for page in pages:
        response = client.get(page.replace("http://testserver", ""))
        assert response.status_code == 200 and response["Content-Type"] == "application/xml"
        listed += [
            loc.replace("http://testserver", "")
            for loc in re.findall(r"<loc>(.*?)</loc>", response.content.decode())
        ]
    assert sorted(listed) == sorted(public_urls)  # each published claim once, and no draft
    last = max(claim.pk for claim in [*claims, *drafts])
    assert len(pages) == len({claim.pk // 3 for claim in claims}) < last // 3 + 1
    empty_block = max(draft.pk for draft in drafts) // 3 + 1
    assert client.get(reverse("sitemap_section", args=["claims"]) + f"?p={empty_block}").status_code == 404


def test_a_sitemap_entry_gives_the_day_of_the_records_last_public_change(client):
    claim = make_public_claim()
    Claim.objects.filter(pk=claim.pk).update(
        first_published_at=datetime.datetime(2026, 2, 17, 23, 30, tzinfo=datetime.UTC), public_updated_at=None
    )
    its_page = reverse("sitemap_section", args=["claims"]) + f"?p={claim.pk // sitemaps.BLOCK + 1}"
    page = client.get(its_page).content.decode()
    assert f"<loc>http://testserver{claim.get_absolute_url()}</loc><lastmod>2026-02-17</lastmod>" in page
    Claim.objects.filter(pk=claim.pk).update(
        public_updated_at=datetime.datetime(2026, 3, 1, 0, 5, tzinfo=datetime.UTC)
    )
    page = client.get(its_page).content.decode()
    assert f"<loc>http://testserver{claim.get_absolute_url()}</loc><lastmod>2026-03-01</lastmod>" in page


@pytest.mark.parametrize("page", ["0", "-1", "x", "1.5", "99999999999999999999", "\uff11", ""])
def test_a_sitemap_page_that_cannot_exist_is_not_found(client, page):
    make_public_claim()
    assert client.get(reverse("sitemap_section", args=["claims"]), {"p": page}).status_code == 404
    assert client.get(reverse("sitemap_section", args=["no-such-kind"])).status_code == 404


def test_robots_txt_points_to_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    assert "Sitemap: http://testserver/sitemap.xml" in response.content.decode()


def test_healthz_reports_a_working_database(client):
    response = client.get("/healthz")
    assert (response.status_code, response.content) == (200, b"ok\n")


def test_healthz_reports_a_broken_database_as_503(client):
    with mock.patch("talks.views.connection.cursor", side_effect=OperationalError("connection refused")):
        response = client.get("/healthz")
    assert response.status_code == 503 and b"database unavailable" in response.content


def a_closed_port() -> int:
    """A port on this machine that nothing listens on: a database there refuses every connection."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def database_unreachable():
    """The default database, with its settings as configured, moved to a closed port: what the site
    meets when its PostgreSQL server is down."""
    working = connections[DEFAULT_DB_ALIAS]
    settings_dict = {**working.settings_dict, "HOST": "127.0.0.1", "PORT": str(a_closed_port())}
    # Its own alias, so that it gets a pool of its own rather than the test database's.
    unreachable = type(working)(settings_dict, alias="unreachable")
    connections[DEFAULT_DB_ALIAS] = unreachable
    try:
        yield
    finally:
        connections[DEFAULT_DB_ALIAS] = working
        unreachable.close_pool()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the connection pool is PostgreSQL's")
def test_with_postgresql_unreachable_healthz_answers_503_and_pages_a_server_error():
    # How soon is settled by the pool's timeout (tests/test_settings.py); here, that they answer.
    assert connection.settings_dict["OPTIONS"]["pool"]["timeout"] < 2
    with database_unreachable():
        health = Client().get("/healthz")
        page = Client(raise_request_exception=False).get(reverse("claim_list"))
    assert health.status_code == 503 and b"database unavailable" in health.content
    assert page.status_code == 500


def structured_data(html):
    return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))


def test_round_pages_describe_the_round_as_a_schema_org_event(client):
    claim = make_public_claim()
    Round.objects.filter(pk=claim.round.pk).update(
        city="Geneva", country="Switzerland", venue="Hotel Intercontinental"
    )
    data = structured_data(client.get(claim.round.get_absolute_url()).content.decode())
    assert data["@type"] == "Event" and data["startDate"] == "2026-02-17" and data["endDate"] == "2026-02-18"
    assert data["location"]["name"] == "Hotel Intercontinental"
    assert data["location"]["address"]["addressLocality"] == "Geneva"


def test_article_pages_describe_the_article_without_claiming_an_inferred_date(client):
    claim = make_public_claim()
    article = claim.citations.first().article
    article.published_on, article.published_on_precision = "2026-02-18", "approximate"
    article.save()
    data = structured_data(client.get(article.get_absolute_url()).content.decode())
    assert data["@type"] == "NewsArticle" and data["headline"] == article.headline
    assert "datePublished" not in data and data["publisher"]["name"] == article.outlet.name


def test_structured_data_cannot_close_its_script_element(client):
    round_ = make_round(title="</script><script>alert(1)</script>", publication_status=PUBLISHED)
    html = client.get(round_.get_absolute_url()).content.decode()
    assert "</script><script>alert(1)" not in html


@pytest.mark.urls("tests.error_urls")
def test_a_server_error_shows_the_styled_page():
    response = Client(raise_request_exception=False).get("/broken/")
    assert response.status_code == 500
    assert b"Something went wrong" in response.content and b"<title>" in response.content


def test_logs_go_to_standard_output(settings):
    assert settings.LOGGING["handlers"]["stdout"]["stream"] == "ext://sys.stdout"
    assert settings.LOGGING["root"]["handlers"] == ["stdout"]


def test_claims_are_public_only_through_published(client):
    assert not Claim.objects.published().exists()


def test_claim_pages_describe_the_claim_with_its_appearances_and_speaker(client):
    claim = make_public_claim(attribution="According to Ukrainian diplomatic sources")
    articles = [citation.article for citation in claim.citations.order_by("id")]
    for article, day in zip(articles, ["2026-02-19", "2026-02-18"], strict=True):
        article.published_on, article.published_on_precision = day, "day"
        article.save()
    draft = make_article()  # an article readers cannot see cites it too
    make_citation(claim=claim, article=draft, quote="a phrase")
    data = structured_data(client.get(claim.get_absolute_url()).content.decode())
    assert data["@context"] == "https://schema.org" and data["@type"] == "Claim"
    assert data["text"] == f"According to Ukrainian diplomatic sources: {claim.text}"  # the hedge kept
    assert data["author"]["name"] == claim.speaker.name
    assert data["author"]["affiliation"]["name"] == claim.party.name
    assert [appearance["headline"] for appearance in data["appearance"]] == [a.headline for a in articles]
    assert all(appearance["@type"] == "NewsArticle" for appearance in data["appearance"])
    assert data["firstAppearance"]["headline"] == articles[1].headline  # the earlier day
    assert data["firstAppearance"]["datePublished"] == "2026-02-18"
    assert draft.headline not in json.dumps(data)


def test_a_claims_description_names_no_draft_speaker(client):
    claim = make_public_claim()
    Participant.objects.filter(pk=claim.speaker_id).update(publication_status="draft")
    data = structured_data(client.get(claim.get_absolute_url()).content.decode())
    assert "author" not in data and claim.speaker.name not in json.dumps(data)
