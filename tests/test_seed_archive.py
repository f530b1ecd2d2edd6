"""The seed archive of the Geneva talks, as `make run` loads it."""

import json
import re
from collections import Counter

import pytest

from sources.models import SourceArticle
from sources.record_base import PublicationStatus
from talks.models import Citation, Claim, Delegation, Disagreement, Issue, Participant, Round
from tests.packages import SHARED_SEEDS, archive_state, import_seed

pytestmark = pytest.mark.django_db


def seats(round_slug, party_slug):
    delegation = Delegation.objects.get(round__slug=round_slug, party__slug=party_slug)
    return delegation.role, {m.participant.slug: m.role for m in delegation.memberships.all()}


def test_the_geneva_round_is_dated_17_and_18_february_2026_and_says_the_dates_are_inferred(seeded):
    geneva = Round.objects.get(slug="geneva-2026-february")
    assert (geneva.start_date.isoformat(), geneva.end_date.isoformat()) == ("2026-02-17", "2026-02-18")
    assert geneva.date_precision == "day"
    assert geneva.dates_note.startswith("Inferred, not stated")
    assert (geneva.city, geneva.country, geneva.format, geneva.status) == (
        "Geneva",
        "Switzerland",
        "trilateral",
        "held",
    )
    assert "Hotel Intercontinental" in geneva.venue
    assert (
        "nearly six hours on Tuesday" in geneva.summary and "about two hours on Wednesday" in geneva.summary
    )
    assert "without a significant breakthrough" in geneva.outcome


def test_the_geneva_round_has_the_three_delegations_with_their_named_members(seeded):
    assert seats("geneva-2026-february", "russia") == ("negotiating", {"vladimir-medinsky": "head"})
    assert seats("geneva-2026-february", "ukraine") == ("negotiating", {"rustem-umerov": "head"})
    assert seats("geneva-2026-february", "united-states") == (
        "mediator",
        {"steve-witkoff": "member", "jared-kushner": "member", "michael-adamski": "military"},
    )


def test_switzerland_hosts_and_the_european_countries_are_present_for_consultations(seeded):
    roles = dict(
        Delegation.objects.filter(round__slug="geneva-2026-february").values_list("party__slug", "role")
    )
    assert roles["switzerland"] == "host"
    for european in ["united-kingdom", "france", "germany", "italy"]:
        assert roles[european] == "observer"


def test_the_earlier_rounds_the_articles_mention_are_recorded_with_the_precision_they_allow(seeded):
    earlier = {
        round_.slug: (round_.city, round_.dates_label)
        for round_ in Round.objects.exclude(slug="geneva-2026-february")
    }
    assert earlier == {
        "abu-dhabi-2026-january": ("Abu Dhabi", "January 2026"),
        "abu-dhabi-2026-february": ("Abu Dhabi", "February 2026"),
        "istanbul-2022-march": ("Istanbul", "March 2022"),
        "geneva-2025-november": ("Geneva", "November 2025"),
    }
    track = Round.objects.get(slug="geneva-2026-february")
    assert track.previous_in_track().slug == "abu-dhabi-2026-february"


def test_the_issues_the_articles_discuss_are_there_with_donbas_beneath_territory(seeded):
    slugs = set(Issue.objects.values_list("slug", flat=True))
    assert {
        "territory",
        "donbas",
        "security-guarantees",
        "zaporizhzhia-nuclear-power-plant",
        "ceasefire-monitoring",
        "western-troops",
        "prisoner-exchanges",
        "sanctions",
        "us-deadline",
    } <= slugs
    assert Issue.objects.get(slug="donbas").parent.slug == "territory"


def test_all_five_articles_are_there_each_backing_at_least_three_claims(seeded):
    assert SourceArticle.objects.count() == 5
    claims_per_article = Counter(Citation.objects.values_list("article__key", flat=True))
    assert len(claims_per_article) == 5
    assert min(claims_per_article.values()) >= 3


def test_article_metadata_holds_only_what_the_copies_state(seeded):
    articles = {article.key: article for article in SourceArticle.objects.select_related("outlet")}
    assert all(article.url == "" and article.author == "" for article in articles.values())
    assert {key for key, article in articles.items() if article.outlet} == {
        "what-to-expect-from-the-geneva-talks"
    }
    assert articles["what-to-expect-from-the-geneva-talks"].outlet.name == "SWI swissinfo.ch"
    assert articles["geneva-talks-concluded-wednesday"].headline == ""
    for article in articles.values():
        assert article.published_on_precision == "approximate"
        assert article.published_on_note.startswith("Not stated.")


def test_there_are_at_least_forty_claims_each_with_a_citation(seeded):
    assert Claim.objects.count() >= 40
    assert not Claim.objects.filter(citations__isnull=True).exists()


def test_where_articles_disagree_each_version_has_its_own_citation(seeded):
    disputed = Claim.objects.get(key="donbas-under-moscow-control")
    assert "disputes" in set(disputed.citations.values_list("stance", flat=True))
    reinstated = set(Claim.objects.get(key="medinsky-reinstated").articles.values_list("key", flat=True))
    replaced = set(
        Claim.objects.get(key="medinsky-replaced-leadership").articles.values_list("key", flat=True)
    )
    assert reinstated and replaced and not reinstated & replaced
    drones = Disagreement.objects.get(slug="drone-count-before-the-talks")
    quotes = {
        link.claim.key: [citation.quote for citation in link.claim.citations.all()]
        for link in drones.versions.select_related("claim")
    }
    assert any("396 drones" in quote for quote in quotes["strike-29-missiles-396-drones"])
    assert any("over 390 drones" in quote for quote in quotes["strike-29-missiles-over-390-drones"])
    assert {
        link.version
        for link in Disagreement.objects.get(slug="medinsky-replaced-or-reinstated").versions.all()
    } == {
        "replaced",
        "reinstated",
    }


def test_every_disagreement_has_two_published_versions_each_cited(seeded):
    disagreements = Disagreement.objects.all()
    assert disagreements.count() >= 10
    for disagreement in disagreements:
        claims = [link.claim for link in disagreement.versions.select_related("claim")]
        assert len(claims) >= 2, disagreement.slug
        assert all(claim.is_published and claim.citations.exists() for claim in claims), disagreement.slug


def test_every_published_seed_claim_was_checked_by_a_second_reader_and_keeps_its_hedges(seeded):
    published = Claim.objects.filter(publication_status=PublicationStatus.PUBLISHED)
    assert not published.filter(checked_on__isnull=True).exists()
    hedged = published.get(key="ceasefire-monitoring-discussed")
    assert hedged.sourcing == "hedged" and "reportedly" in (hedged.attribution + hedged.text).lower()
    iran = published.get(key="iran-talks-same-day")
    assert iran.occurrence == "expected"
    sybiga = published.get(key="sybiga-russia-disregards-peace")
    assert not any("Kyiv’s leadership" in quote for quote in sybiga.citations.values_list("quote", flat=True))


def test_alternate_spellings_are_aliases_of_one_person(seeded):
    assert "Medinski" in Participant.objects.get(slug="vladimir-medinsky").alias_list
    assert "Zelenskyy" in Participant.objects.get(slug="volodymyr-zelensky").alias_list
    assert "Dmitri Peskov" in Participant.objects.get(slug="dmitry-peskov").alias_list
    assert not Participant.objects.filter(name__icontains="Medinski").exists()


def test_every_seed_record_is_published(seeded):
    for model in [Round, Claim, SourceArticle, Participant, Issue]:
        assert not model.objects.exclude(publication_status=PublicationStatus.PUBLISHED).exists()


def test_importing_the_seed_twice_leaves_the_archive_as_after_once(seeded):
    once = archive_state()
    import_seed()
    assert archive_state() == once


@pytest.mark.skipif(
    not SHARED_SEEDS.is_dir(), reason="the seed articles' texts (../shared/seeds) are not here"
)
def test_every_quote_is_copied_exactly_from_its_article(seeded):
    def whitespace_folded(text):
        return re.sub(r"\s+", " ", text).strip()

    not_found = []
    for citation in Citation.objects.select_related("article"):
        file_name = re.search(r"Seed copy: (\S+\.txt)", citation.article.notes).group(1)
        text = whitespace_folded((SHARED_SEEDS / file_name).read_text(encoding="utf-8"))
        if whitespace_folded(citation.quote) not in text:
            not_found.append((citation.claim.key, citation.quote))
    assert not_found == []
    assert Citation.objects.count() >= 40


def test_the_seed_package_is_valid_and_described_by_the_archives_own_column_definitions():
    from frictionless import validate

    from talks.dataset.export import table_schema
    from talks.dataset.tables import TABLES
    from tests.packages import SEED

    descriptor = json.loads((SEED / "datapackage.json").read_text())
    schemas = {resource["name"]: resource["schema"] for resource in descriptor["resources"]}
    assert schemas == {table.name: table_schema(table, everything=True) for table in TABLES}
    report = validate(str(SEED / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
