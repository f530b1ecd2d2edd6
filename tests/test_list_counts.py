"""The counts that lists, facets and the home page show always agree with the records, and so do
the values stored on records for the lists (a claim's evidence, a person's seat roles)."""

import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count
from django.urls import reverse

from talks.evidence import stale_values
from talks.filters import published_issue_ids_beneath
from talks.lists import CLAIMS, FACET_CHOICES, LIST_INDEXES, PEOPLE, ROUNDS
from talks.models import Claim, Issue, Participant
from tests.builders import (
    PUBLISHED,
    make_article,
    make_citation,
    make_delegation,
    make_issue,
    make_membership,
    make_outlet,
    make_participant,
    make_party,
    make_public_claim,
    make_round,
)

pytestmark = pytest.mark.django_db


def counted_by_the_database(index) -> dict:
    """A list's total and, for each facet, how many public records hold each value, counted afresh."""
    public = index.model.objects.published()
    counts = {"total": public.count()}
    for facet in index.facets:
        if facet.words:
            by_value = {}
            for value in public.values_list(facet.field, flat=True):
                for word in value.split():
                    by_value[word] = by_value.get(word, 0) + 1
        else:
            rows = public.exclude(**{f"{facet.field}__isnull": True}).values_list(facet.field)
            by_value = dict(rows.annotate(n=Count("pk", distinct=True)).order_by())
        counts[facet.field] = by_value
    return counts


def counted_by_the_index(index) -> dict:
    counts = {"total": index.total()}
    counts.update({facet.field: index.counts_by_value(facet.field) for facet in index.facets})
    return counts


def assert_counts_current():
    for index in LIST_INDEXES:
        assert counted_by_the_index(index) == counted_by_the_database(index), index.name
    assert stale_values() == []


def claims_under(issue) -> int:
    fresh = Issue.objects.get(pk=issue.pk)  # its sub-issues as they are now, as a request reads them
    return CLAIMS.counts_holding("issue_links__issue_id", [published_issue_ids_beneath(fresh)])[0]


def test_every_kind_of_edit_keeps_the_lists_counts_equal_to_a_fresh_count():
    claim = make_public_claim()
    assert_counts_current()
    assert CLAIMS.total() == 1

    claim.party = make_party()
    claim.kind = "demand"
    claim.round = make_round(publication_status=PUBLISHED)
    claim.save()
    assert_counts_current()

    second_issue = make_issue(publication_status=PUBLISHED)
    claim.issues.add(second_issue)
    assert_counts_current()
    claim.issues.remove(second_issue)
    assert_counts_current()
    second_issue.claims.add(claim)  # from the issue's side
    assert_counts_current()
    claim.issues.clear()
    assert_counts_current()
    claim.issues.set([second_issue])
    assert_counts_current()

    claim.publication_status = "withdrawn"
    claim.withdrawal_reason = "A test."
    claim.save()
    assert_counts_current()
    assert CLAIMS.total() == 0

    article = make_article(outlet=make_outlet(), language="ru", publication_status=PUBLISHED)
    article.outlet = None
    article.language = "uk"
    article.save()
    assert_counts_current()
    article.delete()
    assert_counts_current()

    seat = make_membership(
        delegation=make_delegation(round=make_round(publication_status=PUBLISHED)),
        participant=make_participant(publication_status=PUBLISHED),
    )
    assert_counts_current()
    seat.delegation.round.publication_status = "draft"
    seat.delegation.round.save()
    assert_counts_current()

    Claim.objects.get(pk=claim.pk).delete()
    assert_counts_current()


def test_deleting_a_published_claim_lowers_the_counts_of_its_issues():
    issue = make_issue(publication_status=PUBLISHED)
    claim = make_public_claim(issue=issue)
    assert CLAIMS.counts_by_value("issue_links__issue_id").get(issue.pk, 0) == 1
    claim.delete()
    assert CLAIMS.counts_by_value("issue_links__issue_id").get(issue.pk, 0) == 0
    assert_counts_current()


def test_the_seed_import_leaves_counts_current(seeded):
    assert_counts_current()
    assert CLAIMS.total() == Claim.objects.published().count() > 0


def test_refresh_evidence_check_fails_on_stale_evidence_and_a_refresh_repairs_it():
    claim = make_public_claim()
    Claim.objects.filter(pk=claim.pk).update(outlet_count=7)  # as a raw SQL edit would leave it
    with pytest.raises(CommandError, match="Stale: claims' evidence"):
        call_command("refresh_evidence", "--check")
    call_command("refresh_evidence")
    call_command("refresh_evidence", "--check")
    assert Claim.objects.get(pk=claim.pk).outlet_count == 2


def test_the_unfiltered_list_shows_the_same_counts_as_filtering_would(client):
    party = make_party(name="Ukraine")
    for _ in range(3):
        make_public_claim(party=party)
    make_public_claim()
    unfiltered = client.get(reverse("claim_list")).content.decode()
    assert re.search(r"<strong>4</strong>", unfiltered)
    assert re.search(rf'href="\?party={party.slug}">Ukraine</a> <span class="count">3</span>', unfiltered)
    filtered = client.get(reverse("claim_list") + f"?party={party.slug}").content.decode()
    assert re.search(r"<strong>3</strong>", filtered)


def test_a_facet_lists_only_the_most_frequent_values_and_says_so(client):
    for _ in range(FACET_CHOICES + 3):
        make_public_claim()
    html = client.get(reverse("claim_list")).content.decode()
    party_facet = html.split('id="facet-party"')[1].split("</section>")[0]
    assert party_facet.count("<li>") == FACET_CHOICES
    assert f"The {FACET_CHOICES} most frequent" in party_facet


def test_a_deep_page_shows_the_rows_that_belong_there(client):
    claims = [make_public_claim(text=f"Claim number {n:02}") for n in range(30)]
    html = client.get(reverse("claim_list") + "?ordering=added&page=2").content.decode()
    shown = re.findall(r"Claim number (\d\d)", html)
    assert shown == [f"{n:02}" for n in range(25, 30)]
    assert len(claims) == 30


def test_a_claims_stored_evidence_follows_its_citations_and_their_articles():
    claim = make_public_claim()  # two citations, each from its own outlet; one disputes
    claim.refresh_from_db()
    assert (claim.outlet_count, claim.disputed) == (2, True)

    shared_outlet = claim.citations.first().article.outlet
    third = make_citation(
        claim=claim, article=make_article(outlet=shared_outlet, publication_status=PUBLISHED)
    )
    claim.refresh_from_db()
    assert claim.outlet_count == 2  # a second article from the same outlet adds no outlet
    assert_counts_current()

    third.article.outlet = make_outlet()
    third.article.save()
    claim.refresh_from_db()
    assert claim.outlet_count == 3
    third.article.publication_status = "withdrawn"
    third.article.withdrawal_reason = "A test."
    third.article.save()
    claim.refresh_from_db()
    assert claim.outlet_count == 2  # readers cannot see the withdrawn article
    assert_counts_current()

    disputing = claim.citations.get(stance="disputes")
    disputing.stance = "supports"
    disputing.save()
    claim.refresh_from_db()
    assert claim.disputed is False
    other = make_public_claim()
    disputing.claim = other  # moved to another claim: both are recounted
    disputing.save()
    claim.refresh_from_db()
    other.refresh_from_db()
    assert (claim.outlet_count, other.outlet_count) == (1, 3)
    disputing.delete()
    other.refresh_from_db()
    assert other.outlet_count == 2
    assert_counts_current()


def test_saving_a_claim_read_before_its_citations_changed_keeps_its_evidence_current():
    claim = make_public_claim()
    stale_copy = Claim.objects.get(pk=claim.pk)
    make_citation(claim=claim, article=make_article(outlet=make_outlet(), publication_status=PUBLISHED))
    stale_copy.text = "Edited after a citation was added."
    stale_copy.save()
    claim.refresh_from_db()
    assert claim.outlet_count == 3
    assert_counts_current()


def test_a_filtered_people_list_counts_each_person_once_per_seat_held_in_public_rounds(client):
    party = make_party(name="Ukraine")
    twice_head = make_participant(name="Rustem Umerov", party=party, publication_status=PUBLISHED)
    adviser = make_participant(name="Kyrylo Budanov", party=party, publication_status=PUBLISHED)
    for _ in range(2):
        delegation = make_delegation(round=make_round(publication_status=PUBLISHED), party=party)
        make_membership(delegation=delegation, participant=twice_head, role="head")
    make_membership(delegation=delegation, participant=adviser, role="adviser")
    draft_round = make_round()  # a draft: its seats count for nobody
    make_membership(
        delegation=make_delegation(round=draft_round, party=party), participant=adviser, role="head"
    )
    response = client.get(reverse("participant_list") + f"?party={party.slug}")
    roles = next(facet for facet in response.context["facets"] if facet.param == "role")
    assert {(choice.value, choice.count) for choice in roles.choices} == {("head", 1), ("adviser", 1)}


def test_a_filtered_claim_list_counts_each_claim_once_in_every_facet(client):
    party = make_party(name="Ukraine")
    shared, other = make_issue(publication_status=PUBLISHED), make_issue(publication_status=PUBLISHED)
    for _ in range(2):
        claim = make_public_claim(party=party, issue=shared, kind="demand")
        claim.issues.add(other)  # two issues: the join repeats the claim
    make_public_claim(party=party, issue=shared, kind="proposal")
    response = client.get(reverse("claim_list") + f"?party={party.slug}")
    facets = {
        facet.param: {choice.value: choice.count for choice in facet.choices}
        for facet in response.context["facets"]
    }
    assert response.context["result_count"] == 3
    assert facets["party"] == {party.slug: 3}
    assert facets["kind"] == {"demand": 2, "proposal": 1}
    assert facets["issue"] == {shared.slug: 3, other.slug: 2}


def test_an_issue_counts_the_claims_of_its_sub_issues_through_every_change(client):
    territory = make_issue(name="Territory", publication_status=PUBLISHED)
    donbas = make_issue(name="Donbas", parent=territory, publication_status=PUBLISHED)
    elsewhere = make_issue(name="Security", publication_status=PUBLISHED)
    on_both = make_public_claim(issue=territory)
    on_both.issues.add(donbas)  # counted once under Territory
    make_public_claim(issue=donbas)
    assert (
        claims_under(territory),
        claims_under(donbas),
    ) == (2, 2)
    assert_counts_current()

    donbas.parent = elsewhere  # moved: Territory keeps only its own claim
    donbas.save()
    assert claims_under(territory) == 1
    assert claims_under(elsewhere) == 2
    donbas.publication_status = "withdrawn"
    donbas.withdrawal_reason = "A test."
    donbas.save()  # readers no longer see it: Security counts nothing through it
    assert claims_under(elsewhere) == 0
    assert_counts_current()

    on_both.publication_status = "withdrawn"
    on_both.withdrawal_reason = "A test."
    on_both.save()
    assert claims_under(territory) == 0
    assert_counts_current()


def test_an_issue_page_counts_what_the_claim_list_filtered_by_it_counts(client):
    territory = make_issue(name="Territory", publication_status=PUBLISHED)
    donbas = make_issue(name="Donbas", parent=territory, publication_status=PUBLISHED)
    make_public_claim(issue=territory).issues.add(donbas)
    make_public_claim(issue=donbas)
    page = client.get(reverse("issue_detail", args=[territory.slug]))
    listed = client.get(reverse("claim_list") + f"?issue={territory.slug}")
    assert page.context["claim_count"] == listed.context["result_count"] == 2


def test_a_persons_stored_seat_roles_follow_their_seats_and_rounds():
    person = make_participant(publication_status=PUBLISHED)
    public_round = make_round(publication_status=PUBLISHED)
    seat = make_membership(delegation=make_delegation(round=public_round), participant=person, role="adviser")
    stale_copy = Participant.objects.get(pk=person.pk)
    person.refresh_from_db()
    assert person.seat_roles == "adviser"

    seat.role = "head"
    seat.save()
    make_membership(
        delegation=make_delegation(round=make_round()), participant=person, role="member"
    )  # a draft round
    person.refresh_from_db()
    assert person.seat_roles == "head"
    stale_copy.description = "Edited by someone who read the person before their seat changed."
    stale_copy.save()
    person.refresh_from_db()
    assert person.seat_roles == "head"
    assert_counts_current()

    other = make_participant(publication_status=PUBLISHED)
    seat.participant = other  # the seat changes hands
    seat.save()
    person.refresh_from_db()
    other.refresh_from_db()
    assert (person.seat_roles, other.seat_roles) == ("", "head")
    public_round.publication_status = "withdrawn"
    public_round.withdrawal_reason = "A test."
    public_round.save()
    other.refresh_from_db()
    assert other.seat_roles == ""
    assert_counts_current()


def test_the_round_lists_counts_follow_rounds_and_their_delegations():
    round_ = make_round(publication_status=PUBLISHED, country="Switzerland", status="held")
    delegation = make_delegation(round=round_)
    assert_counts_current()
    assert ROUNDS.total() == 1
    assert ROUNDS.counts_by_value("delegations__party_id").get(delegation.party_id, 0) == 1

    round_.track = make_round().track  # another track, as editors move a round
    round_.country, round_.status, round_.format = "Turkey", "postponed", "bilateral"
    round_.save()
    assert_counts_current()
    delegation.party = make_party()
    delegation.save()
    assert_counts_current()
    make_delegation(round=round_)
    assert_counts_current()
    round_.publication_status = "withdrawn"
    round_.withdrawal_reason = "A test."
    round_.save()
    assert_counts_current()
    assert (
        ROUNDS.total() == 0
        and ROUNDS.counts_by_value("delegations__party_id").get(delegation.party_id, 0) == 0
    )
    round_.delete()
    assert_counts_current()


def test_the_unfiltered_round_list_shows_the_counts_a_filter_shows(client):
    party = make_party(name="Ukraine")
    for country in ["Switzerland", "Switzerland", "Turkey"]:
        make_delegation(round=make_round(publication_status=PUBLISHED, country=country), party=party)
    make_round(country="Switzerland")  # a draft: counted nowhere
    unfiltered = client.get(reverse("round_list")).content.decode()
    assert re.search(r"<strong>3</strong>", unfiltered)
    assert re.search(r'href="\?country=Switzerland">Switzerland</a> <span class="count">2</span>', unfiltered)
    assert re.search(rf'href="\?party={party.slug}">Ukraine</a> <span class="count">3</span>', unfiltered)
    filtered = client.get(reverse("round_list") + "?country=Switzerland").content.decode()
    assert re.search(r"<strong>2</strong>", filtered)
    assert re.search(rf'href="\?country=Switzerland&amp;party={party.slug}">Ukraine</a> <span', filtered)


def test_the_people_lists_counts_follow_peoples_party_and_publication():
    person = make_participant(publication_status=PUBLISHED, party=make_party())
    make_participant(party=person.party)  # a draft: counted nowhere
    assert_counts_current()
    assert PEOPLE.total() == 1 and PEOPLE.counts_by_value("party_id").get(person.party_id, 0) == 1
    person.party = make_party()
    person.save()
    assert_counts_current()
    person.publication_status = "withdrawn"
    person.withdrawal_reason = "A test."
    person.save()
    assert_counts_current()
    assert PEOPLE.total() == 0
