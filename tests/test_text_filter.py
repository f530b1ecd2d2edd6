"""The lists' text filter (`?q=`): every word occurs, as any part of a word and in any case, in one
of the list's text fields, its own or a related record's (a claim's speaker); looked up through each
table's text index, not by reading every row."""

import pytest
from django.db import connection
from django.urls import reverse

from talks.list_specs import LISTS
from talks.models import Claim, Participant
from tests.builders import PUBLISHED, make_article, make_claim, make_outlet, make_participant

pytestmark = pytest.mark.django_db


def listed(client, name, text):
    response = client.get(reverse(name), {"q": text})
    assert response.status_code == 200, text
    return {record.pk for record in response.context["object_list"]}


@pytest.fixture
def claims():
    umerov = make_participant(name="Rustem Umerov", aliases="Умеров\nUmierow", publication_status=PUBLISHED)
    return {
        "plant": make_claim(
            text="Talks on Zaporizhzhia nuclear plant resumed.", publication_status=PUBLISHED
        ),
        "umerov": make_claim(text="The delegation arrived.", speaker=umerov, publication_status=PUBLISHED),
        "eu": make_claim(text="The EU met near Qwertyland.", publication_status=PUBLISHED),
        "draft": make_claim(text="A draft on Zaporizhzhia and Qwertyland.", speaker=umerov),
    }


def test_a_word_is_found_as_any_part_of_a_word_in_any_case_in_the_text_or_the_speakers_names(client, claims):
    assert listed(client, "claim_list", "zaporiz") == {claims["plant"].pk}
    assert listed(client, "claim_list", "NUCLEAR Plant") == {claims["plant"].pk}  # every word, any case
    assert listed(client, "claim_list", "nuclear submarine") == set()
    assert listed(client, "claim_list", "umerov") == {claims["umerov"].pk}  # the speaker's name
    assert listed(client, "claim_list", "Umierow") == {claims["umerov"].pk}  # another spelling
    assert listed(client, "claim_list", "умеров arrived") == {claims["umerov"].pk}  # across tables


def test_a_claim_is_never_found_by_the_name_of_a_speaker_readers_cannot_see(client):
    """Cards leave out a draft speaker; finding the claim by that name would tell readers whose
    words it is."""
    unpublished = make_participant(name="Zebedee Quillfeather", aliases="Zq")
    shown = make_participant(name="Zebedee Brightwater", aliases="Zb", publication_status=PUBLISHED)
    hidden_speaker = make_claim(
        text="The delegation left.", speaker=unpublished, publication_status=PUBLISHED
    )
    shown_speaker = make_claim(text="The delegation stayed.", speaker=shown, publication_status=PUBLISHED)
    assert listed(client, "claim_list", "Quillfeather") == set()
    assert listed(client, "claim_list", "Zq") == set()  # too short for the trigram index
    assert listed(client, "claim_list", "Zebedee") == {shown_speaker.pk}
    assert listed(client, "claim_list", "Zebedee delegation") == {shown_speaker.pk}
    download = client.get(reverse("claims_csv"), {"q": "Quillfeather"})
    assert hidden_speaker.key not in b"".join(download.streaming_content).decode()
    shown_download = client.get(reverse("claims_csv"), {"q": "Brightwater"})
    assert shown_speaker.key in b"".join(shown_download.streaming_content).decode()


def test_words_too_short_for_a_trigram_index_and_words_like_operators_are_still_found(client, claims):
    assert listed(client, "claim_list", "EU qwertyland") == {claims["eu"].pk}
    assert listed(client, "claim_list", "NEAR qwertyland") == {claims["eu"].pk}
    assert listed(client, "claim_list", 'qwerty" OR "zaporiz') == set()  # quotes are text, not syntax
    assert listed(client, "claim_list", "NOT") == set()


def test_percent_signs_and_underscores_are_text_not_wildcards(client, claims):
    share = make_claim(text="Turnout reached 60% in the_north.", publication_status=PUBLISHED)
    assert listed(client, "claim_list", "60%") == {share.pk}
    assert listed(client, "claim_list", "the_north") == {share.pk}
    assert listed(client, "claim_list", "%") == {share.pk}
    assert listed(client, "claim_list", "talks_on") == set()  # "_" is not any one character


def test_an_edited_text_is_found_by_its_new_words_only(client, claims):
    claims["plant"].text = "Talks on the Kakhovka dam resumed."
    claims["plant"].save()
    assert listed(client, "claim_list", "zaporiz") == set()
    assert listed(client, "claim_list", "kakhovka") == {claims["plant"].pk}


def test_sources_are_found_by_headline_author_or_outlet(client):
    reuters = make_outlet(name="Reuters")
    by_headline = make_article(headline="Geneva round ends", publication_status=PUBLISHED)
    by_author = make_article(author="Olena Harmash", publication_status=PUBLISHED)
    by_outlet = make_article(outlet=reuters, publication_status=PUBLISHED)
    assert listed(client, "source_list", "geneva") == {by_headline.pk}
    assert listed(client, "source_list", "harmash") == {by_author.pk}
    assert listed(client, "source_list", "REUTERS") == {by_outlet.pk}


def plan_of(queryset) -> str:
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A tiny table would otherwise be read whole, or through any index, filtering each row.
            scans = ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan")
            for scan in scans:
                cursor.execute(f"SET {scan} = off")
            try:
                cursor.execute("EXPLAIN " + sql, params)
                plan = cursor.fetchall()
            finally:
                for scan in scans:
                    cursor.execute(f"SET {scan} = on")
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = cursor.fetchall()
        return "\n".join(str(row) for row in plan)


def test_the_claims_and_sources_text_is_looked_up_in_an_index(claims):
    if connection.vendor == "postgresql":
        # Each field's condition reads its upper-cased copy, through the copy table's trigram index.
        from sources.models import SourceArticle
        from talks.filters import containing
        from talks.models import Claim, Participant

        for model, field in [
            (Claim, "text"),
            (Participant, "name"),
            (Participant, "aliases"),
            (SourceArticle, "headline"),
            (SourceArticle, "author"),
        ]:
            plan = plan_of(model._base_manager.filter(containing(model, [field], "zaporiz")))
            assert f"{model._meta.db_table}_folded_{field}_trigram" in plan, plan
    else:
        claims_plan = plan_of(
            LISTS["claims"].filterset({"q": "zaporiz"}, queryset=LISTS["claims"].base_queryset()).qs
        )
        assert "talks_claim_search VIRTUAL TABLE" in claims_plan
        assert "talks_participant_search VIRTUAL TABLE" in claims_plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the upper-cased copies are PostgreSQL's")
def test_the_upper_cased_copies_follow_every_write_to_their_tables(transactional_db):
    """Inserts, edits, bulk updates, deletes and truncation, whoever makes them (migration 0021)."""
    from django.db import connection as database

    def copies_match(table, columns):
        listed = ", ".join(f'UPPER("{column}"::text)' for column in columns)
        folded = ", ".join(f'"{column}_folded"' for column in columns)
        with database.cursor() as cursor:
            cursor.execute(f'SELECT id, {listed} FROM "{table}" ORDER BY id')
            originals = cursor.fetchall()
            cursor.execute(f'SELECT id, {folded} FROM "{table}_folded" ORDER BY id')
            return originals == cursor.fetchall() and originals

    speaker = make_participant(name="Rustem Umerov", aliases="Умеров")
    kept = make_claim(text="Talks on the plant resumed.", speaker=speaker)
    edited = make_claim(text="The delegation arrived.")
    removed = make_claim(text="A claim to be removed.")
    make_article(headline="Geneva round ends", author="Olena Harmash")
    edited.text = "The delegation left Genève."
    edited.save()
    Claim.objects.filter(pk=kept.pk).update(outlet_count=3)  # no copied column changes
    Claim.objects.filter(pk__in=[kept.pk, edited.pk]).update(text="Ωmega")  # one statement, two rows
    Participant.objects.filter(pk=speaker.pk).update(aliases="Umierow\nУмєров")
    removed.delete()
    assert copies_match("talks_claim", ["text"]) == [(kept.pk, "ΩMEGA"), (edited.pk, "ΩMEGA")]
    assert copies_match("talks_participant", ["name", "aliases"])
    assert copies_match("sources_sourcearticle", ["headline", "author"])
    with database.cursor() as cursor:
        cursor.execute('TRUNCATE "talks_claim" CASCADE')
    assert copies_match("talks_claim", ["text"]) == []
    with database.cursor() as cursor:
        cursor.execute('SELECT count(*) FROM "talks_claim_folded"')
        assert cursor.fetchone() == (0,)
