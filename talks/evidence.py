"""Values stored on records because lists filter and order by them: a claim's evidence (how many
outlets report it, whether any disputes it) and the date it is listed under, and the kinds of
public seat each person held. Lists read them as columns, through an index, instead of counting
citations or seats per request.

A save refreshes the records it touched (a citation's claim, a seat's person), in the same
transaction. Code that writes around model signals (bulk loads) refreshes everything afterwards
(`deferred()`, `refresh_all()`); `manage.py refresh_evidence --check` compares the stored values
with a fresh reading. Counting lists is not done here: see talks/list_index.py.
"""

import contextvars
from contextlib import contextmanager

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.signals import post_delete, post_save, pre_save

from sources.models import SourceArticle
from sources.record_base import public_condition
from talks.models import Citation, Claim, Delegation, Membership, Participant, Round
from talks.querysets import evidence_of_claim, listed_date

_deferred = contextvars.ContextVar("evidence_deferred", default=False)

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


SEAT_ROLES = "people's seat roles"


def seat_roles_by_person(participant_ids=None) -> dict[int, str]:
    """{person: "adviser head"}: the kinds of seat each held at published rounds, sorted."""
    seats = Membership.objects.filter(public_condition(Round, "delegation__round__"))
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


def stale_values() -> list[str]:
    """The kinds of stored value that differ from a fresh reading."""
    stale = [EVIDENCE] if claims_with_stale_evidence().exists() else []
    if people_with_stale_seat_roles():
        stale.append(SEAT_ROLES)
    return stale


@contextmanager
def deferred():
    """Skip per-record refreshes inside the block and refresh everything once at its end."""
    token = _deferred.set(True)
    try:
        yield
    finally:
        _deferred.reset(token)
    refresh_all()


# --- Keeping them current ----------------------------------------------------------------------


def remember_article_state(sender, instance, **kwargs):
    if not _deferred.get() and instance.pk:
        instance._evidence_previous = (
            SourceArticle.objects.filter(pk=instance.pk).values("publication_status", "outlet_id").first()
        )


def recount_article_claims(sender, instance, **kwargs):
    """An article was published, withdrawn or given another outlet: the claims citing it count it
    differently."""
    if _deferred.get():
        return
    previous = getattr(instance, "_evidence_previous", None)
    current = {"publication_status": instance.publication_status, "outlet_id": instance.outlet_id}
    if previous and previous != current:
        refresh_evidence(Citation.objects.filter(article=instance).values("claim_id"))
    instance._evidence_previous = current


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


def connect() -> None:
    pre_save.connect(remember_article_state, sender=SourceArticle, dispatch_uid="evidence_article_pre")
    post_save.connect(recount_article_claims, sender=SourceArticle, dispatch_uid="evidence_article")
    pre_save.connect(remember_cited_claim, sender=Citation, dispatch_uid="evidence_pre_citation")
    for signal in (post_save, post_delete):
        signal.connect(recount_evidence, sender=Citation, dispatch_uid=f"evidence_citation_{signal}")
    post_save.connect(recount_evidence, sender=Claim, dispatch_uid="evidence_claim")
    post_save.connect(redate_round_claims, sender=Round, dispatch_uid="evidence_round_dates")
    pre_save.connect(remember_seat_holder, sender=Membership, dispatch_uid="seat_roles_holder")
    for model in (Membership, Delegation, Round, Participant):
        post_save.connect(recount_seat_roles, sender=model, dispatch_uid=f"seat_roles_save_{model.__name__}")
        post_delete.connect(recount_seat_roles, sender=model, dispatch_uid=f"seat_roles_del_{model.__name__}")
