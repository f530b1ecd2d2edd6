"""/downloads/: the codebook, the full dataset with how to cite it, and the per-list files."""

import datetime
import io
import json
import zipfile

import pandas
import pytest
from django.urls import reverse
from frictionless import validate

from talks.dataset.tables import EXPORTS, TABLES
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


def test_the_page_gives_the_datasets_version_date_licence_size_and_a_citation_with_the_access_date(client):
    html = client.get(reverse("downloads")).content.decode()
    today = datetime.date.today().isoformat()
    assert f"Dataset version {datetime.date.today():%Y.%m.%d}" in html
    assert f"(accessed {today})" in html and "http://testserver/downloads/" in html
    assert "Creative Commons Attribution 4.0 International" in html and "KB)" in html


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


def test_the_dataset_file_is_rebuilt_when_the_archive_changes(client, tmp_path, settings):
    client.get(reverse("downloads"))
    before = sorted(path.name for path in settings.DOWNLOADS_DIR.iterdir())
    make_claim(text="A new draft changes the archive.")
    client.get(reverse("downloads"))
    after = sorted(path.name for path in settings.DOWNLOADS_DIR.iterdir())
    assert len(before) == len(after) == 1 and before != after
