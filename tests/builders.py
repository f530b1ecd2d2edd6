"""Small builders for archive records: each makes a valid record, overridable field by field."""

import datetime
import itertools

from django.utils.text import slugify

from sources.models import Outlet, SourceArticle
from talks.models import (
    Citation,
    Claim,
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

_numbers = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_numbers)}"


def make_outlet(**fields) -> Outlet:
    name = fields.pop("name", unique("Outlet"))
    return Outlet.objects.create(name=name, slug=fields.pop("slug", slugify(name)), **fields)


def make_article(**fields) -> SourceArticle:
    fields.setdefault("headline", unique("Headline"))
    return SourceArticle.objects.create(**fields)


def make_party(**fields) -> Party:
    name = fields.pop("name", unique("Party"))
    return Party.objects.create(name=name, slug=fields.pop("slug", slugify(name)), **fields)


def make_track(**fields) -> Track:
    name = fields.pop("name", unique("Track"))
    return Track.objects.create(name=name, slug=fields.pop("slug", slugify(name)), **fields)


def make_round(**fields) -> Round:
    title = fields.pop("title", unique("Round"))
    fields.setdefault("slug", slugify(title))
    if "track" not in fields:
        fields["track"] = make_track()
    fields.setdefault("sequence", next(_numbers))
    fields.setdefault("start_date", datetime.date(2026, 2, 17))
    fields.setdefault("end_date", datetime.date(2026, 2, 18))
    return Round.objects.create(title=title, **fields)


def make_participant(**fields) -> Participant:
    name = fields.pop("name", unique("Person"))
    return Participant.objects.create(name=name, slug=fields.pop("slug", slugify(name)), **fields)


def make_delegation(**fields) -> Delegation:
    if "round" not in fields:
        fields["round"] = make_round()
    if "party" not in fields:
        fields["party"] = make_party()
    return Delegation.objects.create(**fields)


def make_membership(**fields) -> Membership:
    if "delegation" not in fields:
        fields["delegation"] = make_delegation()
    if "participant" not in fields:
        fields["participant"] = make_participant()
    return Membership.objects.create(**fields)


def make_issue(**fields) -> Issue:
    name = fields.pop("name", unique("Issue"))
    return Issue.objects.create(name=name, slug=fields.pop("slug", slugify(name)), **fields)


def make_claim(**fields) -> Claim:
    fields.setdefault("text", unique("Something was said"))
    if fields.get("date"):
        fields.setdefault("date_precision", "day")
    return Claim.objects.create(**fields)


def make_citation(**fields) -> Citation:
    if "claim" not in fields:
        fields["claim"] = make_claim()
    if "article" not in fields:
        fields["article"] = make_article()
    fields.setdefault("quote", "a phrase")
    return Citation.objects.create(**fields)


def make_cited_claim(**fields) -> Claim:
    """A claim with a round, a party, a speaker, two issues and one citation: a full list row."""
    round_ = make_round()
    claim = make_claim(round=round_, party=make_party(), speaker=make_participant(), **fields)
    claim.issues.add(make_issue(), make_issue())
    make_citation(claim=claim, article=make_article(outlet=make_outlet()))
    return claim


PUBLISHED = "published"


def make_public_claim(**fields) -> Claim:
    """A published claim with everything a page shows: round, party, speaker, issue, two citations."""
    if "round" not in fields:
        fields["round"] = make_round(publication_status=PUBLISHED)
    if "party" not in fields:
        fields["party"] = make_party()
    if "speaker" not in fields:
        fields["speaker"] = make_participant(publication_status=PUBLISHED)
    issue = fields.pop("issue", None) or make_issue(publication_status=PUBLISHED)
    claim = make_claim(publication_status=PUBLISHED, **fields)
    claim.issues.add(issue)
    for stance in ["supports", "disputes"]:
        article = make_article(outlet=make_outlet(), publication_status=PUBLISHED)
        make_citation(claim=claim, article=article, stance=stance)
    claim.checked_on = datetime.date(2026, 3, 1)  # a second editor checked it, once cited
    Claim.objects.filter(pk=claim.pk).update(checked_on=claim.checked_on)
    return claim


def make_disagreement(**fields) -> Disagreement:
    """A disagreement between two claims, each giving its own version."""
    question = fields.pop("question", unique("How many were there?"))
    fields.setdefault("slug", slugify(question))
    versions = fields.pop("versions", None) or [(make_claim(), "one"), (make_claim(), "the other")]
    disagreement = Disagreement.objects.create(question=question, **fields)
    for claim, version in versions:
        DisagreementClaim.objects.create(disagreement=disagreement, claim=claim, version=version)
    return disagreement
