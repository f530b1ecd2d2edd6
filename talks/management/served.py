"""What the load commands (`run_benchmark`, `run_soak`) share: the demo archive served as `make serve`
serves it, the public pages they request, and how they summarise timings."""

import datetime
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from sources.models import SourceArticle
from talks.list_specs import public_tracks
from talks.models import Claim, Disagreement, Issue, Participant, Round, Track
from talks.sitemaps import blocks_with_published_records

SERVER_THREADS = 8  # per gunicorn worker, as `make serve` runs by default
DEMO_TRACK_PREFIX = "demo-track-"  # every track generate_demo_data makes


def reference_loop_ms() -> float:
    """The best of three runs of a fixed pure-Python loop: how fast this machine is right now. Shared
    machines change speed from minute to minute; printed before and after, it says whether two runs'
    figures can be compared."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        sum(number * number for number in range(1_000_000))
        best = min(best, time.perf_counter() - started)
    return best * 1000


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def require_demo_archive(only_demo: bool = False) -> None:
    """A demo archive to serve; with `only_demo`, nothing else in the database, for a run that
    writes (the soak edits published claims and adds editors' logins)."""
    if not Claim.objects.published().exists():
        raise CommandError("No published claims: run generate_demo_data first.")
    if only_demo and Track.objects.exclude(slug__startswith=DEMO_TRACK_PREFIX).exists():
        raise CommandError(
            "This database holds tracks that generate_demo_data did not make. The soak edits "
            "published claims and adds editors' logins, so it runs only on a demo archive: point "
            "DATABASE_URL at one built by generate_demo_data."
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Server:
    url: str  # http://127.0.0.1:<port>, without a trailing slash
    pid: int  # gunicorn's master process


@contextmanager
def served_archive(log: Path | None = None) -> Iterator[Server]:
    """The current database served by gunicorn as `make serve` serves it (2 gthread workers of 8
    threads, debug off, the production settings) but over plain HTTP on a free local port; stopped on
    leaving. `log` takes the server's output (Django's error log, with tracebacks, and gunicorn's);
    without it, the output goes to this process's."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "WEB_THREADS": str(SERVER_THREADS),  # sizes each worker's database pool (config/settings.py)
        # One client times or loads every page: the API's per-client limit would refuse it.
        "API_THROTTLE_RATE": "off",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "config.wsgi:application", "--worker-class", "gthread", "--workers", "2"]
    command += [
        "--threads",
        str(SERVER_THREADS),
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "300",
        "--log-level",
        "warning",
    ]
    output = None
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        output = log.open("w")
    try:
        process = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
        )
        try:
            server = Server(url=f"http://127.0.0.1:{port}", pid=process.pid)
            wait_for(server.url + "/healthz")
            yield server
        finally:
            process.terminate()
            process.wait(timeout=30)
    finally:
        if output is not None:
            output.close()


def wait_for(url):
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    raise CommandError(f"The server did not answer at {url}")


def sample_pages() -> dict[str, list[str]]:
    """The public pages of each kind, sampled from the current archive."""

    def sample(queryset, count=10):
        return (
            list(queryset.order_by("?")[:count]) if connection.vendor != "sqlite" else list(queryset[:count])
        )

    def middle_page(queryset):
        return max(1, queryset.count() // 25 // 2)

    issue = Issue.objects.published().filter(parent__isnull=True).first()
    claim_pages = blocks_with_published_records(Claim)
    sitemap_pages = {
        "claims": [claim_pages[0], claim_pages[len(claim_pages) // 2], claim_pages[-1]],
        "sources": blocks_with_published_records(SourceArticle)[:1],
        "rounds": blocks_with_published_records(Round)[:1],
    }
    return {
        "home": [reverse("home")],
        "round list": [
            reverse("round_list"),
            reverse("round_list") + f"?page={middle_page(Round.objects.published())}",
        ],
        "round list, filtered": [reverse("round_list") + "?country=Switzerland&status=held&ordering=-date"],
        "round": [r.get_absolute_url() for r in sample(Round.objects.published())],
        "track list": [reverse("track_list")],
        "track": [t.get_absolute_url() for t in sample(public_tracks())],
        "issue list": [reverse("issue_list")],
        "issue": [issue.get_absolute_url()] if issue else [reverse("issue_list")],
        "participant list": [reverse("participant_list"), reverse("participant_list") + "?q=Person"],
        "participant": [p.get_absolute_url() for p in sample(Participant.objects.published())],
        "source list": [reverse("source_list"), reverse("source_list") + "?outlet=unknown"],
        "source": [a.get_absolute_url() for a in sample(SourceArticle.objects.published())],
        "claim list": [
            reverse("claim_list"),
            reverse("claim_list") + f"?page={middle_page(Claim.objects.published())}",
        ],
        "claim list, filtered": [reverse("claim_list") + f"?issue={issue.slug}&kind=demand&ordering=-outlets"]
        if issue
        else [reverse("claim_list")],
        # Filters that match a sixth of the archive, or all of it: counted, faceted and ordered
        # in full all the same.
        "claim list, broad filter": [
            reverse("claim_list") + "?kind=demand",
            reverse("claim_list") + "?date_after=1900-01-01",
            reverse("claim_list") + "?min_outlets=1&ordering=date",
        ],
        # A topic and a verb, each in about a tenth of the claims. (A word in every speaker's
        # name, as "Person" is in the demo archive, matches all 300,000: see the README.)
        "claim list, text filter": [
            reverse("claim_list") + "?q=" + word for word in ["ceasefire", "rejected"]
        ],
        "source list, filtered": [
            reverse("source_list") + "?date_after=1900-01-01",
            reverse("source_list") + "?language=en&ordering=headline",
        ],
        "claim": [c.get_absolute_url() for c in sample(Claim.objects.published())],
        # Claims in a disagreement, or of one way of sourcing: the database lists their ids.
        "claim list, truth filters": [
            reverse("claim_list") + "?disagreement=true",
            reverse("claim_list") + "?sourcing=hedged&ordering=-date",
        ],
        "disagreement list": [
            reverse("disagreement_list"),
            reverse("disagreement_list") + f"?page={middle_page(Disagreement.objects.published())}",
        ],
        "disagreement": [d.get_absolute_url() for d in sample(Disagreement.objects.published())]
        or [reverse("disagreement_list")],
        "search": [
            reverse("search") + "?q=" + word for word in ["Geneva", "sanctions", "Persona", "prisoners"]
        ],
        "feed": [reverse("claims_feed"), reverse("rounds_feed"), reverse("disagreements_feed")]
        + ([reverse("issue_feed", args=[issue.slug])] if issue else []),
        "sitemap index": [reverse("sitemap")],
        # The first, a middle and the last page of claims, and the first of articles and of rounds.
        "sitemap page": [
            reverse("sitemap_section", args=[section]) + f"?p={number}"
            for section, numbers in sitemap_pages.items()
            for number in numbers
        ],
        "downloads page": [reverse("downloads")],
    }


# Each API list the benchmark times, beside the HTML list page (in `sample_pages`) it mirrors.
API_BESIDE_PAGE = {
    "api claims": "claim list",
    "api claims, filtered": "claim list, filtered",
    "api claims, broad filter": "claim list, broad filter",
    "api claims, text filter": "claim list, text filter",
    "api claims, expanded": "claim list",
    "api claims, updated since": "claim list",
    "api rounds": "round list",
    "api rounds, filtered": "round list, filtered",
    "api articles": "source list",
    "api articles, filtered": "source list, filtered",
    "api people": "participant list",
    "api issues": "issue list",
    "api disagreements": "disagreement list",
    "api citations": None,
    "api removals": None,
    "api releases": None,
}


def sample_api_pages() -> dict[str, list[str]]:
    """The API's list endpoints, plain and filtered, with the parameters the HTML lists are timed
    with (`sample_pages`), so each can be read beside its page."""
    pages = sample_pages()

    def api(name: str, html: str) -> list[str]:
        return [reverse(name) + url[url.index("?") :] if "?" in url else reverse(name) for url in pages[html]]

    claim = Claim.objects.published().order_by("-pk").first()
    recent = (timezone.now() - datetime.timedelta(days=7)).isoformat()
    return {
        "api claims": api("api:claim-list", "claim list"),
        "api claims, filtered": api("api:claim-list", "claim list, filtered"),
        "api claims, broad filter": api("api:claim-list", "claim list, broad filter"),
        "api claims, text filter": api("api:claim-list", "claim list, text filter"),
        "api claims, expanded": [
            reverse("api:claim-list") + "?expand=round,speaker,party,issues,citations,disagreements"
        ],
        "api claims, updated since": [reverse("api:claim-list") + "?" + urlencode({"updated_since": recent})],
        "api rounds": api("api:round-list", "round list")
        + [reverse("api:round-list") + "?expand=delegations"],
        "api rounds, filtered": api("api:round-list", "round list, filtered"),
        "api articles": api("api:article-list", "source list"),
        "api articles, filtered": api("api:article-list", "source list, filtered"),
        "api people": api("api:person-list", "participant list"),
        "api issues": api("api:issue-list", "issue list"),
        "api disagreements": api("api:disagreement-list", "disagreement list"),
        "api citations": [reverse("api:citation-list") + (f"?claim={claim.key}" if claim else "")],
        "api removals": [reverse("api:removal-list") + "?" + urlencode({"since": recent})],
        "api releases": [reverse("api:release-list")],
    }
