"""/downloads/: the codebook, the full dataset with how to cite it, and the per-list files."""

import datetime
import io
import json
import zipfile

import pandas
import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse
from frictionless import validate

from talks import downloads
from talks.dataset.export import live_version
from talks.dataset.state import dataset_token, package_tables
from talks.dataset.tables import EXPORTS, TABLES
from talks.models import Claim
from tests.builders import make_claim

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded_module")]
PANDAS_TYPES = {"string": "object", "integer": "Int64", "boolean": "boolean"}


def test_the_codebook_documents_every_column_of_every_file_from_the_column_definitions(client):
    html = client.get(reverse("downloads")).content.decode()
    for table in [*EXPORTS, *TABLES]:
        for column in table.columns:
            if column.internal:
                assert (
                    f"<code>{column.name}</code></th><td>"
                    not in html.split(f'id="package-{table.name}"')[1].split("</table>")[0]
                )
                continue
            assert column.description.replace("'", "&#x27;") in html, f"{table.name}.{column.name}"
            if column.choices:
                assert ", ".join(column.choices) in html
    assert 'id="codebook-claims"' in html and 'id="package-citations"' in html


def test_the_page_gives_the_built_datasets_version_date_licence_size_and_a_citation_with_the_access_date(
    client,
):
    b"".join(client.get(reverse("dataset_download")).streaming_content)
    html = client.get(reverse("downloads")).content.decode()
    today = datetime.date.today().isoformat()
    assert f"Live export {live_version(dataset_token())}" in html
    assert f"(accessed {today})" in html and "http://testserver/downloads/" in html
    assert "Creative Commons Attribution 4.0 International" in html and "KB)" in html
    assert "<dt>Created</dt>" in html and "your download builds it" not in html


def test_the_page_never_builds_the_dataset_and_says_a_download_will(client, settings):
    make_claim(text="A change since any package was built.")
    html = client.get(reverse("downloads")).content.decode()
    assert not settings.DOWNLOADS_DIR.exists() or not any(settings.DOWNLOADS_DIR.iterdir())
    assert "your download builds it" in html and "<dt>Created</dt>" not in html
    assert f"Live export {live_version(dataset_token())}" in html


def test_two_live_exports_of_different_states_on_one_day_have_different_versions(client):
    def version_downloaded():
        with zipfile.ZipFile(
            io.BytesIO(b"".join(client.get(reverse("dataset_download")).streaming_content))
        ) as zipped:
            return json.loads(zipped.read("parley-dataset/datapackage.json"))["version"]

    before = version_downloaded()
    make_claim(text="A change between the two downloads.")
    after = version_downloaded()
    assert before != after and before.startswith("live-") and after.startswith("live-")


def downloaded_package(client, tmp_path):
    response = client.get(reverse("dataset_download"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="parley-dataset-')
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        archive.extractall(tmp_path)
    return tmp_path / "parley-dataset"


def test_the_dataset_download_is_the_published_data_package_and_passes_frictionless(client, tmp_path):
    folder = downloaded_package(client, tmp_path)
    report = validate(str(folder / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    header = (folder / "articles.csv").read_text().splitlines()[0]
    assert "body" not in header and "notes" not in header


def test_pandas_reads_every_file_with_its_declared_types(client, tmp_path):
    folder = downloaded_package(client, tmp_path)
    descriptor = json.loads((folder / "datapackage.json").read_text())
    for resource in descriptor["resources"]:
        fields = resource["schema"]["fields"]
        dates = [field["name"] for field in fields if field["type"] == "date"]
        types = {field["name"]: PANDAS_TYPES[field["type"]] for field in fields if field["type"] != "date"}
        frame = pandas.read_csv(
            folder / resource["path"], dtype=types, parse_dates=dates, keep_default_na=False, na_values=[""]
        )
        assert list(frame.columns) == [field["name"] for field in fields]
        for name in dates:
            assert str(frame[name].dtype).startswith("datetime64"), (resource["name"], name)
    rounds = pandas.read_csv(folder / "rounds.csv", dtype={"sequence": "Int64"})
    assert rounds["sequence"].min() >= 1


def test_each_list_download_also_reads_in_pandas_with_its_types(client):
    for export in EXPORTS:
        response = client.get(reverse(f"{export.name}_csv"))
        text = b"".join(response.streaming_content).decode()
        types = {c.name: PANDAS_TYPES[c.type] for c in export.columns if c.type != "date"}
        frame = pandas.read_csv(io.StringIO(text), dtype=types, keep_default_na=False, na_values=[""])
        assert len(frame) > 0, export.name


def built_packages(client, settings) -> list[str]:
    b"".join(client.get(reverse("dataset_download")).streaming_content)
    return sorted(path.name for path in settings.DOWNLOADS_DIR.iterdir())


def test_the_dataset_file_is_kept_while_the_archive_stays_and_rebuilt_when_it_changes(client, settings):
    first = built_packages(client, settings)
    assert built_packages(client, settings) == first
    make_claim(text="A new draft changes the archive.")
    after = built_packages(client, settings)
    assert len(first) == len(after) == 1 and first != after


def test_a_dataset_build_that_loses_the_database_is_a_server_error_and_leaves_no_partial_zip(
    settings, monkeypatch
):
    """The zip is built whole before its response starts, so unlike a list's download it is never
    cut mid-stream: a failed build is an error status, and the next download builds it again."""

    def losing_the_database(path, everything):
        path.write_bytes(b"PK\x03\x04 the start of a zip")
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(downloads, "write_package", losing_the_database)
    response = Client(raise_request_exception=False).get(reverse("dataset_download"))
    assert response.status_code == 500
    assert list(settings.DOWNLOADS_DIR.glob("*.zip")) == []


def test_every_write_to_a_table_of_the_package_moves_its_token_whoever_writes_and_reading_does_not(client):
    quote = connection.ops.quote_name
    for table in package_tables():
        before = dataset_token()
        with connection.cursor() as cursor:  # around Django: no signal, no save()
            first = f"(SELECT MIN(id) FROM {quote(table)})"
            cursor.execute(f"UPDATE {quote(table)} SET id = id WHERE id = {first}")
        assert dataset_token() != before, table
    draft = make_claim(text="A draft to delete.")
    before = dataset_token()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {quote(Claim._meta.db_table)} WHERE id = %s", [draft.pk])
    assert dataset_token() != before
    before = dataset_token()
    for url in [reverse("downloads"), reverse("claim_list"), reverse("claims_csv")]:
        response = client.get(url)
        b"".join(response.streaming_content) if response.streaming else response.content
    assert dataset_token() == before
