"""/search/: across rounds, claims, articles, people and issues, grouped by kind, matches marked."""

import pytest
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Case, CharField, TextField, Value, When
from django.urls import reverse

from talks import search as search_module
from talks.models import Claim
from talks.search import (
    CLAIM_TEXT_WEIGHT,
    KINDS,
    SEARCH_CONFIG,
    SPEAKER_NAMES_WEIGHT,
    StoredDocument,
)
from tests.builders import make_claim, make_participant

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


def published_speaker_names(name: str, text_field=CharField):
    """A claim's speaker's field `name`, or nothing when the speaker is not published."""
    published = When(speaker__publication_status="published", then=f"speaker__{name}")
    return Case(published, default=Value(""), output_field=text_field())


def computed_document(kind):
    """A record's full-text document, computed from its fields as the search defines it: a claim's
    text, then its published speaker's names, weighted below the text."""
    if not kind.speaker_names:
        return SearchVector(*kind.fields, config=SEARCH_CONFIG)
    return SearchVector(*kind.fields, config=SEARCH_CONFIG, weight=CLAIM_TEXT_WEIGHT) + SearchVector(
        published_speaker_names("name"),
        published_speaker_names("aliases", TextField),
        config=SEARCH_CONFIG,
        weight=SPEAKER_NAMES_WEIGHT,
    )


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
                        stored=StoredDocument(), computed=computed_document(kind)
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


# A claim is found by its speaker's names too, while the speaker is published (migration 0026).


@pytest.fixture
def zorblatt():
    """A published person with another spelling, and two published claims of theirs."""
    person = make_participant(
        name="Qwertian Zorblatt", aliases="Zorbladt\nKwertian Zorbladt", publication_status="published"
    )
    make_claim(
        key="zorblatt-resumed",
        text="The talks resumed at dawn.",
        speaker=person,
        publication_status="published",
    )
    make_claim(
        key="zorblatt-walked-out",
        text="The delegation walked out.",
        speaker=person,
        publication_status="published",
    )
    return person


def claims_found(client, text):
    return set(found(search(client, text), "claims"))


def test_a_claim_is_found_by_its_speakers_other_spelling(client, zorblatt):
    assert claims_found(client, "Zorbladt") == {"zorblatt-resumed", "zorblatt-walked-out"}
    assert claims_found(client, "Zorblatt") == {"zorblatt-resumed", "zorblatt-walked-out"}
    assert "qwertian-zorblatt" in found(search(client, "Zorbladt"), "participants")


def test_a_claim_is_found_by_words_split_between_its_text_and_its_speakers_names(client, zorblatt):
    assert claims_found(client, "Zorbladt resumed") == {"zorblatt-resumed"}
    assert claims_found(client, "resumed Kwertian") == {"zorblatt-resumed"}
    assert claims_found(client, "Zorbladt adjourned") == set()


def test_a_short_word_of_the_speakers_names_finds_the_claim_and_a_drafts_finds_nothing(client):
    """Words under three letters are read from the records on SQLite, not from its trigram index."""
    person = make_participant(name="Xu Qwertyfeld", publication_status="published")
    hidden = make_participant(name="Xu Qwertyhaus")
    make_claim(key="xu-spoke", text="Qwerty talks resumed.", speaker=person, publication_status="published")
    make_claim(
        key="xu-draft-spoke", text="Qwerty talks stalled.", speaker=hidden, publication_status="published"
    )
    assert claims_found(client, "Xu qwerty") == {"xu-spoke"}
    assert claims_found(client, "Xu stalled") == set()


@on_postgresql
def test_postgresql_web_search_exclusions_cover_the_speakers_names_too(client, zorblatt):
    assert claims_found(client, "Zorbladt -resumed") == {"zorblatt-walked-out"}
    make_claim(key="other-resumed", text="The talks resumed at noon.", publication_status="published")
    resumed = claims_found(client, "resumed -Zorbladt")
    assert "other-resumed" in resumed and "zorblatt-resumed" not in resumed
    assert claims_found(client, '"walked out" Zorbladt') == {"zorblatt-walked-out"}


@on_postgresql
def test_postgresql_ranks_a_claim_that_says_the_words_above_one_whose_speaker_they_name(client, zorblatt):
    make_claim(key="about-zorblatt", text="Zorblatt was not at the talks.", publication_status="published")
    assert found(search(client, "Zorblatt"), "claims")[0] == "about-zorblatt"


def test_a_draft_speakers_names_find_none_of_their_claims(client):
    person = make_participant(name="Qwertian Draftling", aliases="Draftlingue")
    make_claim(
        key="draftling-spoke", text="The talks resumed.", speaker=person, publication_status="published"
    )
    assert claims_found(client, "Draftlingue") == set()
    assert claims_found(client, "Draftling resumed") == set()
    assert found(search(client, "Draftlingue"), "participants") == []
    person.publication_status = "published"
    person.save()
    assert claims_found(client, "Draftlingue") == {"draftling-spoke"}


def test_renaming_a_person_finds_their_claims_by_the_new_name_and_not_the_old(client, zorblatt):
    zorblatt.name = "Xylophant Quorum"
    zorblatt.save()
    assert claims_found(client, "Xylophant") == {"zorblatt-resumed", "zorblatt-walked-out"}
    assert claims_found(client, "Qwertian") == set()
    assert claims_found(client, "Zorbladt") == {"zorblatt-resumed", "zorblatt-walked-out"}  # still an alias


def test_a_rename_in_raw_sql_is_followed_too(client, zorblatt):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE talks_participant SET name = %s, aliases = %s WHERE id = %s",
            ["Xylophant Quorum", "Ksilofant", zorblatt.pk],
        )
    assert claims_found(client, "Ksilofant") == {"zorblatt-resumed", "zorblatt-walked-out"}
    assert claims_found(client, "Zorbladt") == set()
    assert claims_found(client, "Qwertian") == set()


def test_a_new_other_spelling_finds_the_persons_claims(client, zorblatt):
    assert claims_found(client, "Sorblatto") == set()
    zorblatt.aliases += "\nSorblatto"
    zorblatt.save()
    assert claims_found(client, "Sorblatto") == {"zorblatt-resumed", "zorblatt-walked-out"}


def test_withdrawing_a_person_stops_their_names_finding_their_claims(client, zorblatt):
    zorblatt.publication_status = "withdrawn"
    zorblatt.save()
    assert claims_found(client, "Zorbladt") == set()
    assert claims_found(client, "Zorblatt resumed") == set()
    assert claims_found(client, "resumed") >= {"zorblatt-resumed"}  # by its text, as ever


def test_a_claim_given_another_speaker_is_found_by_their_names_and_not_the_first(client, zorblatt):
    other = make_participant(name="Quintessa Vorlov", publication_status="published")
    claim = Claim.objects.get(key="zorblatt-resumed")
    claim.speaker = other
    claim.save()
    assert claims_found(client, "Vorlov") == {"zorblatt-resumed"}
    assert claims_found(client, "Zorbladt") == {"zorblatt-walked-out"}
    Claim.objects.filter(pk=claim.pk).update(speaker=None)
    assert claims_found(client, "Vorlov") == set()


def indexed_claims() -> dict[int, tuple]:
    """What the search index holds of each claim: on SQLite the FTS5 index's text and names, on
    PostgreSQL the stored document."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT rowid, text, speaker_names FROM talks_claim_search")
        else:
            cursor.execute("SELECT id, search_document::text FROM talks_claim")
        return {row[0]: row[1:] for row in cursor.fetchall()}


def expected_claims() -> dict[int, tuple]:
    if connection.vendor == "sqlite":
        rows = Claim.objects.annotate(
            name=published_speaker_names("name"), aliases=published_speaker_names("aliases", TextField)
        ).values_list("pk", "text", "name", "aliases")
        return {pk: (text, f"{name} {aliases}" if name else "") for pk, text, name, aliases in rows}
    claims = next(kind for kind in KINDS if kind.key == "claims")
    rows = Claim.objects.annotate(document=computed_document(claims)).values_list("pk", "document")
    return {pk: (document,) for pk, document in rows}


@pytest.mark.skipif(
    connection.vendor == "sqlite" and not search_module.sqlite_has_trigram_search(),
    reason="no FTS5 trigram index",
)
def test_the_index_holds_every_claims_text_and_published_speakers_names_after_any_write(zorblatt):
    draft = make_participant(name="Qwertian Draftling", aliases="Draftlingue")
    claim = make_claim(text="Nothing of note.", speaker=draft)
    assert indexed_claims() == expected_claims()
    for change in [
        lambda: Claim.objects.filter(pk=claim.pk).update(text="Zeppelins were offered."),
        lambda: Claim.objects.filter(pk=claim.pk).update(speaker=zorblatt),
        lambda: type(zorblatt).objects.filter(pk=draft.pk).update(publication_status="published"),
        lambda: type(zorblatt).objects.filter(pk=zorblatt.pk).update(aliases=""),
        lambda: type(zorblatt).objects.filter(pk__in=[draft.pk, zorblatt.pk]).update(name="Same Name"),
        lambda: type(zorblatt).objects.filter(pk=zorblatt.pk).update(publication_status="draft"),
        lambda: Claim.objects.filter(speaker=zorblatt).update(speaker=draft),
        lambda: Claim.objects.filter(pk=claim.pk).delete(),
    ]:
        change()
        assert indexed_claims() == expected_claims()


@on_sqlite
def test_sqlite_shows_the_first_matches_by_key_of_a_word_many_claims_match_and_finds_the_later_ones_too(
    client, monkeypatch, zorblatt
):
    """The index's first matches are tried alone first (talks.search.first_matches)."""
    monkeypatch.setattr(search_module, "FIRST_KEYS", 2)
    monkeypatch.setattr(search_module, "RESULTS_PER_KIND", 1)
    make_claim(
        key="zorblatt-in-eu", text="The EU was told no.", speaker=zorblatt, publication_status="published"
    )
    response = search(client, "Zorbladt")
    assert found(response, "claims") == ["zorblatt-resumed"]
    claims = next(group for group in response.context["groups"] if group["kind"].key == "claims")
    assert claims["more"]
    assert found(search(client, "Zorbladt EU"), "claims") == ["zorblatt-in-eu"]  # beyond the first two
    assert found(search(client, "Zorbladt delegation"), "claims") == ["zorblatt-walked-out"]
