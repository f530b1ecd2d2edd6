import ast
import datetime
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from sources.models import SourceArticle
from sources.record_base import DatePrecision, PublicationStatus
from talks.models import Claim, Issue, Round
from tests.builders import (
    make_article,
    make_citation,
    make_claim,
    make_delegation,
    make_issue,
    make_membership,
    make_outlet,
    make_participant,
    make_party,
    make_round,
    make_track,
)

pytestmark = pytest.mark.django_db

FEB_17 = datetime.date(2026, 2, 17)
FEB_18 = datetime.date(2026, 2, 18)


def refused_by_database(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()
    return True


def test_the_database_refuses_a_round_that_ends_before_it_starts():
    assert refused_by_database(lambda: make_round(start_date=FEB_18, end_date=FEB_17))
    assert not Round.objects.exists()


def test_a_round_may_last_one_day_or_have_unknown_dates():
    make_round(start_date=FEB_17, end_date=FEB_17)
    make_round(start_date=None, end_date=None)
    make_round(start_date=FEB_17, end_date=None)
    assert Round.objects.count() == 3


def test_a_party_has_one_delegation_per_round():
    delegation = make_delegation()
    assert refused_by_database(lambda: make_delegation(round=delegation.round, party=delegation.party))
    make_delegation(round=delegation.round, party=make_party())  # another party is fine


def test_a_person_has_one_seat_per_delegation():
    membership = make_membership()
    assert refused_by_database(
        lambda: make_membership(delegation=membership.delegation, participant=membership.participant)
    )


def test_two_rounds_of_a_track_cannot_share_a_number():
    track = make_track()
    make_round(track=track, sequence=1)
    assert refused_by_database(lambda: make_round(track=track, sequence=1))
    make_round(track=make_track(), sequence=1)  # the same number in another track is fine


def test_article_urls_are_unique_when_present_and_may_be_missing_many_times():
    make_article(url="https://example.com/a")
    assert refused_by_database(lambda: make_article(url="https://example.com/a"))
    make_article(url="")
    make_article(url="")
    assert SourceArticle.objects.filter(url="").count() == 2


def test_article_urls_are_stored_normalised():
    article = make_article(
        url=" HTTPS://News.Example.COM:443/World/Story?id=7&utm_source=x&fbclid=y#comments "
    )
    article.refresh_from_db()
    assert article.url == "https://news.example.com/World/Story?id=7"


def test_the_same_article_with_tracking_parameters_is_still_a_duplicate():
    make_article(url="https://example.com/story")
    assert refused_by_database(lambda: make_article(url="https://EXAMPLE.com/story?utm_medium=email"))


def test_a_publication_date_needs_a_precision_and_an_unknown_date_none():
    assert refused_by_database(lambda: make_article(published_on=FEB_18, published_on_precision=""))
    assert refused_by_database(
        lambda: make_article(published_on=None, published_on_precision=DatePrecision.DAY)
    )
    make_article(published_on=FEB_18, published_on_precision=DatePrecision.APPROXIMATE)
    make_article(published_on=None, published_on_precision="")


@pytest.mark.parametrize("build", [make_outlet, make_party, make_track, make_issue, make_participant])
def test_slugs_are_unique(build):
    build(slug="geneva")
    assert refused_by_database(lambda: build(slug="geneva"))


def test_a_claim_cites_an_article_once():
    citation = make_citation()
    assert refused_by_database(lambda: make_citation(claim=citation.claim, article=citation.article))


def test_an_issue_cannot_be_its_own_parent():
    issue = make_issue()
    issue.parent = issue
    assert refused_by_database(issue.save)


def test_an_issue_cannot_sit_beneath_its_own_sub_issue():
    territory = make_issue(name="Territory")
    donbas = make_issue(name="Donbas", parent=territory)
    territory.parent = donbas
    with pytest.raises(ValidationError) as refusal:
        territory.full_clean()
    assert "beneath itself or its own sub-issue" in str(refusal.value.message_dict["parent"])


def test_new_records_start_as_drafts_and_only_published_ones_are_public():
    draft = make_claim()
    published = make_claim(publication_status=PublicationStatus.PUBLISHED)
    assert draft.publication_status == PublicationStatus.DRAFT
    assert list(Claim.objects.published()) == [published]


def test_a_round_knows_the_previous_and_next_rounds_of_its_track():
    track = make_track()
    first = make_round(track=track, sequence=1)
    third = make_round(track=track, sequence=3)
    second = make_round(track=track, sequence=2)
    make_round(sequence=2)  # another track's round is not a neighbour
    assert (second.previous_in_track(), second.next_in_track()) == (first, third)
    assert first.previous_in_track() is None
    assert third.next_in_track() is None


def test_an_article_without_a_headline_says_so():
    article = make_article(headline="")
    assert str(article) == f"[No headline] article #{article.pk} (unknown outlet)"


def test_a_participants_aliases_are_one_per_line():
    person = make_participant(name="Vladimir Medinsky", aliases="Medinski\n\n  Vladimir Medinski \n")
    assert person.alias_list == ["Medinski", "Vladimir Medinski"]


def test_every_archive_model_reads_as_text():
    claim = make_claim(text="Moscow demanded the whole of Donbas.")
    citation = make_citation(claim=claim, article=make_article(headline="Talks end"))
    membership = make_membership()
    for record in [claim, citation, membership, membership.delegation, Issue(name="Territory")]:
        assert str(record)
    assert str(citation) == "Talks end → Moscow demanded the whole of Donbas."


def test_the_sources_app_never_imports_from_talks():
    sources = Path(__file__).resolve().parent.parent / "sources"
    offenders = []
    for path in sources.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            offenders += [f"{path.name}: {name}" for name in names if name.split(".")[0] == "talks"]
    assert offenders == []
