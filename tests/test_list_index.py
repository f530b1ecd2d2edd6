"""A list's count, facets and order come from each process's in-memory list index
(talks/list_index.py), which must always agree with the records: every write to a value it holds
logs the record under a new version of the list, whoever writes, and the next request reads that
record again, and only that record."""

import datetime

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from talks.filters import narrowing_values
from talks.list_index import CANDIDATES, DayNumber, HeldValues, day_number, distinct_pairs, trigger_name
from talks.list_specs import LISTS
from talks.lists import ARTICLES, CLAIMS, LIST_INDEXES, PEOPLE, ROUNDS, warm_list_indexes
from talks.models import Claim, ClaimIssue, ListChange, ListVersion
from tests.builders import (
    PUBLISHED,
    make_article,
    make_claim,
    make_delegation,
    make_issue,
    make_outlet,
    make_party,
    make_public_claim,
    make_round,
    make_track,
)

pytestmark = pytest.mark.django_db


def held_values(records, values, many: bool) -> HeldValues:
    """A field's values as the list index holds them, written record by record."""
    held = HeldValues(many=many)
    records = np.array(records, dtype=np.int64)
    if many:
        held.set_pairs(np.empty(0, dtype=np.int64), records, held.coded(values))
    else:
        held.set_codes(records, held.coded(values))
    return held


def version(name="claims"):
    return ListVersion.objects.get(name=name).version


def facet_counts(response) -> dict:
    return {
        facet.param: {choice.value: choice.count for choice in facet.choices}
        for facet in response.context["facets"]
    }


@pytest.fixture
def archive():
    """Claims spread over parties, kinds, issues and rounds, with drafts among their issues and rounds."""
    parties = [make_party() for _ in range(3)]
    issues = [make_issue(publication_status=PUBLISHED) for _ in range(3)] + [make_issue()]  # one a draft
    rounds = [make_round(publication_status=PUBLISHED) for _ in range(2)] + [make_round()]
    kinds = ["demand", "proposal", "statement"]
    for n in range(45):
        claim = make_public_claim(
            party=parties[n % 3] if n % 5 else None,
            kind=kinds[(n // 3) % 3],
            round=rounds[(n // 9) % 3],
            issue=issues[(n // 2) % 4],
            date=datetime.date(2026, 2, 1) + datetime.timedelta(days=n) if n % 4 else None,
        )
        if n % 4 == 0:
            claim.issues.add(issues[(n // 2 + 1) % 4])
        if n % 3 == 0:  # reported by one outlet, undisputed
            claim.citations.filter(stance="disputes").delete()
    draft = make_public_claim(party=parties[0], kind="demand", issue=issues[0])
    Claim.objects.filter(pk=draft.pk).update(publication_status="draft")  # never counted
    return {"parties": parties, "issues": issues, "rounds": rounds}


def counted_by_the_database(response) -> dict:
    """The facets of a filtered claim list as grouped counts of its matches, straight from the records."""
    ClaimFilter = LISTS["claims"].filterset

    matching = ClaimFilter(response.wsgi_request.GET, queryset=ClaimFilter.base_queryset()).qs.order_by()
    links = ClaimIssue.objects.filter(claim__in=matching, issue__publication_status=PUBLISHED)
    public_rounds = matching.filter(round__publication_status=PUBLISHED)
    return {
        "count": matching.count(),
        "issue": dict(links.values_list("issue__slug").annotate(n=Count("pk"))),
        "party": dict(matching.exclude(party=None).values_list("party__slug").annotate(n=Count("pk"))),
        "kind": dict(matching.values_list("kind").annotate(n=Count("pk"))),
        "round": dict(public_rounds.values_list("round__slug").annotate(n=Count("pk"))),
    }


def shown(response) -> dict:
    return {"count": response.context["result_count"], **facet_counts(response)}


def ordered_by_the_database(response) -> list[int]:
    ClaimFilter = LISTS["claims"].filterset

    matching = ClaimFilter(response.wsgi_request.GET, queryset=ClaimFilter.base_queryset()).qs
    return list(matching.values_list("pk", flat=True)[:25])


# Asked of one archive in one test: building it for each query made this file a quarter of the
# suite's time on PostgreSQL.
CLAIM_QUERIES = [
    "?kind=demand",
    "?kind=demand&party={party}",
    "?issue={issue}",
    "?issue={parent}",
    "?round={round}&ordering=-outlets",
    "?min_outlets=1",
    "?min_outlets=2&ordering=date",
    "?date_after=2026-02-10",
    "?date_before=2026-02-20&kind=proposal",
    "?date_after=2026-02-10&date_before=2026-02-10",
    "?date_after=2026-02-10&date_before=2026-03-01&issue={issue}&kind=demand&ordering=-date",
    "?q=said&kind=demand",  # text: on SQLite from the text index, elsewhere by the database
    "?q=person&ordering=date",  # every speaker's name
    "?q=said person",  # a word of every claim's text and one of every speaker's name
    "?q=as said",  # a word too short for the trigram index: the database lists the matches
    "?disputed=false&date_after=2026-02-10",
    "?disputed=true&kind=demand&ordering=-outlets",
    "?disputed=true&q=said",
]


def test_a_filtered_claim_list_counts_and_orders_what_the_database_does(client, archive):
    parent = make_issue(publication_status=PUBLISHED)  # its sub-issue's claims are its claims
    archive["issues"][2].parent = parent
    archive["issues"][2].save()
    for query in CLAIM_QUERIES:
        query = query.format(
            party=archive["parties"][1].slug,
            issue=archive["issues"][0].slug,
            parent=parent.slug,
            round=archive["rounds"][0].slug,
        )
        response = client.get(reverse("claim_list") + query)
        assert response.status_code == 200, query
        assert shown(response) == counted_by_the_database(response), query
        in_order = ordered_by_the_database(response)
        assert [claim.pk for claim in response.context["object_list"]] == in_order, query
        assert 0 < response.context["result_count"] < Claim.objects.count(), query


def test_filters_the_index_holds_ask_the_database_for_no_ids_and_other_filters_do(client, archive):
    held = reverse("claim_list") + f"?kind=demand&issue={archive['issues'][0].slug}&date_after=2026-02-10"
    client.get(held)
    with CaptureQueriesContext(connection) as queries:
        client.get(held)
    listing = {"GROUP_CONCAT", "STRING_AGG"}
    assert not any(word in query["sql"] for query in queries for word in listing)
    with CaptureQueriesContext(connection) as queries:
        client.get(held + "&q=as")  # a word too short for the trigram index
    assert any(word in query["sql"] for query in queries for word in listing)


def counted_both_ways(index, filterset_class, query: str) -> tuple:
    """A list's count, facets and first page as the index finds the matches itself, and as the
    database lists them."""
    filterset = filterset_class(QueryDict(query), queryset=filterset_class.base_queryset())
    assert filterset.is_valid(), filterset.errors
    narrowing = narrowing_values(filterset)
    assert narrowing and narrowing.keys() <= index.filters.keys()  # the index answers every filter
    held, listed = index.count(filterset.qs, narrowing), index.count(filterset.qs, None)
    assert held.count > 0
    return [(found.count, found.facet_counts, found.ordered[0:25]) for found in (held, listed)]


@pytest.fixture
def rounds_and_articles():
    """Rounds and articles spread over the values their lists filter by, a draft of each among them."""
    tracks, parties = [make_track() for _ in range(2)], [make_party() for _ in range(3)]
    outlets = [make_outlet() for _ in range(2)] + [None]
    for n in range(24):
        published = PUBLISHED if n % 7 else "draft"
        day = datetime.date(2026, 1, 1) + datetime.timedelta(days=3 * n)
        round_ = make_round(
            track=tracks[n % 2],
            status=["held", "announced", "postponed"][n % 3],
            format=["bilateral", "trilateral", ""][n % 3],
            country=["Switzerland", "United Arab Emirates", "", "Turkey"][n % 4],
            start_date=day,
            end_date=day,
            publication_status=published,
        )
        for party in parties[: 1 + n % 3]:
            make_delegation(round=round_, party=party)
        make_article(
            outlet=outlets[n % 3],
            language=["en", "uk", "ru"][n % 3],
            published_on=day if n % 5 else None,
            published_on_precision="day" if n % 5 else "",
            publication_status=published,
        )
    return {"tracks": tracks, "parties": parties, "outlets": outlets}


def test_the_index_finds_the_rounds_and_articles_the_database_lists(rounds_and_articles):
    track, party = rounds_and_articles["tracks"][1].slug, rounds_and_articles["parties"][1].slug
    for query in [
        "status=held",
        "q=round&format=bilateral",
        f"track={track}&ordering=title",
        "country=Switzerland",
        f"format=trilateral&party={party}",
        f"party={party}&date_after=2026-01-20&date_before=2026-02-20&ordering=-date",
        "date_before=2026-01-31",
    ]:
        held, listed = counted_both_ways(ROUNDS, LISTS["rounds"].filterset, query)
        assert held == listed, query
    outlet = rounds_and_articles["outlets"][0].slug
    for query in [
        f"outlet={outlet}",
        "outlet=unknown&ordering=headline",
        "language=uk&date_after=2026-01-10",
        "date_after=2026-01-01&date_before=2026-02-15&ordering=date",
    ]:
        held, listed = counted_both_ways(ARTICLES, LISTS["sources"].filterset, query)
        assert held == listed, query


def test_an_unfiltered_list_is_paged_by_the_index_without_skipping_rows(client, archive):
    ClaimFilter = LISTS["claims"].filterset

    for ordering in ["", "&ordering=-outlets", "&ordering=date"]:
        url = reverse("claim_list") + "?page=2" + ordering
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert not any("OFFSET" in query["sql"] for query in queries), ordering
        in_order = ClaimFilter(response.wsgi_request.GET, queryset=ClaimFilter.base_queryset()).qs
        shown_keys = [claim.pk for claim in response.context["object_list"]]
        assert shown_keys == list(in_order.values_list("pk", flat=True)[25:50]), ordering
        assert response.context["result_count"] == Claim.objects.published().count() == 45


def test_the_text_filter_reads_the_text_index_alone_and_the_list_index_keeps_the_public_claims(
    client, archive
):
    """SQLite's FTS5 index of the claims (talks_claim_search), PostgreSQL's table of their upper-cased
    text (talks_claim_folded); never a query of the claims table that lists ids."""
    url = reverse("claim_list") + "?q=said"
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    text_index = "talks_claim_search" if connection.vendor == "sqlite" else "talks_claim_folded"
    assert any(text_index in query["sql"] for query in queries)
    assert not any(
        'GROUP_CONCAT("talks_claim"' in query["sql"] or 'STRING_AGG(CAST("talks_claim"' in query["sql"]
        for query in queries
    )
    assert response.context["result_count"] == Claim.objects.published().count()  # never the draft


def test_a_claim_published_or_withdrawn_joins_or_leaves_a_list_the_index_filters(client, archive):
    url = reverse("claim_list") + "?kind=demand"
    before = client.get(url).context["result_count"]
    draft = Claim.objects.get(publication_status="draft")
    Claim.objects.filter(pk=draft.pk).update(publication_status=PUBLISHED)
    assert client.get(url).context["result_count"] == before + 1
    Claim.objects.filter(pk=draft.pk).update(publication_status="withdrawn")
    response = client.get(url)
    assert response.context["result_count"] == before
    assert shown(response) == counted_by_the_database(response)


def test_each_write_to_a_value_a_list_holds_logs_the_records_it_changed_and_no_other_write_does(archive):
    claim = Claim.objects.published().first()

    def logged(write) -> set:
        before = version()
        write()
        changes = ListChange.objects.filter(list="claims", version__gt=before)
        return set(changes.values_list("key", flat=True))

    claim.notes = "An editor's note: not a value the index holds."
    assert logged(claim.save) == set()
    assert logged(lambda: Claim.objects.filter(pk=claim.pk).update(text="Reworded.")) == set()
    assert logged(lambda: Claim.objects.filter(pk=claim.pk).update(kind="figure")) == {claim.pk}
    assert logged(lambda: Claim.objects.filter(pk=claim.pk).update(kind="figure")) == set()  # no change
    assert logged(lambda: Claim.objects.filter(pk=claim.pk).update(outlet_count=7)) == {claim.pk}
    assert logged(lambda: claim.issues.add(archive["issues"][2])) == {claim.pk}
    assert logged(lambda: claim.issues.remove(archive["issues"][2])) == {claim.pk}
    link = ClaimIssue.objects.filter(claim=claim).first()
    other = Claim.objects.exclude(pk=claim.pk).exclude(issue_links__issue=link.issue_id).first()
    # A link moved to another claim changes both.
    assert logged(lambda: ClaimIssue.objects.filter(pk=link.pk).update(claim=other)) == {claim.pk, other.pk}
    with connection.cursor() as cursor:  # around the ORM altogether
        assert logged(
            lambda: cursor.execute("UPDATE talks_claim SET round_id = NULL WHERE id = %s", [claim.pk])
        ) == {claim.pk}
    new = make_public_claim()
    assert ListChange.objects.filter(list="claims", key=new.pk).exists()
    assert claim.pk in logged(claim.delete)
    people, rounds = version("people"), version("rounds")
    Claim.objects.create(text="A claim of nobody at no round.")
    assert (version("people"), version("rounds")) == (people, rounds)  # other lists keep their versions


def test_a_write_makes_each_process_read_only_the_records_it_changed(client, archive, monkeypatch):
    url = reverse("claim_list") + "?kind=demand"
    client.get(url)
    client.get(url + "&ordering=-outlets")

    def read_whole(*args):
        raise AssertionError("the list was read whole again")

    monkeypatch.setattr(CLAIMS, "rebuilt", read_whole)
    claim = Claim.objects.published().filter(kind="demand").first()
    Claim.objects.filter(pk=claim.pk).update(outlet_count=claim.outlet_count + 5)  # as a new citation does
    other_round = next(round for round in archive["rounds"] if round.pk != claim.round_id)
    Claim.objects.filter(pk=claim.pk).update(round=other_round)
    make_public_claim(kind="demand", party=archive["parties"][0], issue=archive["issues"][1])
    for ordering in ["", "&ordering=-outlets", "&ordering=date"]:
        response = client.get(url + ordering)
        assert shown(response) == counted_by_the_database(response), ordering
        assert [claim.pk for claim in response.context["object_list"]] == ordered_by_the_database(response)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    assert not any(ListChange._meta.db_table in query["sql"] for query in queries)  # nothing new to read


def test_an_edit_made_around_the_orm_is_counted_by_the_next_request(client, archive):
    url = reverse("claim_list") + "?kind=demand"
    first = facet_counts(client.get(url))["party"]
    moved = Claim.objects.published().filter(kind="demand", party=archive["parties"][0]).first()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE talks_claim SET party_id = %s WHERE id = %s", [archive["parties"][1].pk, moved.pk]
        )
    second = facet_counts(client.get(url))["party"]
    assert second[archive["parties"][0].slug] == first[archive["parties"][0].slug] - 1
    assert second[archive["parties"][1].slug] == first[archive["parties"][1].slug] + 1


def test_a_write_rolled_back_after_the_index_read_it_leaves_no_trace_in_the_counts(client, archive):
    url = reverse("claim_list") + "?party=" + archive["parties"][0].slug
    first, second = Claim.objects.filter(party=archive["parties"][0])[:2]
    with pytest.raises(RuntimeError), transaction.atomic():
        Claim.objects.filter(pk=first.pk).update(kind="figure")
        during = client.get(url)  # counted from the write not yet committed
        assert facet_counts(during)["kind"]["figure"] == 1
        raise RuntimeError("roll back")
    # A write after the rollback, under the same version number: its token tells it from the first.
    Claim.objects.filter(pk=second.pk).update(kind="event")
    after = client.get(url)
    assert shown(after) == counted_by_the_database(after)
    assert "figure" not in facet_counts(after)["kind"]


def test_a_server_process_says_so_when_it_starts_with_a_list_of_no_version(archive, caplog):
    ListVersion.objects.filter(name="claims").delete()  # as before `migrate`
    warm_list_indexes()
    assert "The claims list has no version (run `manage.py migrate`)." in caplog.text
    caplog.clear()
    call_command("migrate", verbosity=0)
    warm_list_indexes()
    assert "no version" not in caplog.text


def test_a_migration_reinstalls_triggers_that_a_table_rebuild_dropped(client, archive):
    url = reverse("claim_list") + "?kind=demand"
    client.get(url)
    with connection.cursor() as cursor:
        cursor.execute(
            f'DROP TRIGGER "{trigger_name(CLAIMS, "talks_claim", "insert")}"'
            + (" ON talks_claim" if connection.vendor == "postgresql" else "")
        )
    before = version()
    make_public_claim(kind="demand")
    assert version() > before  # its issue link and citations are still logged, not the claim itself
    call_command("migrate", verbosity=0)
    response = client.get(url)  # the lists start at a new version: each process reads them whole
    assert shown(response) == counted_by_the_database(response)
    before = version()
    Claim.objects.create(text="Seen again.")
    assert version() > before


def test_a_server_process_builds_every_lists_counts_and_orders_before_its_first_reader(client, archive):
    make_article(outlet=make_outlet(), publication_status=PUBLISHED)
    for index in LIST_INDEXES:
        index._held.clear()
    warm_list_indexes()
    url = reverse("claim_list") + "?kind=demand&ordering=-outlets"
    with CaptureQueriesContext(connection) as warm:
        client.get(url)
    with CaptureQueriesContext(connection) as again:
        client.get(url)
    assert len(warm) == len(again)  # nothing was left to build
    orders = [key for key in CLAIMS._held["default"].memo if key[0] == "order"]
    assert len(orders) == 7  # the default order and the six a reader picks
    assert any(key[0] == "order" for key in ARTICLES._held["default"].memo)
    assert any(key[0] == "order" for key in PEOPLE._held["default"].memo)


def test_a_filtered_source_list_counts_articles_of_unknown_outlet_under_one_link(client):
    outlet = make_outlet(name="Reuters")
    for n in range(5):
        make_article(outlet=outlet if n % 2 else None, language="en", publication_status=PUBLISHED)
    make_article(language="en")  # a draft
    response = client.get(reverse("source_list") + "?language=en")
    assert response.context["result_count"] == 5
    assert facet_counts(response)["outlet"] == {"unknown": 3, "reuters": 2}
    assert '<a href="?language=en&amp;outlet=unknown">Unknown outlet</a>' in response.content.decode()


@pytest.mark.parametrize("many", [False, True], ids=["by key", "as pairs"])
def test_a_facet_reads_only_its_most_frequent_values_with_ties_going_to_the_first_value(many):
    # Record n has value n % 60 (written from the highest value down, so that codes do not follow
    # the values' order), and values 0-9 once more each; record 1,000 has none.
    records = list(range(59, -1, -1)) + list(range(60, 70)) + ([] if many else [1000])
    values = [n % 60 for n in range(59, -1, -1)] + list(range(10)) + ([] if many else [None])
    held = held_values(records, values, many)
    matched = np.zeros(1002, dtype=bool)  # one key more than the field holds, as another field may
    matched[records] = True
    counts = held.counts(matched, np.flatnonzero(matched))
    assert counts.missing == (0 if many else 1)
    assert len(counts.most_frequent) == CANDIDATES
    assert counts.most_frequent[:10] == [(value, 2) for value in range(10)]
    assert counts.most_frequent[10:] == [(value, 1) for value in range(10, CANDIDATES)]


@pytest.mark.parametrize("many", [False, True], ids=["by key", "as pairs"])
def test_a_field_finds_the_records_holding_chosen_values_or_values_within_a_range(many):
    records = [3, 1, 4, 5, 9, 2, 6]
    dates = [datetime.date(2026, 2, day) if day else None for day in [10, 12, None, 11, 12, 14, 9]]
    held = held_values(records, [None if day is None else day_number(day) for day in dates], many)

    def keys(kept) -> list[int]:
        assert len(kept) == 12  # every key below the size asked for, beyond the field's own
        return np.flatnonzero(kept).tolist()

    day = day_number(datetime.date(2026, 2, 12))
    assert keys(held.keys_with([day], 12)) == [1, 9]
    assert keys(held.keys_with([day, day_number(datetime.date(2026, 2, 9)), 5], 12)) == [1, 6, 9]
    feb = {n: day_number(datetime.date(2026, 2, n)) for n in (10, 11)}
    assert keys(held.keys_between(feb[11], day, 12)) == [1, 5, 9]  # both ends included
    assert keys(held.keys_between(feb[11], None, 12)) == [1, 2, 5, 9]  # never a record of none
    assert keys(held.keys_between(None, feb[10], 12)) == [3, 6]
    assert keys(held.keys_between(day_number(datetime.date(2027, 1, 1)), None, 12)) == []


def test_a_records_new_values_replace_its_old_ones_and_a_new_value_takes_a_code_of_its_own():
    held = held_values([1, 2, 3], ["demand", "offer", "demand"], many=False)
    held.set_codes(np.array([2, 7]), held.coded(["statement", "demand"]))
    assert held.size == 8
    assert np.flatnonzero(held.keys_with(["demand"], 8)).tolist() == [1, 3, 7]
    assert np.flatnonzero(held.keys_with(["offer"], 8)).tolist() == []
    links = held_values([1, 1, 2], [10, 11, 10], many=True)
    links.set_pairs(np.array([1, 4]), np.array([4]), links.coded([12]))  # record 1 loses its issues
    assert np.flatnonzero(links.keys_with([10, 12], 5)).tolist() == [2, 4]


def test_the_database_numbers_days_as_python_does():
    days = [
        datetime.date(1, 1, 1),
        datetime.date(1900, 3, 1),
        datetime.date(2024, 2, 29),
        datetime.date(9999, 12, 31),
    ]
    for day in days:
        make_claim(date=day)
    numbered = Claim.objects.filter(date__in=days).annotate(number=DayNumber("date"))
    assert sorted(numbered.values_list("date", "number")) == [(day, day_number(day)) for day in days]
    assert day_number(datetime.date(1, 1, 1)) == 0  # never NO_NUMBER, which stands for no date


def test_link_pairs_are_counted_once_however_often_they_are_listed():
    linked, values = distinct_pairs(np.array([5, 1, 5, 1, 2]), np.array([3, 3, 3, 4, 3]))
    assert linked.tolist() == [1, 1, 2, 5]
    assert values.tolist() == [3, 4, 3, 3]
    nothing = np.array([], dtype=np.int64)
    assert [len(side) for side in distinct_pairs(nothing, nothing)] == [0, 0]
