"""Publishing a round with the drafts beneath it, in one confirmed step.

A new round arrives with drafts in five lists: its claims, the articles they cite, the people who
spoke or sat at the table, the issues the claims are about, and the disagreements between the
articles. `plan_for` works out which of them can be published with the round and why the others
cannot yet; `publish` publishes exactly that plan, or nothing if it has changed since it was shown.
"""

from dataclasses import dataclass, field

from django.db import transaction

from sources.models import SourceArticle
from sources.record_base import PublicationStatus
from talks.models import NOT_CHECKED, Claim, Disagreement, Issue, Participant, Round

DRAFT, PUBLISHED = PublicationStatus.DRAFT, PublicationStatus.PUBLISHED


@dataclass
class Plan:
    """What publishing a round would publish, in the order it is published, and what it would not."""

    round: Round
    to_publish: list = field(default_factory=list)
    held_back: list = field(default_factory=list)  # (record, [reasons])

    @property
    def keys(self) -> str:
        """The plan as the confirmation page showed it, each record with its version, to tell whether
        it still holds when confirmed: a headline or a name changed since was not seen."""
        return " ".join(
            f"{record._meta.label_lower}:{record.pk}:{record.updated_at.isoformat()}"
            for record in self.to_publish
        )

    @property
    def round_problems(self) -> list[str]:
        return next((reasons for record, reasons in self.held_back if record == self.round), [])

    def models(self) -> set:
        return {type(record) for record in self.to_publish}


def plan_for(round_: Round) -> Plan:
    plan = Plan(round_)
    round_problems = round_.publication_problems() if round_.publication_status == DRAFT else []
    if round_.publication_status == PublicationStatus.WITHDRAWN:
        round_problems = ["it was withdrawn; publish it again from its own page first"]
    if round_problems:
        plan.held_back.append((round_, round_problems))
        return plan

    claims = list(
        round_.claims.filter(publication_status=DRAFT)
        .select_related("speaker")
        .prefetch_related("citations__article", "issues__parent")
        .order_by("id")
    )
    publishable_claims = []
    for claim in claims:
        reasons = []
        backed = [
            citation.article
            for citation in claim.citations.all()
            if citation.article.is_published or citation.article.publication_status == DRAFT
        ]
        if not backed:
            reasons.append("it has no citation of an article that is or can be published")
        if claim.checked_on is None:
            reasons.append(NOT_CHECKED)
        if reasons:
            plan.held_back.append((claim, reasons))
        else:
            publishable_claims.append(claim)

    articles, people, issues = {}, {}, {}
    for claim in publishable_claims:
        for citation in claim.citations.all():
            if citation.article.publication_status == DRAFT:
                articles[citation.article.pk] = citation.article
        if claim.speaker and claim.speaker.publication_status == DRAFT:
            people[claim.speaker.pk] = claim.speaker
        for issue in claim.issues.all():
            add_with_draft_ancestors(issue, issues)
    seated = Participant.objects.filter(
        publication_status=DRAFT, memberships__delegation__round=round_
    ).distinct()
    for person in seated:
        people[person.pk] = person

    published_claims = set(round_.claims.published().values_list("pk", flat=True)) | {
        claim.pk for claim in publishable_claims
    }
    disagreements = []
    for disagreement in (
        Disagreement.objects.filter(round=round_, publication_status=DRAFT)
        .prefetch_related("versions")
        .order_by("id")
    ):
        versions = [link for link in disagreement.versions.all() if link.claim_id in published_claims]
        if len(versions) >= 2:
            disagreements.append(disagreement)
        else:
            plan.held_back.append((disagreement, ["it would have fewer than two published claims"]))

    plan.to_publish = [
        *sorted(articles.values(), key=lambda article: article.pk),
        *sorted(people.values(), key=lambda person: person.name),
        *issues.values(),
        *([round_] if round_.publication_status == DRAFT else []),
        *publishable_claims,
        *disagreements,
    ]
    return plan


def add_with_draft_ancestors(issue: Issue, issues: dict) -> None:
    """An issue to publish, after its draft parents: a sub-issue is never public under a draft."""
    chain, seen = [], set()
    while issue is not None and issue.publication_status == DRAFT and issue.pk not in seen:
        chain.append(issue)
        seen.add(issue.pk)
        issue = issue.parent
    for ancestor in reversed(chain):
        issues.setdefault(ancestor.pk, ancestor)


class PlanChanged(Exception):
    """The drafts beneath the round changed after the confirmation page was shown."""


def publish(round_: Round, confirmed_keys: str) -> int:
    """Publish the plan the editor confirmed, in one transaction; nothing if it no longer holds.

    The records are locked before they are read for the last time, as an editor's save locks the
    one it saves (sources/editing.py): a save that commits while this runs is either seen, and
    refuses the plan, or waits, and finds the record published."""
    with transaction.atomic():
        round_ = Round.objects.select_for_update().get(pk=round_.pk)
        for model, keys in records_of(plan_for(round_).to_publish).items():
            list(model._default_manager.select_for_update().filter(pk__in=keys).values_list("pk"))
        plan = plan_for(Round.objects.get(pk=round_.pk))
        if plan.keys != confirmed_keys:
            raise PlanChanged
        for record in plan.to_publish:
            record.publication_status = PUBLISHED
            record._change_reason = ""
            record.save()
    return len(plan.to_publish)


def records_of(records) -> dict:
    """Their keys, by model."""
    keys = {}
    for record in records:
        keys.setdefault(type(record), []).append(record.pk)
    return keys


PUBLISHED_WITH_A_ROUND = (Round, Claim, SourceArticle, Participant, Issue, Disagreement)
