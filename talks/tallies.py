"""Counts kept up to date as records change, so that no page counts the archive.

An unfiltered list shows how many records there are and, in its facets, how they divide by issue,
party, kind, round, outlet, language, track, status, format or country. At full size (300,000
claims) counting that live costs seconds per request, so each of those counts is a `Tally` row,
written when a record changes in the same transaction as the change: readers never see a count
that disagrees with the records.

Each claim's evidence (how many outlets report it, whether any disputes it) is stored on the claim
the same way, so lists filter and order by it without counting citations.

A save refreshes only the values it touched (the old and new party of a claim, say), each by one
indexed count, so editing stays fast. Code that writes around model signals (bulk loads) refreshes
everything afterwards with `refresh_all()`; `manage.py refresh_tallies --check` compares the stored
counts with a fresh count.
"""

import contextvars
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

from sources.models import SourceArticle
from talks.filters import issue_ids_beneath, published_issue_children
from talks.models import Citation, Claim, ClaimIssue, Delegation, Issue, Membership, Participant, Round, Tally
from talks.querysets import evidence_of_claim, listed_date

NO_VALUE = ""  # the value stored for records without one (an article of unknown outlet)
_deferred = contextvars.ContextVar("tallies_deferred", default=False)


@dataclass(frozen=True)
class Dimension:
    """One kind of count: the public `rows`, grouped by `field` (or in total when None)."""

    name: str
    rows: Callable[[], QuerySet]
    field: str | None = None
    counted: str = "pk"  # what is counted, once each

    def counts(self, values=None) -> dict[str, int]:
        rows = self.rows()
        if self.field is None:
            return {NO_VALUE: rows.count()}
        if values is not None:
            present = [value for value in values if value is not None]
            rows = rows.filter(**{f"{self.field}__in": present}) | (
                rows.filter(**{f"{self.field}__isnull": True}) if None in values else rows.none()
            )
        grouped = rows.order_by().values_list(self.field).annotate(n=Count(self.counted, distinct=True))
        return {as_value(value): n for value, n in grouped}

    def refresh(self, values=None) -> None:
        """Recount this dimension: all of it, or only the given values."""
        stored = Tally.objects.filter(dimension=self.name)
        if values is not None and self.field is not None:
            stored = stored.filter(value__in={as_value(value) for value in values})
        with transaction.atomic():
            stored.delete()
            Tally.objects.bulk_create(
                Tally(dimension=self.name, value=value, count=count)
                for value, count in self.counts(values).items()
                if count
            )


def as_value(value) -> str:
    return NO_VALUE if value is None else str(value)


DIMENSIONS = {
    dimension.name: dimension
    for dimension in [
        Dimension("claims", Claim.objects.published),
        Dimension("claims.party", Claim.objects.published, "party_id"),
        Dimension("claims.kind", Claim.objects.published, "kind"),
        Dimension("claims.round", Claim.objects.published, "round_id"),
        Dimension(
            "claims.issue",
            lambda: ClaimIssue.objects.filter(claim__publication_status="published"),
            "issue_id",
            counted="claim",
        ),
        Dimension("articles", SourceArticle.objects.published),
        Dimension("articles.outlet", SourceArticle.objects.published, "outlet_id"),
        Dimension("articles.language", SourceArticle.objects.published, "language"),
        Dimension("people", Participant.objects.published),
        Dimension("people.party", Participant.objects.published, "party_id"),
        Dimension("people.role", Membership.objects.published, "role", counted="participant"),
        Dimension("rounds", Round.objects.published),
        Dimension("rounds.track", Round.objects.published, "track_id"),
        Dimension("rounds.status", Round.objects.published, "status"),
        Dimension("rounds.format", Round.objects.published, "format"),
        Dimension("rounds.country", Round.objects.published, "country"),
        Dimension("rounds.party", Delegation.objects.published, "party_id", counted="round"),
    ]
}


EVIDENCE = "claims' evidence"


def refresh_evidence(claims=None) -> None:
    """Recount the stored evidence of some claims (ids, or a query of them), or of all claims."""
    rows = Claim.objects.all() if claims is None else Claim.objects.filter(pk__in=claims)
    rows.update(**evidence_of_claim(), listed_on=listed_date())


def claims_with_stale_evidence() -> QuerySet:
    fresh = {**evidence_of_claim(), "listed_on": listed_date()}
    same_date = Q(listed_on=F("fresh_listed_on")) | Q(listed_on__isnull=True, fresh_listed_on__isnull=True)
    return Claim.objects.annotate(
        fresh_count=fresh["outlet_count"],
        fresh_disputed=fresh["disputed"],
        fresh_listed_on=fresh["listed_on"],
    ).exclude(Q(outlet_count=F("fresh_count"), disputed=F("fresh_disputed")) & same_date)


ISSUE_TREE = "claims.issue_tree"


def issue_tree_counts(issue_ids=None) -> dict[str, int]:
    """Published claims on each published issue or on any of its published sub-issues, at any depth:
    what an issue's page and `?issue=` count, walked as the filter walks. For the given issues, or all."""
    children = published_issue_children()
    published = {pk for sub_issues in children.values() for pk in sub_issues}
    counts = {}
    for issue_id in published if issue_ids is None else published & set(issue_ids):
        links = ClaimIssue.objects.filter(issue__in=issue_ids_beneath(issue_id, children)).values("claim_id")
        counts[as_value(issue_id)] = Claim.objects.published().filter(pk__in=links).count()
    return counts


def refresh_issue_trees(issue_ids=None) -> None:
    """Recount the given issues and every issue above them (all issues when None)."""
    stored = Tally.objects.filter(dimension=ISSUE_TREE)
    if issue_ids is not None:
        parent_of = dict(Issue.objects.values_list("pk", "parent_id"))
        touched, waiting = set(), [pk for pk in issue_ids if pk is not None]
        while waiting:
            pk = waiting.pop()
            if pk not in touched:
                touched.add(pk)
                waiting += [parent_of[pk]] if parent_of.get(pk) else []
        issue_ids = touched
        stored = stored.filter(value__in=[as_value(pk) for pk in issue_ids])
    with transaction.atomic():
        stored.delete()
        Tally.objects.bulk_create(
            Tally(dimension=ISSUE_TREE, value=value, count=count)
            for value, count in issue_tree_counts(issue_ids).items()
            if count
        )


def recount_issues(issue_ids) -> None:
    """Claims were linked to or unlinked from these issues, or published or withdrawn."""
    DIMENSIONS["claims.issue"].refresh(issue_ids)
    refresh_issue_trees(issue_ids)


SEAT_ROLES = "people's seat roles"


def seat_roles_by_person(participant_ids=None) -> dict[int, str]:
    """{person: "adviser head"}: the kinds of seat each held at published rounds, sorted."""
    seats = Membership.objects.filter(delegation__round__publication_status="published")
    if participant_ids is not None:
        seats = seats.filter(participant_id__in=participant_ids)
    roles = {}
    for person, role in seats.order_by().values_list("participant_id", "role").distinct():
        roles.setdefault(person, set()).add(role)
    return {person: " ".join(sorted(held)) for person, held in roles.items()}


def people_with_stale_seat_roles(participant_ids=None) -> list[Participant]:
    """The people whose stored seat roles differ from a fresh reading, with the fresh value set."""
    fresh = seat_roles_by_person(participant_ids)
    people = (
        Participant.objects.all()
        if participant_ids is None
        else Participant.objects.filter(pk__in=participant_ids)
    )
    return [
        Participant(pk=pk, seat_roles=fresh.get(pk, ""))
        for pk, stored in people.values_list("pk", "seat_roles")
        if stored != fresh.get(pk, "")
    ]


def refresh_seat_roles(participant_ids=None) -> None:
    Participant.objects.bulk_update(
        people_with_stale_seat_roles(participant_ids), ["seat_roles"], batch_size=1000
    )


def refresh_all() -> None:
    with transaction.atomic():
        refresh_evidence()
        refresh_seat_roles()
        for dimension in DIMENSIONS.values():
            dimension.refresh()
        refresh_issue_trees()


def stale_dimensions() -> list[str]:
    """The kinds of stored count that differ from a fresh count."""
    stale = [EVIDENCE] if claims_with_stale_evidence().exists() else []
    if people_with_stale_seat_roles():
        stale.append(SEAT_ROLES)
    stored_trees = dict(Tally.objects.filter(dimension=ISSUE_TREE).values_list("value", "count"))
    if stored_trees != {value: count for value, count in issue_tree_counts().items() if count}:
        stale.append(ISSUE_TREE)
    for dimension in DIMENSIONS.values():
        stored = dict(Tally.objects.filter(dimension=dimension.name).values_list("value", "count"))
        fresh = {value: count for value, count in dimension.counts().items() if count}
        if stored != fresh:
            stale.append(dimension.name)
    return stale


@contextmanager
def deferred():
    """Skip per-record refreshes inside the block and recount everything once at its end."""
    token = _deferred.set(True)
    try:
        yield
    finally:
        _deferred.reset(token)
    refresh_all()


# --- Reading ------------------------------------------------------------------------------------


def total(name: str) -> int:
    return Tally.objects.filter(dimension=name, value=NO_VALUE).values_list("count", flat=True).first() or 0


def counts_by_value(name: str, limit: int) -> list[tuple[str, str, int]]:
    """(value, value, count) of a dimension grouped by a choice field, most frequent first: the
    value stands as its own label until a facet names it."""
    rows = Tally.objects.filter(dimension=name).order_by("-count", "value")
    return [(value, value, count) for value, count in rows.values_list("value", "count")[:limit]]


def counts_by_record(name: str, records, label: str, limit: int) -> list[tuple[str, str, int]]:
    """(slug, label, count) for the public `records` a dimension counts by, most frequent first."""
    record = records.filter(pk=OuterRef("record"))
    rows = (
        Tally.objects.filter(dimension=name)
        .exclude(value=NO_VALUE)
        .annotate(record=Cast("value", IntegerField()))
        .filter(Exists(record))
        .annotate(slug=Subquery(record.values("slug")), label=Subquery(record.values(label)))
        .order_by("-count", "value")
    )
    return list(rows.values_list("slug", "label", "count")[:limit])


def count_for(name: str, value) -> int:
    stored = Tally.objects.filter(dimension=name, value=as_value(value)).values_list("count", flat=True)
    return stored.first() or 0


def counts_for_records(name: str, records) -> dict[int, int]:
    """{pk: count} for the given records."""
    rows = Tally.objects.filter(dimension=name, value__in=[str(record.pk) for record in records])
    return {int(value): count for value, count in rows.values_list("value", "count")}


# --- Keeping them current ----------------------------------------------------------------------

# The fields of each counted model that the tallies group by, and the dimensions they feed.
WATCHED = {
    Claim: {"claims": None, "claims.party": "party_id", "claims.kind": "kind", "claims.round": "round_id"},
    SourceArticle: {"articles": None, "articles.outlet": "outlet_id", "articles.language": "language"},
    Participant: {"people": None, "people.party": "party_id"},
    Round: {
        "rounds": None,
        "rounds.track": "track_id",
        "rounds.status": "status",
        "rounds.format": "format",
        "rounds.country": "country",
    },
}


def remember_previous(sender, instance, **kwargs):
    if _deferred.get() or sender not in WATCHED:
        return
    fields = ["publication_status", *(field for field in WATCHED[sender].values() if field)]
    instance._tally_previous = (
        sender.objects.filter(pk=instance.pk).values(*fields).first() if instance.pk else None
    )


def recount_record(sender, instance, **kwargs):
    if _deferred.get() or sender not in WATCHED:
        return
    deleted = "created" not in kwargs  # post_delete sends no `created`
    previous = None if deleted else getattr(instance, "_tally_previous", None)
    fields = ["publication_status", *(field for field in WATCHED[sender].values() if field)]
    current = {field: getattr(instance, field) for field in fields}
    if previous == current:
        return  # an edit of text or dates: no count changes
    for name, field in WATCHED[sender].items():
        values = None if field is None else {current[field], *([previous[field]] if previous else [])}
        DIMENSIONS[name].refresh(values)
    if sender is Claim and (
        previous is None or previous["publication_status"] != current["publication_status"]
    ):
        issue_ids = getattr(instance, "_tally_issue_ids", None)
        if issue_ids is None:
            issue_ids = set(ClaimIssue.objects.filter(claim=instance).values_list("issue_id", flat=True))
        recount_issues(issue_ids)
    if (
        sender is SourceArticle
        and previous
        and any(previous[f] != current[f] for f in ("publication_status", "outlet_id"))
    ):
        refresh_evidence(Citation.objects.filter(article=instance).values("claim_id"))
    instance._tally_previous = current  # a second save of the same object compares with this one


def recount_evidence(sender, instance, **kwargs):
    """A citation was saved or deleted, or a claim saved: the claims concerned are recounted.

    A claim's own save is recounted too, so that it never leaves behind a copy of its evidence read
    before its citations changed.
    """
    if _deferred.get():
        return
    if sender is Claim:
        refresh_evidence([instance.pk])
        return
    previous_claim = getattr(instance, "_evidence_claim", None)
    refresh_evidence({instance.claim_id, *([previous_claim] if previous_claim else [])})
    instance._evidence_claim = instance.claim_id


def redate_round_claims(sender, instance, **kwargs):
    """A round was saved: its claims without a date of their own are listed under its start."""
    if _deferred.get():
        return
    refresh_evidence(Claim.objects.filter(round=instance, date__isnull=True).values("pk"))


def remember_cited_claim(sender, instance, **kwargs):
    """Before a citation is saved: the claim it cited, which loses it if it now cites another."""
    if not _deferred.get() and instance.pk and not hasattr(instance, "_evidence_claim"):
        instance._evidence_claim = (
            Citation.objects.filter(pk=instance.pk).values_list("claim_id", flat=True).first()
        )


def remember_claim_issues(sender, instance, **kwargs):
    """Before a claim is deleted: its issue links go first, while the claim still counts."""
    if not _deferred.get():
        instance._tally_issue_ids = set(instance.issue_links.values_list("issue_id", flat=True))


def recount_issue_link(sender, instance, **kwargs):
    if not _deferred.get():
        recount_issues({instance.issue_id})


def recount_claim_issues(sender, instance, action, reverse, pk_set, **kwargs):
    """A claim's issues changed through the relation (the admin's form saves them this way).

    From a claim (`reverse` False) `pk_set` holds issues; from an issue, claims of that one issue.
    """
    if _deferred.get():
        return
    if reverse:
        if action in ("post_add", "post_remove", "post_clear"):
            recount_issues({instance.pk})
    elif action == "pre_clear":
        instance._tally_cleared = set(instance.issue_links.values_list("issue_id", flat=True))
    elif action == "post_clear":
        recount_issues(getattr(instance, "_tally_cleared", set()))
    elif action in ("post_add", "post_remove"):
        recount_issues(set(pk_set or ()))


# Dimensions recounted whole when any of these records changes: what they count lies across
# several tables, and each is one grouped count of a few thousand rows.
RECOUNTED_WHOLE = {
    "people.role": (Membership, Delegation, Round, Participant),  # who held which seat
    "rounds.party": (Delegation, Round),  # which parties sat at public rounds
}


def recount_whole(sender, instance, **kwargs):
    """A record that the dimensions in RECOUNTED_WHOLE read was saved or deleted: recount them.

    A round's or person's save counts only when it published or unpublished them (remember_status
    read their status before); their other edits move no seat and no party.
    """
    if _deferred.get():
        return
    status_before = getattr(instance, "_tally_status", None)  # None for a new record
    if (
        "created" in kwargs
        and sender in (Round, Participant)
        and status_before == instance.publication_status
    ):
        return
    for name, senders in RECOUNTED_WHOLE.items():
        if sender in senders:
            DIMENSIONS[name].refresh()


def recount_seat_roles(sender, instance, **kwargs):
    """A seat, a delegation, a round or a person changed: the people concerned are reread.

    A person's own save is reread too, so that it never leaves behind a copy read before their
    seats changed. Deleting a delegation or round deletes its seats first, each sending its own signal.
    """
    if _deferred.get():
        return
    if sender is Membership:
        people = {instance.participant_id, getattr(instance, "_tally_person", None)} - {None}
        instance._tally_person = instance.participant_id
    elif sender is Participant:
        people = {instance.pk}
    elif sender is Delegation:
        people = set(Membership.objects.filter(delegation=instance).values_list("participant_id", flat=True))
    else:  # a round
        seats = Membership.objects.filter(delegation__round=instance)
        people = set(seats.values_list("participant_id", flat=True))
    refresh_seat_roles(people)


def remember_seat_holder(sender, instance, **kwargs):
    if not _deferred.get() and instance.pk and not hasattr(instance, "_tally_person"):
        instance._tally_person = (
            Membership.objects.filter(pk=instance.pk).values_list("participant_id", flat=True).first()
        )


def remember_status(sender, instance, **kwargs):
    if not _deferred.get() and instance.pk:
        instance._tally_status = (
            sender.objects.filter(pk=instance.pk).values_list("publication_status", flat=True).first()
        )


def remember_issue_place(sender, instance, **kwargs):
    if not _deferred.get() and instance.pk:
        instance._tally_place = (
            Issue.objects.filter(pk=instance.pk).values("parent_id", "publication_status").first()
        )


def recount_issue_place(sender, instance, **kwargs):
    """An issue moved, was published or withdrawn, or deleted: the issues above it count differently."""
    if _deferred.get():
        return
    previous = getattr(instance, "_tally_place", None) if "created" in kwargs else None
    current = {"parent_id": instance.parent_id, "publication_status": instance.publication_status}
    if previous == current:
        return
    refresh_issue_trees({instance.pk, instance.parent_id, previous and previous["parent_id"]} - {None})
    instance._tally_place = current


def connect() -> None:
    for model in WATCHED:
        pre_save.connect(remember_previous, sender=model, dispatch_uid=f"tally_pre_{model.__name__}")
        post_save.connect(recount_record, sender=model, dispatch_uid=f"tally_save_{model.__name__}")
        post_delete.connect(recount_record, sender=model, dispatch_uid=f"tally_delete_{model.__name__}")
    pre_delete.connect(remember_claim_issues, sender=Claim, dispatch_uid="tally_claim_issues")
    pre_save.connect(remember_cited_claim, sender=Citation, dispatch_uid="evidence_pre_citation")
    for signal in (post_save, post_delete):
        signal.connect(recount_evidence, sender=Citation, dispatch_uid=f"evidence_citation_{signal}")
    post_save.connect(recount_evidence, sender=Claim, dispatch_uid="evidence_claim")
    post_save.connect(redate_round_claims, sender=Round, dispatch_uid="evidence_round_dates")
    for signal in (post_save, post_delete):
        signal.connect(recount_issue_link, sender=ClaimIssue, dispatch_uid=f"tally_link_{signal}")
    m2m_changed.connect(recount_claim_issues, sender=ClaimIssue, dispatch_uid="tally_m2m_issues")
    pre_save.connect(remember_issue_place, sender=Issue, dispatch_uid="tally_issue_place_pre")
    for signal in (post_save, post_delete):
        signal.connect(recount_issue_place, sender=Issue, dispatch_uid=f"tally_issue_place_{signal}")
    for model in (Round, Participant):
        pre_save.connect(remember_status, sender=model, dispatch_uid=f"tally_status_{model.__name__}")
    pre_save.connect(remember_seat_holder, sender=Membership, dispatch_uid="tally_seat_holder")
    for model in (Membership, Delegation, Round, Participant):
        post_save.connect(recount_seat_roles, sender=model, dispatch_uid=f"tally_roles_save_{model.__name__}")
        post_delete.connect(
            recount_seat_roles, sender=model, dispatch_uid=f"tally_roles_del_{model.__name__}"
        )
        post_save.connect(recount_whole, sender=model, dispatch_uid=f"tally_whole_save_{model.__name__}")
        post_delete.connect(recount_whole, sender=model, dispatch_uid=f"tally_whole_del_{model.__name__}")
