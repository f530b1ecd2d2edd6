import statistics
import threading
import time
import urllib.request
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import connection, reset_queries, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sources.models import SourceArticle
from sources.record_base import PublicationStatus
from talks.management.served import (
    API_BESIDE_PAGE,
    percentile,
    reference_loop_ms,
    require_demo_archive,
    sample_api_pages,
    sample_pages,
    served_archive,
)
from talks.models import Citation, Claim, Issue

EXPORTS = ["rounds", "claims", "sources", "participants", "issues", "citations", "delegations"]


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


def insert_claim() -> float:
    """Insert one published claim with an issue and a citation through the ORM, as an editor's save
    does; the milliseconds it took. Benchmark claims are marked, so a demo archive stays tellable."""
    template = Claim.objects.published().exclude(round=None).order_by("-pk").first()
    issue = Issue.objects.published().first()
    article = SourceArticle.objects.published().first()
    started = time.perf_counter()
    with transaction.atomic():
        claim = Claim.objects.create(
            text="A benchmark claim, inserted while readers read.",
            kind=template.kind,
            round=template.round,
            party=template.party,
            speaker=template.speaker,
            sourcing=template.sourcing,
            attribution=template.attribution,
            publication_status=PublicationStatus.PUBLISHED,
        )
        claim.issues.add(issue)
        Citation.objects.create(claim=claim, article=article, quote="benchmark", stance="supports")
    return (time.perf_counter() - started) * 1000


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
        parser.add_argument(
            "--write-seconds",
            type=float,
            default=20,
            help="Seconds of each run of reads with and without writes.",
        )

    def handle(self, requests, skip_exports, write_seconds, **options):
        seconds = write_seconds
        require_demo_archive()
        self.pages = sample_pages()
        api_pages = sample_api_pages()
        with served_archive() as server:
            claims = Claim.objects.count()
            self.stdout.write(
                f"Database: {connection.vendor}; {claims:,} claims; {requests} requests a page kind; "
                f"reference loop {reference_loop_ms():.0f} ms."
            )
            self.stdout.write(f"{'page':<28}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}")
            html_p95 = {}
            for name, urls in self.pages.items():
                timings = [self.timed_get(server.url + urls[n % len(urls)]) for n in range(requests)]
                html_p95[name] = percentile(timings, 0.95)
                self.stdout.write(
                    f"{name:<28}{statistics.median(timings):>9.1f}{percentile(timings, 0.95):>9.1f}"
                    f"{self.queries(urls[0]):>9}"
                )
            self.measure_api(server.url, api_pages, requests, html_p95)
            self.measure_writes_while_reading(server.url, seconds)
            if not skip_exports:
                self.stdout.write(f"\n{'export':<28}{'rows':>10}{'seconds':>9}{'rows/s':>10}{'peak MiB':>10}")
                for name in EXPORTS:
                    self.measure_export(server.url, name, server.pid)
            self.stdout.write(f"\nReference loop after the run: {reference_loop_ms():.0f} ms.")

    def measure_api(self, base: str, pages: dict, requests: int, html_p95: dict):
        """The API's list endpoints (talks/api/), each beside the p95 of the HTML list it mirrors."""
        self.stdout.write(
            f"\n{'api endpoint':<28}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}  HTML list (p95 ms)"
        )
        for name, urls in pages.items():
            timings = [self.timed_get(base + urls[n % len(urls)]) for n in range(requests)]
            page = API_BESIDE_PAGE.get(name)
            beside = f"  {page} ({html_p95[page]:.1f})" if page in html_p95 else ""
            self.stdout.write(
                f"{name:<28}{statistics.median(timings):>9.1f}{percentile(timings, 0.95):>9.1f}"
                f"{self.queries(urls[0]):>9}{beside}"
            )

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

    def measure_writes_while_reading(self, base: str, seconds: float):
        """What a write costs readers. A claim inserted through the ORM, published with an issue and
        a citation, as an editor's save makes one (its insert timed), then the first request of a
        filtered claim list to each server process, against the same request's steady time; and the
        reading throughput of 4 clients over the list pages, with one such insert a second and with
        none."""
        lists = [
            base + url
            for name in (
                "claim list, filtered",
                "claim list, broad filter",
                "round list, filtered",
                "source list",
            )
            for url in self.pages[name]
        ]
        filtered = base + self.pages["claim list, filtered"][0]
        steady = statistics.median(self.timed_get(filtered) for _ in range(20))
        inserts, first_requests = [], []
        for _ in range(5):
            inserts.append(insert_claim())
            # Each of the 2 workers meets the write on its first request after it.
            first_requests.append(max(self.timed_get(filtered) for _ in range(2)))
            time.sleep(0.5)
        self.stdout.write(f"\n{'writes while reading':<44}{'ms':>9}")
        self.stdout.write(
            f"{'claim insert through the ORM, median of 5':<44}{statistics.median(inserts):>9.1f}"
        )
        self.stdout.write(f"{'filtered claim list, steady (median of 20)':<44}{steady:>9.1f}")
        self.stdout.write(
            f"{'first request after an insert (median of 5)':<44}{statistics.median(first_requests):>9.1f}"
        )
        quiet = self.throughput(lists, seconds, writes_per_second=0)
        writing = self.throughput(lists, seconds, writes_per_second=1)
        self.stdout.write(f"{'reads/s, no writes':<44}{quiet:>9.1f}")
        self.stdout.write(f"{'reads/s, one claim insert a second':<44}{writing:>9.1f}")
        self.stdout.write(f"{'ratio':<44}{writing / quiet:>9.2f}")

    def throughput(self, urls: list[str], seconds: float, writes_per_second: float) -> float:
        done = threading.Event()
        counts = [0] * 4

        def read(n):
            while not done.is_set():
                self.timed_get(urls[(counts[n] * 4 + n) % len(urls)])
                counts[n] += 1

        readers = [threading.Thread(target=read, args=(n,), daemon=True) for n in range(4)]
        for reader in readers:
            reader.start()
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            if writes_per_second:
                insert_claim()
            time.sleep(1 / writes_per_second if writes_per_second else 0.2)
        done.set()
        for reader in readers:
            reader.join()
        return sum(counts) / (time.perf_counter() - started)

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
