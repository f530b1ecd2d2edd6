import statistics
import threading
import time
import urllib.request
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext

from talks.lists import LIST_INDEXES
from talks.management.served import (
    percentile,
    reference_loop_ms,
    require_demo_archive,
    sample_pages,
    served_archive,
)
from talks.models import Claim

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
        require_demo_archive()
        self.pages = sample_pages()
        with served_archive() as server:
            claims = Claim.objects.count()
            self.stdout.write(
                f"Database: {connection.vendor}; {claims:,} claims; {requests} requests a page kind; "
                f"reference loop {reference_loop_ms():.0f} ms."
            )
            self.stdout.write(f"{'page':<28}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}")
            for name, urls in self.pages.items():
                timings = [self.timed_get(server.url + urls[n % len(urls)]) for n in range(requests)]
                self.stdout.write(
                    f"{name:<28}{statistics.median(timings):>9.1f}{percentile(timings, 0.95):>9.1f}"
                    f"{self.queries(urls[0]):>9}"
                )
            self.measure_rebuilds()
            if not skip_exports:
                self.stdout.write(f"\n{'export':<28}{'rows':>10}{'seconds':>9}{'rows/s':>10}{'peak MiB':>10}")
                for name in EXPORTS:
                    self.measure_export(server.url, name, server.pid)
            self.stdout.write(f"\nReference loop after the run: {reference_loop_ms():.0f} ms.")

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
