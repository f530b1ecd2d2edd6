import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sources.models import SourceArticle
from talks.lists import LIST_INDEXES
from talks.models import Claim, Disagreement, Issue, Participant, Round
from talks.sitemaps import blocks_with_published_records

EXPORTS = ["rounds", "claims", "sources", "participants", "issues", "citations", "delegations"]
SERVER_THREADS = 8  # per gunicorn worker, as `make serve` runs by default


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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def resident_kib(pid: int) -> int:
    """The process's own resident memory (RssAnon). Pages of a memory-mapped SQLite file are the
    operating system's file cache, shared and reclaimable, so they are not counted."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


class Command(BaseCommand):
    help = (
        "Benchmark the archive in the current database (built by generate_demo_data) "
        "as make serve serves it. For each public page kind and each export: "
        "p50 and p95 latency for a single client and the queries per request; "
        "for exports also rows per second and the workers' peak memory above idle."
    )

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=30, help="Requests per page kind.")
        parser.add_argument("--skip-exports", action="store_true")

    def handle(self, requests, skip_exports, **options):
        if not Claim.objects.published().exists():
            raise CommandError("No published claims: run generate_demo_data first.")
        self.pages = self.sample_pages()
        port = free_port()
        server = self.start_server(port)
        try:
            base = f"http://127.0.0.1:{port}"
            self.wait_for(base + "/healthz")
            claims = Claim.objects.count()
            self.stdout.write(
                f"Database: {connection.vendor}; {claims:,} claims; {requests} requests a page kind; "
                f"reference loop {reference_loop_ms():.0f} ms."
            )
            self.stdout.write(f"{'page':<28}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}")
            for name, urls in self.pages.items():
                timings = [self.timed_get(base + urls[n % len(urls)]) for n in range(requests)]
                self.stdout.write(
                    f"{name:<28}{statistics.median(timings):>9.1f}{percentile(timings, 0.95):>9.1f}"
                    f"{self.queries(urls[0]):>9}"
                )
            self.measure_rebuilds()
            if not skip_exports:
                self.stdout.write(f"\n{'export':<28}{'rows':>10}{'seconds':>9}{'rows/s':>10}{'peak MiB':>10}")
                for name in EXPORTS:
                    self.measure_export(base, name, server.pid)
            self.stdout.write(f"\nReference loop after the run: {reference_loop_ms():.0f} ms.")
        finally:
            server.terminate()
            server.wait(timeout=30)

    def sample_pages(self) -> dict[str, list[str]]:
        def sample(queryset, count=10):
            return (
                list(queryset.order_by("?")[:count])
                if connection.vendor != "sqlite"
                else list(queryset[:count])
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
            "round list, filtered": [
                reverse("round_list") + "?country=Switzerland&status=held&ordering=-date"
            ],
            "round": [r.get_absolute_url() for r in sample(Round.objects.published())],
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
            "claim list, filtered": [
                reverse("claim_list") + f"?issue={issue.slug}&kind=demand&ordering=-outlets"
            ]
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

    def start_server(self, port):
        env = {
            **os.environ,
            "DJANGO_DEBUG": "0",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_SECURE_COOKIES": "0",
            "WEB_THREADS": str(SERVER_THREADS),  # sizes each worker's database pool (config/settings.py)
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
        return subprocess.Popen(command, cwd=settings.BASE_DIR, env=env)

    def wait_for(self, url):
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=2).read()
                return
            except OSError:
                time.sleep(0.2)
        raise CommandError(f"The server did not answer at {url}")

    def timed_get(self, url) -> float:
        started = time.perf_counter()
        with urllib.request.urlopen(url, timeout=120) as response:
            response.read()
        return (time.perf_counter() - started) * 1000

    def queries(self, path) -> int:
        """The queries of a request after a first one, as the timed requests are: the first builds
        this process's list indexes, as a server process does at start."""
        client = Client(HTTP_HOST="127.0.0.1")
        client.get(path)
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            client.get(path)
        return len(captured)

    def measure_rebuilds(self):
        """How long a server process takes to rebuild each list's index (its facets' and filters'
        columns) and its default order after a record was added or removed, which moves every
        part's token: the wait of the first reader of a filtered list after it (see
        talks/list_index.py). An edit of one column rebuilds only the column or order that reads it."""
        self.stdout.write(f"\n{'list index rebuilt':<28}{'records':>10}{'ms':>9}")
        for index in LIST_INDEXES:
            default_order = index.ordering_of(index.model._base_manager.all())
            started = time.perf_counter()
            tokens = index.tokens(connection.alias)
            index.current(connection.alias, tokens, default_order, index.held_fields, rebuild=True)
            milliseconds = (time.perf_counter() - started) * 1000
            self.stdout.write(f"{index.name:<28}{index.model._base_manager.count():>10,}{milliseconds:>9.0f}")

    def measure_export(self, base, name, master):
        workers = worker_pids(master)
        idle = {pid: resident_kib(pid) for pid in workers}
        peak = dict(idle)
        done = threading.Event()

        def watch():
            while not done.is_set():
                for pid in workers:
                    peak[pid] = max(peak[pid], resident_kib(pid))
                time.sleep(0.05)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        started = time.perf_counter()
        rows = -1  # the header
        with urllib.request.urlopen(f"{base}/{name}.csv", timeout=600) as response:
            while chunk := response.read(1 << 20):
                rows += chunk.count(b"\n")
        seconds = time.perf_counter() - started
        done.set()
        watcher.join()
        growth = max((peak[pid] - idle[pid] for pid in workers), default=0) / 1024
        self.stdout.write(
            f"{name + '.csv':<28}{rows:>10,}{seconds:>9.1f}{rows / seconds:>10,.0f}{growth:>10.1f}"
        )
