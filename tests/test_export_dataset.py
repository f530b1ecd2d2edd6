"""`export_dataset`: the archive as a data package that rebuilds it exactly."""

import csv
import io
import json
import zipfile

import pytest
from django.core.management import call_command
from frictionless import validate

from sources.record_base import PublicationStatus
from talks.dataset.tables import CLAIMS, TABLES
from tests.builders import make_article, make_citation, make_claim, make_issue, make_round
from tests.packages import SEED, empty_the_archive, import_seed, read_rows

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED


def export(path, *options):
    call_command("export_dataset", str(path), *options, stdout=io.StringIO())
    return path


def csv_files(folder):
    return {path.name: path.read_bytes() for path in sorted(folder.glob("*.csv"))}


def test_a_round_trip_through_an_empty_archive_gives_identical_files(tmp_path):
    """The seed was exported by this command; importing it and exporting again gives the same bytes."""
    import_seed()
    again = export(tmp_path / "again", "--all")
    assert csv_files(again) == csv_files(SEED)


def test_a_round_trip_of_the_public_dataset_is_exact_too(tmp_path):
    import_seed()
    make_claim(text="A draft claim.")
    first = export(tmp_path / "first")
    empty_the_archive()
    call_command("import_dataset", str(first), stdout=io.StringIO())
    second = export(tmp_path / "second")
    assert csv_files(second) == csv_files(first)


def test_a_zip_holds_the_package_in_one_folder(tmp_path):
    import_seed()
    export(tmp_path / "parley-2026.zip", "--all")
    with zipfile.ZipFile(tmp_path / "parley-2026.zip") as archive:
        names = set(archive.namelist())
        assert names == {f"parley-2026/{table.file_name}" for table in TABLES} | {
            "parley-2026/datapackage.json"
        }
        assert archive.read("parley-2026/claims.csv") == (SEED / "claims.csv").read_bytes()


def test_the_public_dataset_holds_only_published_records_and_no_editorial_columns(tmp_path):
    draft_round = make_round(title="Secret round")
    public_claim = make_claim(text="Published claim.", round=draft_round, publication_status=PUBLISHED)
    make_claim(text="Draft claim.")
    article = make_article(
        headline="Public article", body="full text", notes="internal", publication_status=PUBLISHED
    )
    make_citation(claim=public_claim, article=article, quote="text")
    make_citation(claim=public_claim, article=make_article(headline="Draft article"), quote="draft")
    make_issue(name="Draft issue")
    folder = export(tmp_path / "public")

    claims = read_rows(folder / "claims.csv")
    assert claims[0] == [column.name for column in CLAIMS.public_columns()]
    assert [row[1] for row in claims[1:]] == ["Published claim."]
    assert claims[1][claims[0].index("round")] == ""  # the draft round is not named
    assert read_rows(folder / "rounds.csv")[1:] == []
    assert read_rows(folder / "issues.csv")[1:] == []
    articles = read_rows(folder / "articles.csv")
    assert "body" not in articles[0] and "notes" not in articles[0]
    assert [row[1] for row in articles[1:]] == ["Public article"]
    assert len(read_rows(folder / "citations.csv")) == 2
    assert not any("Secret round" in path.read_text() for path in folder.glob("*"))


def test_the_descriptor_describes_every_table_its_keys_licence_and_how_to_cite_it(tmp_path):
    import_seed()
    folder = export(tmp_path / "package")
    descriptor = json.loads((folder / "datapackage.json").read_text())
    assert descriptor["name"] == "parley"
    assert descriptor["licenses"][0]["name"] == "CC-BY-4.0"
    assert descriptor["version"].startswith("live-") and descriptor["created"]
    assert "not a release: cite a release" in descriptor["citation"]
    resources = {resource["name"]: resource for resource in descriptor["resources"]}
    assert list(resources) == [table.name for table in TABLES]
    for table in TABLES:
        header = read_rows(folder / table.file_name)[0]
        schema = resources[table.name]["schema"]
        assert [field["name"] for field in schema["fields"]] == header
        assert schema["primaryKey"] == list(table.primary_key)
    memberships = resources["memberships"]["schema"]
    assert {
        "fields": ["round", "party"],
        "reference": {"resource": "delegations", "fields": ["round", "party"]},
    } in (memberships["foreignKeys"])
    stance = next(f for f in resources["citations"]["schema"]["fields"] if f["name"] == "stance")
    assert stance["constraints"]["enum"] == ["supports", "disputes", "mentions"]


@pytest.mark.parametrize("scope", [[], ["--all"]], ids=["public", "all"])
def test_the_package_passes_frictionless_validation(tmp_path, scope):
    import_seed()
    folder = export(tmp_path / "package", *scope)
    report = validate(str(folder / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_frictionless_finds_a_broken_reference_so_the_validation_above_means_something(tmp_path):
    import_seed()
    folder = export(tmp_path / "package")
    rows = read_rows(folder / "citations.csv")
    rows[1][1] = "no-such-article"
    with open(folder / "citations.csv", "w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)
    assert not validate(str(folder / "datapackage.json")).valid
