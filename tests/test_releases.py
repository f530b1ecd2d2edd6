"""Releases: frozen, citable packages of the published archive, cut by chief editors and kept for ever."""

import csv
import datetime
import hashlib
import io
import json
import threading
import zipfile
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from frictionless import validate

from talks import releases
from talks.models import Claim, Release
from tests.builders import PUBLISHED, make_article, make_citation, make_claim, make_public_claim

SITE = "https://parley.example.org"
A_DAY = datetime.datetime(2026, 12, 3, 9, 30, tzinfo=datetime.UTC)


def cut(**options) -> Release:
    return releases.cut_release(site_url=SITE, **options)


def unpacked(release: Release, folder: Path) -> Path:
    with zipfile.ZipFile(releases.release_file(release)) as archive:
        archive.extractall(folder)
    return folder / release.file_name.removesuffix(".zip")


def keys_in(folder: Path, file_name: str, column: str = "key") -> list[str]:
    with open(folder / file_name, encoding="utf-8", newline="") as file:
        return [row[column] for row in csv.DictReader(file)]


@pytest.mark.django_db
def test_two_releases_cut_on_one_day_get_different_versions_and_both_files_are_kept():
    make_public_claim()
    first = cut(now=A_DAY)
    second = cut(now=A_DAY + datetime.timedelta(hours=3))
    assert (first.version, second.version) == ("2026.12.03.1", "2026.12.03.2")
    assert releases.release_file(first).is_file() and releases.release_file(second).is_file()
    assert second.previous == first and Release.objects.first() == second


@pytest.mark.django_db
def test_a_release_validates_with_frictionless_and_every_checksum_matches(tmp_path):
    make_public_claim()
    release = cut()
    zipped = releases.release_file(release).read_bytes()
    assert hashlib.sha256(zipped).hexdigest() == release.sha256 and len(zipped) == release.size
    folder = unpacked(release, tmp_path)
    report = validate(folder / "datapackage.json")
    assert report.valid, report.flatten(["type", "note"])
    sums = (folder / "SHA256SUMS").read_text().splitlines()
    listed = {line.split("  ")[1]: line.split("  ")[0] for line in sums}
    assert set(listed) == {path.name for path in folder.iterdir()} - {"SHA256SUMS"}
    for name, digest in listed.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    descriptor = json.loads((folder / "datapackage.json").read_text())
    assert descriptor["version"] == release.version
    for resource in descriptor["resources"]:
        data = (folder / resource["path"]).read_bytes()
        assert resource["hash"] == f"sha256:{hashlib.sha256(data).hexdigest()}"
        assert resource["bytes"] == len(data)


@pytest.mark.django_db
def test_frictionless_notices_a_table_file_changed_after_the_release(tmp_path):
    make_public_claim()
    folder = unpacked(cut(), tmp_path)
    claims = folder / "claims.csv"
    claims.write_text(claims.read_text().replace("Something was said", "Something else was said"))
    report = validate(folder / "datapackage.json")
    assert not report.valid and ["hash-count"] in report.flatten(["type"])


@pytest.mark.django_db
def test_the_changelog_lists_records_added_changed_and_withdrawn_between_releases(tmp_path):
    kept, corrected, withdrawn = make_public_claim(), make_public_claim(), make_public_claim()
    first = cut(now=A_DAY)
    corrected.text = "Corrected wording of what was said."
    corrected.save()
    withdrawn.publication_status = "withdrawn"
    withdrawn.withdrawal_reason = "The quote was misattributed."
    withdrawn.save()
    added = make_public_claim()
    second = cut(now=A_DAY + datetime.timedelta(hours=1))

    claims = second.changelog["tables"]["claims"]
    assert second.changelog["previous"] == first.version
    assert claims["added"] == {"count": 1, "keys": [added.key]}
    assert claims["changed"] == {"count": 1, "keys": [corrected.key]}
    assert claims["withdrawn"] == {"count": 1, "keys": [withdrawn.key]}
    assert kept.key not in json.dumps(second.changelog)
    folder = unpacked(second, tmp_path)
    full = json.loads((folder / "changelog.json").read_text())
    assert full["previous"] == first.version and full["tables"]["claims"]["withdrawn"] == [withdrawn.key]
    assert f"- {withdrawn.key}" in (folder / "CHANGELOG.md").read_text()
    # The withdrawn claim's citations left with it: links are removed, not withdrawn.
    assert full["tables"]["citations"]["removed"] and not full["tables"]["citations"]["withdrawn"]


@pytest.mark.django_db
def test_a_deleted_record_is_removed_in_the_changelog_not_withdrawn():
    deleted = make_public_claim()
    cut(now=A_DAY)
    key = deleted.key
    deleted.delete()
    second = cut(now=A_DAY + datetime.timedelta(hours=1))
    assert second.changelog["tables"]["claims"] == {"removed": {"count": 1, "keys": [key]}}


@pytest.mark.django_db
def test_a_draft_never_appears_in_a_release_or_its_changelog(tmp_path):
    public = make_public_claim()
    draft = make_claim(text="A draft no reader may see.", round=public.round)
    make_citation(claim=draft, article=make_article(publication_status=PUBLISHED), quote="secret words")
    release = cut()
    folder = unpacked(release, tmp_path)
    assert keys_in(folder, "claims.csv") == [public.key]
    everything = b"".join(path.read_bytes() for path in folder.iterdir())
    assert b"A draft no reader may see" not in everything and b"secret words" not in everything
    assert draft.key.encode() not in everything and draft.key not in json.dumps(release.changelog)


@pytest.mark.django_db
def test_citation_cff_names_the_dataset_its_version_date_and_permanent_address(tmp_path):
    make_public_claim()
    release = cut(now=A_DAY)
    cff = yaml.safe_load((unpacked(release, tmp_path) / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "dataset"
    assert cff["version"] == "2026.12.03.1" and cff["date-released"] == datetime.date(2026, 12, 3)
    assert cff["url"] == f"{SITE}/releases/2026.12.03.1/"
    assert cff["repository-artifact"] == f"{SITE}/releases/2026.12.03.1/parley-2026.12.03.1.zip"
    assert cff["license"] == "CC-BY-4.0" and cff["authors"] == [{"name": "Parley"}]


@pytest.mark.django_db
def test_a_release_imports_back_into_an_empty_archive(tmp_path):
    from tests.packages import archive_state, empty_the_archive

    make_public_claim()
    folder = unpacked(cut(), tmp_path)
    before = sorted(Claim.objects.values_list("key", "text"))
    empty_the_archive()
    call_command("import_dataset", str(folder), stdout=io.StringIO())
    assert sorted(Claim.objects.values_list("key", "text")) == before
    assert archive_state()["Claim"]


@pytest.mark.django_db
def test_a_release_is_refused_when_the_previous_releases_file_is_missing():
    make_public_claim()
    first = cut(now=A_DAY)
    releases.release_file(first).unlink()
    with pytest.raises(releases.ReleaseError, match="Restore the releases folder"):
        cut(now=A_DAY + datetime.timedelta(hours=1))
    assert list(Release.objects.all()) == [first]


@pytest.mark.django_db
def test_a_version_whose_file_exists_is_never_given_again_even_to_a_restored_database():
    make_public_claim()
    first = cut(now=A_DAY)
    released = releases.release_file(first).read_bytes()
    Release.objects.all().delete()  # the database restored from a backup older than the release
    second = cut(now=A_DAY + datetime.timedelta(hours=1))
    assert second.version == "2026.12.03.2"
    assert releases.release_file(first).read_bytes() == released


@pytest.mark.django_db
def test_a_release_is_refused_when_the_previous_releases_file_is_not_the_one_released():
    make_public_claim()
    first = cut(now=A_DAY)
    with open(releases.release_file(first), "r+b") as damaged:
        damaged.truncate(100)
    with pytest.raises(releases.ReleaseError, match="is not the file released"):
        cut(now=A_DAY + datetime.timedelta(hours=1))
    assert list(Release.objects.all()) == [first]


@pytest.mark.django_db
def test_a_file_inside_a_damaged_release_answers_404_not_500(client):
    make_public_claim()
    release = cut()
    with open(releases.release_file(release), "r+b") as damaged:
        damaged.truncate(100)
    response = client.get(reverse("release_download", args=[release.version, "CITATION.cff"]))
    assert response.status_code == 404


@pytest.mark.django_db
def test_the_first_release_of_an_empty_archive_says_so(client):
    release = cut()
    html = client.get(release.get_absolute_url()).content.decode()
    assert "The first release, of an archive with no published record yet." in html
    assert "None" not in html


@pytest.mark.django_db
def test_the_releases_page_lists_every_release_newest_first_with_size_checksum_and_changes(client):
    make_public_claim()
    first = cut(now=A_DAY)
    make_public_claim()
    second = cut(now=A_DAY + datetime.timedelta(days=1))
    html = client.get(reverse("release_list")).content.decode()
    assert html.index(second.version) < html.index(first.version)
    assert first.sha256 in html and second.sha256 in html
    assert reverse("release_download", args=[second.version, second.file_name]) in html
    assert "nothing: the first release" in html
    assert f'against release <a href="{first.get_absolute_url()}">{first.version}</a>' in html


@pytest.mark.django_db
def test_a_release_has_a_permanent_page_and_its_files_download_unchanged(client):
    make_public_claim()
    release = cut()
    page = client.get(release.get_absolute_url())
    html = page.content.decode()
    assert page.status_code == 200 and release.sha256 in html
    title = "Parley: the open archive of peace-talk rounds"
    assert f"{title}. Dataset, version {release.version}, released" in html
    download = client.get(reverse("release_download", args=[release.version, release.file_name]))
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    assert "immutable" in download["Cache-Control"]
    body = b"".join(download.streaming_content)
    assert hashlib.sha256(body).hexdigest() == release.sha256
    cff = client.get(reverse("release_download", args=[release.version, "CITATION.cff"]))
    assert cff.status_code == 200 and release.version in cff.content.decode()
    changelog = client.get(reverse("release_download", args=[release.version, "changelog.json"]))
    assert json.loads(changelog.content)["version"] == release.version


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/releases/2099.01.01.1/",
        "/releases/2099.01.01.1/parley-2099.01.01.1.zip",
        "/releases/%00/",
        "/releases/../etc/",
    ],
)
def test_unknown_releases_and_files_answer_404(client, path):
    assert client.get(path).status_code in (400, 404)


@pytest.mark.django_db
def test_a_release_offers_only_its_own_files(client):
    make_public_claim()
    release = cut()
    for name in ["claims.csv", "../settings.py", "parley-2026.01.01.1.zip"]:
        assert client.get(f"{release.get_absolute_url()}{name}").status_code == 404


@pytest.mark.django_db
def test_a_missing_release_file_answers_404_saying_so(client):
    make_public_claim()
    release = cut()
    releases.release_file(release).unlink()
    response = client.get(reverse("release_download", args=[release.version, release.file_name]))
    assert response.status_code == 404


@pytest.mark.django_db
def test_downloads_offers_the_latest_release_and_the_live_export_and_says_how_they_differ(client):
    make_public_claim()
    html = client.get(reverse("downloads")).content.decode()
    assert "No release has been cut yet" in html
    release = cut()
    html = client.get(reverse("downloads")).content.decode()
    assert f"Download release {release.version}" in html and release.sha256 in html
    assert "Download the live export" in html and "How it differs from a release" in html
    assert f'href="{reverse("api:docs")}"' in html


def test_a_chief_editor_cuts_a_release_in_the_admin(chief_client, settings):
    make_public_claim()
    changelist = chief_client.get(reverse("admin:talks_release_changelist")).content.decode()
    assert reverse("admin:talks_release_cut") in changelist
    response = chief_client.post(reverse("admin:talks_release_cut"), {"notes": "For the Geneva paper."})
    assert response.status_code == 302
    release = Release.objects.get()
    assert release.notes == "For the Geneva paper." and release.cut_by.username == "charles"
    cff = (
        zipfile.ZipFile(releases.release_file(release))
        .read(f"parley-{release.version}/CITATION.cff")
        .decode()
    )
    assert f"http://testserver/releases/{release.version}/" in cff


def test_an_editor_may_see_releases_but_not_cut_one(editor_client):
    changelist = editor_client.get(reverse("admin:talks_release_changelist"))
    assert changelist.status_code == 200
    assert reverse("admin:talks_release_cut") not in changelist.content.decode()
    assert editor_client.post(reverse("admin:talks_release_cut"), {"notes": ""}).status_code == 403
    assert not Release.objects.exists()


def test_the_admin_form_says_why_a_release_cannot_be_cut(chief_client):
    make_public_claim()
    first = cut()
    releases.release_file(first).unlink()
    response = chief_client.post(reverse("admin:talks_release_cut"), {"notes": ""})
    assert response.status_code == 200 and "Restore the releases folder" in response.content.decode()
    assert Release.objects.count() == 1


@pytest.mark.django_db
def test_the_command_cuts_a_release_and_needs_the_sites_address(settings):
    make_public_claim()
    settings.SITE_URL = ""
    with pytest.raises(CommandError, match="--site-url"):
        call_command("cut_release", stdout=io.StringIO())
    out = io.StringIO()
    call_command("cut_release", "--site-url", SITE, "--notes", "Monthly.", stdout=out)
    release = Release.objects.get()
    assert f"Release {release.version}" in out.getvalue() and "first release" in out.getvalue()
    assert release.notes == "Monthly."


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers are PostgreSQL's")
def test_a_release_reads_one_snapshot_while_editors_write(monkeypatch, tmp_path):
    """A claim and its citation published while the release is being written are in neither of its
    tables: read table by table, its citation would be in the release without its claim."""
    article = make_article(publication_status=PUBLISHED)
    make_public_claim()
    written = threading.Event()
    original = releases.write_package

    def write_while_an_editor_publishes(folder, **kwargs):
        from talks.dataset import export

        tables = export.table_rows

        def rows(table, everything=False):
            if table.name == "citations" and not written.is_set():

                def publish():
                    try:
                        claim = make_claim(text="Published during the release.", publication_status=PUBLISHED)
                        make_citation(claim=claim, article=article, quote="during")
                    finally:
                        connection.close()
                        written.set()

                threading.Thread(target=publish).start()
                assert written.wait(30)
            return tables(table, everything)

        monkeypatch.setattr(export, "table_rows", rows)
        return original(folder, **kwargs)

    monkeypatch.setattr(releases, "write_package", write_while_an_editor_publishes)
    release = cut()
    assert Claim.objects.filter(text="Published during the release.").exists()
    folder = unpacked(release, tmp_path)
    assert validate(folder / "datapackage.json").valid
    assert b"during" not in (folder / "citations.csv").read_bytes()
    assert release.record_counts["claims"] == 1


@pytest.mark.django_db(transaction=True)
def test_a_release_cut_outside_any_transaction_reads_in_its_own_and_leaves_none_open(tmp_path):
    make_public_claim()
    release = cut()
    assert not connection.in_atomic_block and connection.get_autocommit()
    make_public_claim()  # writing works at once: no transaction was left open
    assert validate(unpacked(release, tmp_path) / "datapackage.json").valid
