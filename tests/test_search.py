"""/search/: across rounds, claims, articles, people and issues, grouped by kind, matches marked."""

import pytest
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.urls import reverse

from talks import search as search_module
from talks.search import KINDS, SEARCH_CONFIG, StoredDocument
from tests.builders import make_claim

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded_module")]
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="full-text search is PostgreSQL's"
)


def search(client, text):
    response = client.get(reverse("search"), {"q": text})
    assert response.status_code == 200
    return response


def found(response, kind):
    group = next(group for group in response.context["groups"] if group["kind"].key == kind)
    return [getattr(record, "slug", None) or getattr(record, "key", None) for record in group["results"]]


def test_another_spelling_finds_the_person(client):
    response = search(client, "Medinski")
    # First: Igor Kostyukov's description names Medinsky too, which PostgreSQL's search also finds.
    assert found(response, "participants")[0] == "vladimir-medinsky"
    assert '<a href="/participants/vladimir-medinsky/">Vladimir Medinsky</a>' in response.content.decode()


def test_results_are_grouped_by_kind_with_the_matching_words_marked(client):
    response = search(client, "Geneva")
    html = response.content.decode()
    for title in ["Rounds", "Claims", "Articles", "Issues"]:
        assert f">{title}</h2>" in html or title == "Issues"
    assert "geneva-2026-february" in found(response, "rounds")
    assert "<mark>Geneva</mark>" in html


def test_article_headlines_are_searched(client):
    assert found(search(client, "Deadlock"), "articles") == ["can-geneva-talks-break-the-deadlock"]


def test_an_empty_search_shows_the_form_and_no_results(client):
    response = search(client, "")
    assert response.context["groups"] == [] and 'name="q"' in response.content.decode()


def test_a_search_that_is_too_long_is_refused_with_a_message(client):
    response = client.get(reverse("search"), {"q": "x" * 201})
    assert response.status_code == 400
    assert "Ensure this value has at most 200 characters" in response.content.decode()


def test_nothing_found_says_so(client):
    assert "Nothing matches" in search(client, "zzyzx").content.decode()


@on_postgresql
def test_postgresql_understands_web_search_syntax(client):
    assert "zelensky-not-easy" in found(search(client, '"not easy"'), "claims")
    excluded = found(search(client, "Zelensky -easy"), "claims")
    assert "zelensky-not-easy" not in excluded and excluded
    assert {"rustem-umerov", "vladimir-medinsky"} <= set(
        found(search(client, "Medinski or Umerov"), "participants")
    )


@on_postgresql
def test_postgresql_ranks_the_best_match_first(client):
    make_claim(
        key="all-about-sanctions",
        text="Sanctions, sanctions and sanctions again.",
        publication_status="published",
    )
    claims = found(search(client, "sanctions"), "claims")
    assert claims[0] == "all-about-sanctions" and len(claims) > 1


@on_postgresql
def test_postgresql_stores_each_document_as_the_fields_read_and_searches_it_through_its_index():
    query = SearchQuery("Geneva", search_type="websearch", config=SEARCH_CONFIG)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            for kind in KINDS:
                model = kind.queryset().model
                documents = list(
                    model.objects.annotate(
                        stored=StoredDocument(), computed=SearchVector(*kind.fields, config=SEARCH_CONFIG)
                    ).values_list("stored", "computed")
                )
                assert documents, kind.key
                assert all(stored == computed for stored, computed in documents), kind.key
                # Unordered: a model's default order (issues by name) may otherwise be read from
                # another index, which says nothing about whether the GIN index serves the search.
                plan = (
                    model.objects.order_by()
                    .annotate(document=StoredDocument())
                    .filter(document=query)
                    .explain()
                )
                assert f"{model._meta.db_table}_search_document" in plan, f"{kind.key}: {plan}"
        finally:
            cursor.execute("SET enable_seqscan = on")


@on_postgresql
def test_postgresql_search_finds_a_claim_by_the_words_it_was_edited_to_say(client):
    claim = make_claim(key="edited-claim", text="Nothing of note.", publication_status="published")
    assert "edited-claim" not in found(search(client, "zeppelins"), "claims")
    claim.text = "Zeppelins were offered as guarantors."
    claim.save()
    assert found(search(client, "zeppelins"), "claims") == ["edited-claim"]


@on_postgresql
def test_postgresql_ranks_only_the_newest_matches_of_a_common_word_and_says_so(client, monkeypatch):
    monkeypatch.setattr(search_module, "RANKED_MATCHES", 2)
    newest = [
        make_claim(
            key=f"sanctions-{n}", text=f"Sanctions were discussed ({n}).", publication_status="published"
        )
        for n in range(3)
    ]
    response = search(client, "sanctions")
    assert set(found(response, "claims")) == {newest[1].key, newest[2].key}
    assert "More than 2 match: these are the best of the 2 added most recently." in response.content.decode()


@on_postgresql
def test_postgresql_finds_the_newest_matches_beyond_the_most_recent_records_too(client, monkeypatch):
    monkeypatch.setattr(search_module, "RANKED_MATCHES", 2)
    monkeypatch.setattr(search_module, "RECENT_KEYS", 3)  # the three newest claims, read first
    older = [
        make_claim(key=f"old-{n}", text=f"Sanctions were discussed ({n}).", publication_status="published")
        for n in range(3)
    ]
    recent = [
        make_claim(key="recent-match", text="Sanctions again.", publication_status="published"),
        make_claim(key="recent-other", text="Zeppelins were offered.", publication_status="published"),
        make_claim(key="recent-draft", text="Sanctions, unpublished."),
    ]
    response = search(client, "sanctions")
    assert set(found(response, "claims")) == {recent[0].key, older[2].key}  # the two newest matches
    assert "More than 2 match" in response.content.decode()
    assert found(search(client, "zeppelins"), "claims") == [recent[1].key]
    assert found(search(client, "qwertyzeppelins"), "claims") == []


def test_the_sqlite_search_indexes_cover_exactly_what_each_kind_searches():
    indexed = {kind.queryset().model._meta.db_table: kind.fields for kind in KINDS}
    assert indexed == search_module.SEARCH_TABLES


on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="the trigram indexes are SQLite's")


@on_sqlite
def test_sqlite_finds_any_part_of_a_word_in_any_case_and_follows_edits_and_deletions(client):
    claim = make_claim(text="Talks on Zaporizhzhia nuclear plant resumed.", publication_status="published")
    assert claim.key in found(search(client, "zaporiz"), "claims")
    assert claim.key in found(search(client, "NUCLEAR plant"), "claims")  # every word, any case
    assert claim.key not in found(search(client, "nuclear submarine"), "claims")
    claim.text = "Talks on the Kakhovka dam resumed."
    claim.save()
    assert claim.key not in found(search(client, "zaporiz"), "claims")
    assert claim.key in found(search(client, "kakhovka"), "claims")
    claim.delete()
    assert claim.key not in found(search(client, "kakhovka"), "claims")


@on_sqlite
def test_sqlite_still_finds_words_too_short_for_the_index_and_never_drafts(client):
    claim = make_claim(text="The EU met near Qwertyland.", publication_status="published")
    make_claim(text="A draft on Qwertyland and the EU.")
    assert found(search(client, "EU qwertyland"), "claims") == [claim.key]
    # Words FTS5 reads as operators are searched as words.
    assert found(search(client, "NEAR qwertyland"), "claims") == [claim.key]
    assert found(search(client, "NOT qwertyland"), "claims") == []
