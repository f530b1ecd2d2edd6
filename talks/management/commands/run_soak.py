import io
import random
import secrets
import threading
import time
import traceback
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.urls import reverse

from talks.management.commands.setup_roles import EDITORS
from talks.management.editor_session import (
    CONFLICT,
    REFUSED,
    SAVED,
    EditorSession,
    NoAnswer,
    error_messages,
    fetch,
)
from talks.management.served import (
    percentile,
    reference_loop_ms,
    require_demo_archive,
    sample_pages,
    served_archive,
)
from talks.models import Claim


def reader_pages() -> dict[str, list[str]]:
    """What readers request: every page kind `make bench` times, and a filtered CSV download of
    claims and of rounds."""
    pages = sample_pages()
    claims_csv = [
        url.replace(reverse("claim_list"), reverse("claims_csv"), 1) for url in pages["claim list, filtered"]
    ]
    pages["CSV download"] = [*claims_csv, reverse("rounds_csv") + "?status=held&ordering=-date"]
    return pages


def claims_to_edit(count: int) -> list[int]:
    """The first `count` published claims an editor can save as they stand: the claim's own checks
    refuse some demo claims (a named speaker for unnamed sources), and every save of those would be
    refused whatever the writers did."""
    chosen = []
    for claim in Claim.objects.published().order_by("pk").iterator(chunk_size=100):
        try:
            claim.full_clean()
        except ValidationError:
            continue
        chosen.append(claim.pk)
        if len(chosen) == count:
            break
    return chosen


def editor_logins(count: int) -> list[tuple[str, str]]:
    """`count` editors (the Editors role: no publishing), each with a new random password."""
    call_command("setup_roles", stdout=io.StringIO())
    group = Group.objects.get(name=EDITORS)
    logins = []
    for number in range(1, count + 1):
        user, _ = get_user_model().objects.get_or_create(username=f"soak-editor-{number}")
        password = secrets.token_urlsafe(24)
        user.is_staff = True
        user.set_password(password)
        user.save()
        user.groups.add(group)
        logins.append((user.get_username(), password))
    return logins


def audit(saved: dict[int, list[str]], refused: dict[int, list[str]], texts: dict[int, str]):
    """The words whose save answered "saved" but which are missing from their claim's final text (lost
    writes), and the words of refused saves that are in it, each as (claim id, word)."""
    lost = [(pk, word) for pk, words in saved.items() for word in words if word not in texts[pk].split()]
    kept = [(pk, word) for pk, words in refused.items() for word in words if word in texts[pk].split()]
    return lost, kept


class Tally:
    """What every reader and writer thread saw, gathered under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reads = defaultdict(list)  # page kind: milliseconds of each answer
        self.statuses = Counter()
        self.server_errors = []  # (method, path, status)
        self.no_answers = []  # (method, path, error)
        self.crashes = []  # a thread's traceback: the soak itself failed
        self.forms_opened = 0
        self.save_ms = []
        self.outcomes = Counter()
        self.refusals = Counter()  # why the admin refused saves other than conflicts
        self.saved = defaultdict(list)  # claim id: the words of saves answered "saved"
        self.refused = defaultdict(list)  # claim id: the words of refused saves

    def answer(self, method, path, answer, kind=None):
        with self.lock:
            self.statuses[answer.status] += 1
            if answer.status >= 500:
                self.server_errors.append((method, path, answer.status))
            if kind is not None:
                self.reads[kind].append(answer.ms)

    def crash(self, trace):
        with self.lock:
            self.crashes.append(trace)

    def no_answer(self, method, path, error):
        with self.lock:
            self.no_answers.append((method, path, repr(error)))

    def opened(self):
        with self.lock:
            self.forms_opened += 1

    def save(self, claim_pk, word, outcome, answer):
        reasons = error_messages(answer.text) if outcome == REFUSED else []
        with self.lock:
            self.outcomes[outcome] += 1
            self.save_ms.append(answer.ms)
            if outcome == SAVED:
                self.saved[claim_pk].append(word)
            elif outcome in (CONFLICT, REFUSED):
                self.refused[claim_pk].append(word)
            self.refusals.update(reasons)


class Command(BaseCommand):
    help = (
        "Soak the archive in the current database (built by generate_demo_data), served as make serve "
        "serves it: reader threads request public pages (lists with filters, records, search, feeds, "
        "a CSV download) while writer threads, each logged in to the admin as its own editor, "
        "append a unique word to the text of the same few published claims, reopening the form after "
        "a conflict. Reports requests, 5xx answers, reader throughput and p50/p99, saves answered "
        "saved, refused as conflicts or otherwise, and lost writes: a saved word missing from the "
        "final text, or a refused one present. Exits non-zero on any 5xx, unanswered request or lost "
        "write. It changes those claims' text (and clears their second reading)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=float, default=60, help="How long readers and writers run.")
        parser.add_argument("--readers", type=int, default=50)
        parser.add_argument("--writers", type=int, default=4)
        parser.add_argument("--claims", type=int, default=3, help="How many claims the writers share.")
        parser.add_argument(
            "--server-log",
            type=Path,
            default=settings.BASE_DIR / "var" / "soak-server.log",
            help="Where the server's output goes: Django's error log, with tracebacks, and gunicorn's.",
        )

    def handle(self, seconds, readers, writers, claims, server_log, **options):
        require_demo_archive(only_demo=True)
        pages = reader_pages()
        edited = claims_to_edit(claims)
        logins = editor_logins(writers)
        run = secrets.token_hex(3)  # this run's words never match an earlier run's
        tally = Tally()
        with served_archive(log=server_log) as server:
            self.stdout.write(
                f"Soak: {connection.vendor}, {Claim.objects.count():,} claims; {readers} readers and "
                f"{writers} writers for {seconds:g} s, the writers on claims {', '.join(map(str, edited))}; "
                f"reference loop {reference_loop_ms():.0f} ms."
            )
            sessions = [EditorSession(server.url) for _ in logins]
            for session, (username, password) in zip(sessions, logins, strict=True):
                try:
                    session.log_in(username, password)
                except (RuntimeError, NoAnswer) as error:
                    raise CommandError(f"{username} could not log in to the admin: {error}") from error
            deadline = time.monotonic() + seconds
            threads = [
                threading.Thread(target=self.read, args=(tally, server.url, pages, deadline, n), daemon=True)
                for n in range(readers)
            ] + [
                threading.Thread(
                    target=self.write, args=(tally, session, edited, deadline, f"{run}w{n}"), daemon=True
                )
                for n, session in enumerate(sessions, start=1)
            ]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started
        texts = dict(Claim.objects.filter(pk__in=edited).values_list("pk", "text"))
        lost, kept = audit(tally.saved, tally.refused, texts)
        self.report(tally, list(pages), elapsed, lost, kept, server_log)
        failures = [
            f"{len(tally.server_errors)} 5xx answers" if tally.server_errors else "",
            f"{len(tally.no_answers)} requests without an answer" if tally.no_answers else "",
            f"{len(lost)} lost writes" if lost else "",
            f"{len(kept)} refused saves in the final text" if kept else "",
            f"{len(tally.crashes)} soak threads crashed" if tally.crashes else "",
            "no save answered saved" if writers and not tally.outcomes[SAVED] else "",
        ]
        if any(failures):
            raise CommandError("; ".join(filter(None, failures)) + f". Server log: {server_log}")

    def read(self, tally, base, pages, deadline, seed):
        rng = random.Random(seed)
        opener = urllib.request.build_opener()
        kinds = list(pages)
        try:
            while time.monotonic() < deadline:
                kind = rng.choice(kinds)
                path = rng.choice(pages[kind])
                try:
                    tally.answer("GET", path, fetch(opener, base + path), kind)
                except NoAnswer as error:
                    tally.no_answer("GET", path, error)
        except Exception:
            tally.crash(traceback.format_exc())

    def write(self, tally, session, claim_pks, deadline, prefix):
        rng = random.Random(prefix)
        claim_pk = rng.choice(claim_pks)
        attempt = 0
        list_path = reverse("admin:talks_claim_changelist")
        try:
            while time.monotonic() < deadline:
                attempt += 1
                path = reverse("admin:talks_claim_change", args=[claim_pk])
                try:
                    answer, fields = session.open_form(path, "claim_form")
                except NoAnswer as error:
                    tally.no_answer("GET", path, error)
                    continue
                tally.answer("GET", path, answer)
                if fields is None:
                    continue
                tally.opened()
                word = f"{prefix}n{attempt}"
                text = dict(fields)["text"]
                try:
                    answer, outcome = session.save(path, list_path, fields, text=f"{text} {word}")
                except NoAnswer as error:
                    tally.no_answer("POST", path, error)
                    continue
                tally.answer("POST", path, answer)
                tally.save(claim_pk, word, outcome, answer)
                if outcome != CONFLICT:  # a conflict is retried on the same claim, reopened
                    claim_pk = rng.choice(claim_pks)
        except Exception:
            tally.crash(traceback.format_exc())

    def report(self, tally, kinds, elapsed, lost, kept, server_log):
        write = self.stdout.write
        reads = [ms for timings in tally.reads.values() for ms in timings]
        write(f"\n{'page':<28}{'requests':>9}{'p50 ms':>9}{'p99 ms':>9}")
        for kind, timings in ((kind, tally.reads[kind]) for kind in kinds if tally.reads[kind]):
            p50, p99 = percentile(timings, 0.5), percentile(timings, 0.99)
            write(f"{kind:<28}{len(timings):>9}{p50:>9.0f}{p99:>9.0f}")
        write("")
        total = sum(tally.statuses.values()) + len(tally.no_answers)
        statuses = ", ".join(f"{status}: {count:,}" for status, count in sorted(tally.statuses.items()))
        write(f"Requests                    {total:,} in {elapsed:.1f} s ({statuses})")
        write(f"5xx answers                 {len(tally.server_errors)}")
        write(f"Requests without an answer  {len(tally.no_answers)}")
        if reads:
            write(
                f"Readers                     {len(reads) / elapsed:.1f} requests/s, "
                f"p50 {percentile(reads, 0.5):.0f} ms, p99 {percentile(reads, 0.99):.0f} ms"
            )
        if tally.save_ms:
            write(
                f"Saves                       {len(tally.save_ms)} from {tally.forms_opened} forms opened, "
                f"p50 {percentile(tally.save_ms, 0.5):.0f} ms, p99 {percentile(tally.save_ms, 0.99):.0f} ms"
            )
        write(f"  answered saved            {tally.outcomes[SAVED]}")
        write(f"  refused as conflicts      {tally.outcomes[CONFLICT]}")
        write(f"  refused otherwise         {tally.outcomes[REFUSED]}")
        for message, count in tally.refusals.most_common(5):
            write(f"    {count} × {message}")
        others = sum(
            count for outcome, count in tally.outcomes.items() if outcome not in (SAVED, CONFLICT, REFUSED)
        )
        write(f"  other answers             {others}")
        write(f"Lost writes                 {len(lost)}")
        write(f"Refused saves in the text   {len(kept)}")
        for pk, word in lost[:10]:
            write(f"  lost: claim {pk}, word {word}")
        for pk, word in kept[:10]:
            write(f"  refused but kept: claim {pk}, word {word}")
        for method, path, status in tally.server_errors[:10]:
            write(f"  {status}: {method} {path}")
        for method, path, error in tally.no_answers[:10]:
            write(f"  no answer: {method} {path}: {error}")
        for crash in tally.crashes[:3]:
            write(crash)
        write(f"Reference loop after the run: {reference_loop_ms():.0f} ms. Server log: {server_log}")
