"""/downloads/: the codebook, the full dataset as a data package zip, and the per-list downloads."""

import json
import logging
import os
import secrets
import tempfile
import zipfile
from pathlib import Path

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from talks import releases
from talks.dataset.export import LICENSE, PACKAGE_TITLE, columns_for, live_version, write_package
from talks.dataset.state import dataset_token
from talks.dataset.tables import EXPORTS, TABLES
from talks.filters import parameter_names
from talks.models import Release

logger = logging.getLogger(__name__)


def package_path(token: str | None) -> Path:
    """Where the package of the archive's state `token` is, or will be, kept. Without a token (the
    triggers not installed: run `migrate`) every download builds a package of its own."""
    token = token or f"untracked-{secrets.token_hex(8)}"
    return Path(settings.DOWNLOADS_DIR) / f"parley-dataset-{token}.zip"


def open_dataset_zip():
    """The public data package as a zip, built once per state of the archive and kept on disk, open
    for reading: an open file stays readable when another request replaces it with a newer state's.

    The first download after a change waits for the build, which reads every table of the archive;
    the next ones are served from the file."""
    token = dataset_token()
    path = package_path(token)
    try:
        return open(path, "rb")  # noqa: SIM115 - the response closes it
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    # Built beside its final name and renamed, so a concurrent request never sees half a file.
    with tempfile.TemporaryDirectory(dir=path.parent) as workspace:
        partial = Path(workspace) / "parley-dataset.zip"
        write_package(partial, everything=False, version=live_version(token))
        built = open(partial, "rb")  # noqa: SIM115 - the response closes it
        os.replace(partial, path)
    for old in path.parent.glob("parley-dataset-*.zip"):
        if old != path:
            old.unlink(missing_ok=True)
    return built


def package_facts(path: Path) -> dict | None:
    """Version, creation time and size of the package at `path`, or None if there is none."""
    try:
        with zipfile.ZipFile(path) as archive:
            descriptor_name = next(name for name in archive.namelist() if name.endswith("datapackage.json"))
            descriptor = json.loads(archive.read(descriptor_name))
            size = path.stat().st_size
    except FileNotFoundError:  # not built yet, or just replaced by a newer state's
        return None
    return {"version": descriptor["version"], "created": descriptor["created"], "size": size}


def downloads(request):
    """The page never builds the package, which reads the whole archive: it describes the built
    one when it holds the archive as it is, and otherwise says the download will build it."""
    token = dataset_token()
    package = package_facts(package_path(token))
    latest = releases.latest_release()
    context = {
        "package": package,
        "version": package["version"] if package else live_version(token),
        "latest_release": latest,
        "release_citation": releases.citation_text(latest, request.build_absolute_uri("/")) if latest else "",
        "license": LICENSE,
        "title": PACKAGE_TITLE,
        "today": timezone.localdate(),
        "page_url": request.build_absolute_uri(),
        "tables": [(table, columns_for(table, everything=False)) for table in TABLES],
        "exports": EXPORTS,
        "list_parameters": list_parameters(),
    }
    return render(request, "talks/downloads.html", context)


def list_parameters() -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Each list's query parameters, read from its filters: (list, [(parameter, label, values)])."""
    from talks.exports import DOWNLOAD_PARAMETERS
    from talks.list_specs import LISTS

    lists = []
    for name, spec in LISTS.items():
        filterset_class = spec.filterset
        fields = filterset_class(queryset=filterset_class.base_queryset()).form.fields
        rows = [
            (", ".join(parameter_names(field_name, field)), str(field.label or field_name), values_of(field))
            for field_name, field in fields.items()
        ]
        rows += [(parameter, label, values) for parameter, (label, values) in DOWNLOAD_PARAMETERS.items()]
        lists.append((name, rows))
    return lists


def values_of(field) -> str:
    """What a filter's parameter takes, in words, without reading the records it chooses among."""
    if isinstance(field, forms.ModelChoiceField):
        return "a key (slug) of a published record"
    if isinstance(field, forms.ChoiceField):
        return ", ".join(str(value) for value, _ in field.choices if value not in ("", None))
    if isinstance(field, forms.MultiValueField):
        return "a date, YYYY-MM-DD"
    if isinstance(field, (forms.IntegerField, forms.DecimalField)):
        return "a whole number"
    return "text"


def dataset_download(request):
    name = f"parley-dataset-{timezone.localdate().isoformat()}.zip"
    return FileResponse(open_dataset_zip(), as_attachment=True, filename=name, content_type="application/zip")


# Files of a release served by name from inside its zip, beside the zip itself.
RELEASE_MEMBERS = {
    "CITATION.cff": "text/plain; charset=utf-8",
    "CHANGELOG.md": "text/markdown; charset=utf-8",
    "changelog.json": "application/json",
    "SHA256SUMS": "text/plain; charset=utf-8",
    "datapackage.json": "application/json",
}
# A release's files never change: caches may keep them for a year without asking again.
FOR_EVER = "public, max-age=31536000, immutable"


def release_list(request):
    page = Paginator(Release.objects.all(), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "talks/release_list.html",
        {"page_obj": page, "releases": page.object_list, "site_url": request.build_absolute_uri("/")[:-1]},
    )


def release_detail(request, version):
    release = get_object_or_404(Release, version=version)
    context = {
        "release": release,
        "site_url": request.build_absolute_uri("/")[:-1],
        "today": timezone.localdate(),
        "members": RELEASE_MEMBERS,
        "citation": releases.citation_text(release, request.build_absolute_uri("/")),
    }
    return render(request, "talks/release_detail.html", context)


def release_file(request, version, file_name):
    """The release's zip, or one of the files in it named in RELEASE_MEMBERS."""
    release = get_object_or_404(Release, version=version)
    if file_name != release.file_name and file_name not in RELEASE_MEMBERS:
        raise Http404("A release has its zip and the files listed on its page, and no other.")
    try:
        archive = open(releases.release_file(release), "rb")  # noqa: SIM115 - the response closes it
    except FileNotFoundError:
        logger.error("The file of release %s is missing from %s", release.version, releases.releases_dir())
        raise Http404(
            "This release's file is missing from the server. Its checksum is on the release's page."
        ) from None
    if file_name == release.file_name:
        response = FileResponse(
            archive, as_attachment=True, filename=file_name, content_type="application/zip"
        )
    else:
        try:
            with archive, zipfile.ZipFile(archive) as package:
                content = package.read(f"{Path(release.file_name).stem}/{file_name}")
        except (zipfile.BadZipFile, KeyError):
            logger.error(
                "The file of release %s is damaged: %s", release.version, releases.release_file(release)
            )
            raise Http404(
                "This release's file is damaged on the server. Its checksum is on the release's page."
            ) from None
        response = HttpResponse(content, content_type=RELEASE_MEMBERS[file_name])
        response["Content-Disposition"] = f'inline; filename="{file_name}"'
    response["Cache-Control"] = FOR_EVER
    response["ETag"] = f'"{release.sha256}-{file_name}"'
    return response
