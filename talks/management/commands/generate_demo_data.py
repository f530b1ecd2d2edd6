import datetime
import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from sources.models import Outlet, SourceArticle
from talks import evidence
from talks.models import (
    Citation,
    Claim,
    ClaimIssue,
    Delegation,
    Disagreement,
    DisagreementClaim,
    Issue,
    Membership,
    Participant,
    Party,
    Round,
    Track,
)

PUBLISHED = "published"
SOURCINGS = ["reported", "on_record", "on_record", "unnamed_sources", "hedged", "analysis"]
BATCH = 5_000
CITIES = [
    ("Geneva", "Switzerland"),
    ("Abu Dhabi", "United Arab Emirates"),
    ("Istanbul", "Turkey"),
    ("Vienna", "Austria"),
    ("Doha", "Qatar"),
    ("Oslo", "Norway"),
    ("Helsinki", "Finland"),
    ("Riyadh", "Saudi Arabia"),
    ("Minsk", "Belarus"),
    ("Jeddah", "Saudi Arabia"),
]
TOPICS = [
    "Territory",
    "Security guarantees",
    "Ceasefire monitoring",
    "Prisoner exchanges",
    "Sanctions",
    "Nuclear safety",
    "Humanitarian corridors",
    "Reconstruction",
    "Elections",
    "Language rights",
    "Grain exports",
    "Energy infrastructure",
]
VERBS = ["demanded", "proposed", "rejected", "accepted", "questioned", "welcomed", "postponed", "reported"]


class Command(BaseCommand):
    help = (
        "Fill an empty archive with a large, realistic, deterministic demo archive for benchmarks. "
        "By default: 5,000 rounds in 200 tracks, 20,000 people, 100,000 articles, "
        "300,000 claims and 600,000 citations, all published. "
        "Bulk inserts, so it keeps no history. --scale shrinks or grows every count."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", type=float, default=1.0, help="Multiply every count (0.01 for a quick run)."
        )
        parser.add_argument("--seed", type=int, default=2026, help="The same seed gives the same archive.")

    def handle(self, scale, seed, **options):
        if Round.objects.exists() or Claim.objects.exists() or SourceArticle.objects.exists():
            raise CommandError("The archive is not empty. Generate demo data into an empty database.")
        counts = {
            "tracks": max(1, round(200 * scale)),
            "rounds": max(2, round(5_000 * scale)),
            "people": max(4, round(20_000 * scale)),
            "articles": max(2, round(100_000 * scale)),
            "claims": max(2, round(300_000 * scale)),
        }
        self.random = random.Random(seed)
        self.now = timezone.now()
        started = time.monotonic()
        with transaction.atomic():
            self.build(counts)
            # The evidence's counting queries are planned from statistics, and PostgreSQL has none
            # for rows its own transaction inserted: without them it scans every citation for each
            # claim.
            self.analyze()
            evidence.refresh_all()  # bulk inserts send no signals: refresh what lists read
        # Fresh statistics for the query planner: without them SQLite drives joins from unselective
        # indexes after a bulk load. PostgreSQL's VACUUM also marks the pages whose rows all are
        # visible, so index-only scans skip the table, as they will once autovacuum has run.
        # (VACUUM cannot run inside a transaction, as under a test; there autovacuum is left to do it.)
        self.analyze(vacuum=connection.vendor == "postgresql" and not connection.in_atomic_block)
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Done in {elapsed:.0f} s: " + ", ".join(f"{n:,} {name}" for name, n in self.totals.items())
        )

    @staticmethod
    def analyze(vacuum=False):
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")

    def published(self, **fields):
        return {**fields, "publication_status": PUBLISHED, "first_published_at": self.now}

    def insert(self, model, objects, name):
        created = model.objects.bulk_create(objects, batch_size=BATCH)
        self.totals[name] = self.totals.get(name, 0) + len(created)
        return created

    def build(self, counts):
        pick = self.random
        self.totals = {}
        parties = self.insert(
            Party, [Party(name=f"Party {n}", slug=f"demo-party-{n}") for n in range(40)], "parties"
        )
        outlets = self.insert(
            Outlet, [Outlet(name=f"Outlet {n}", slug=f"demo-outlet-{n}") for n in range(500)], "outlets"
        )
        top = self.insert(
            Issue,
            [Issue(**self.published(name=topic, slug=f"demo-{n}")) for n, topic in enumerate(TOPICS)],
            "issues",
        )
        subs = self.insert(
            Issue,
            [
                Issue(
                    **self.published(
                        name=f"{parent.name}: aspect {n}", slug=f"{parent.slug}-{n}", parent=parent
                    )
                )
                for parent in top
                for n in range(4)
            ],
            "issues",
        )
        issues = top + subs
        tracks = self.insert(
            Track,
            [Track(name=f"Negotiation track {n}", slug=f"demo-track-{n}") for n in range(counts["tracks"])],
            "tracks",
        )
        start = datetime.date(1990, 1, 1)
        rounds = []
        for n in range(counts["rounds"]):
            first = start + datetime.timedelta(days=pick.randrange(0, 36 * 365))
            city, country = pick.choice(CITIES)
            rounds.append(
                Round(
                    **self.published(
                        title=f"{city} talks, round {n}",
                        slug=f"demo-round-{n}",
                        track=tracks[n % len(tracks)],
                        sequence=n // len(tracks) + 1,
                        start_date=first,
                        end_date=first + datetime.timedelta(days=pick.randrange(0, 3)),
                        city=city,
                        country=country,
                        venue=f"Conference centre {pick.randrange(20)}",
                        format=pick.choice(["bilateral", "trilateral", "multilateral", "proximity"]),
                        status=pick.choice(["held", "held", "held", "announced", "postponed", "cancelled"]),
                        summary=f"Round {n} of {tracks[n % len(tracks)].name}.",
                        outcome=pick.choice(
                            ["No agreement.", "A joint statement.", "An exchange of prisoners."]
                        ),
                    )
                )
            )
        rounds = self.insert(Round, rounds, "rounds")
        people = self.insert(
            Participant,
            [
                Participant(
                    **self.published(
                        name=f"Person {n}",
                        slug=f"demo-person-{n}",
                        aliases=f"Persona {n}\nP. {n}",
                        description=f"Negotiator number {n}.",
                        party=parties[n % len(parties)],
                    )
                )
                for n in range(counts["people"])
            ],
            "people",
        )
        delegations = self.insert(
            Delegation,
            [
                Delegation(round=round_, party=party, role=role)
                for round_ in rounds
                for party, role in zip(
                    pick.sample(parties, 3), ["negotiating", "negotiating", "mediator"], strict=True
                )
            ],
            "delegations",
        )
        self.insert(
            Membership,
            [
                Membership(delegation=delegation, participant=person, role=role, title="Envoy")
                for delegation in delegations
                for person, role in zip(pick.sample(people, 3), ["head", "member", "adviser"], strict=True)
            ],
            "memberships",
        )
        articles = []
        for chunk in range(0, counts["articles"], BATCH):
            articles += self.insert(
                SourceArticle,
                [
                    SourceArticle(
                        **self.published(
                            key=f"demo-a{n}",
                            headline=f"{pick.choice(TOPICS)} on the table in round {n % len(rounds)}",
                            url=f"https://news.example.org/{n}",
                            outlet=outlets[n % len(outlets)] if n % 10 else None,
                            language=pick.choice(["en", "en", "en", "fr", "de", "ru", "uk"]),
                            published_on=start + datetime.timedelta(days=pick.randrange(0, 36 * 365)),
                            published_on_precision="day",
                        )
                    )
                    for n in range(chunk, min(chunk + BATCH, counts["articles"]))
                ],
                "articles",
            )
        # Claims in chunks, each with its citations and issue links, so memory stays bounded.
        for chunk in range(0, counts["claims"], BATCH):
            claims = self.insert(
                Claim,
                [
                    Claim(
                        **self.published(
                            key=f"demo-c{n}",
                            text=f"{pick.choice(parties).name} {pick.choice(VERBS)} a point on "
                            f"{pick.choice(TOPICS).lower()} (claim {n}).",
                            round=pick.choice(rounds),
                            party=pick.choice(parties),
                            speaker=pick.choice(people),
                            kind=pick.choice(
                                ["statement", "demand", "proposal", "event", "figure", "outcome"]
                            ),
                            sourcing=pick.choice(SOURCINGS),
                            checked_on=self.now,
                            # One claim in ten is dated only by its round, as many real claims are.
                            **(
                                {}
                                if n % 10 == 0
                                else {
                                    "date": start + datetime.timedelta(days=pick.randrange(0, 36 * 365)),
                                    "date_precision": "day",
                                }
                            ),
                        )
                    )
                    for n in range(chunk, min(chunk + BATCH, counts["claims"]))
                ],
                "claims",
            )
            citations, links = [], []
            for claim in claims:
                for article in pick.sample(articles, 2):
                    stance = "disputes" if pick.random() < 0.05 else "supports"
                    citations.append(
                        Citation(claim=claim, article=article, quote=article.headline, stance=stance)
                    )
                for issue in pick.sample(issues, pick.choice([1, 1, 2])):
                    links.append(ClaimIssue(claim=claim, issue=issue))
            self.insert(Citation, citations, "citations")
            self.insert(ClaimIssue, links, "claim issues")
            # A disagreement for every 200 claims, between two claims of one round.
            pairs = [(claims[i], claims[i + 1]) for i in range(0, len(claims) - 1, 200)]
            disagreements = self.insert(
                Disagreement,
                [
                    Disagreement(
                        **self.published(
                            slug=f"demo-d{first.key}",
                            question=f"What did the articles report of {first.key}?",
                            round=first.round,
                        )
                    )
                    for first, _ in pairs
                ],
                "disagreements",
            )
            self.insert(
                DisagreementClaim,
                [
                    DisagreementClaim(disagreement=disagreement, claim=claim, version=f"version {n}")
                    for disagreement, pair in zip(disagreements, pairs, strict=True)
                    for n, claim in enumerate(pair, start=1)
                ],
                "disagreement versions",
            )
