"""/downloads/: the codebook, the full dataset as a data package zip, and the per-list downloads."""

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Max
from django.http import FileResponse
from django.shortcuts import render
from django.utils import timezone

from talks.dataset.export import LICENSE, PACKAGE_TITLE, columns_for, write_package
from talks.dataset.tables import EXPORTS, TABLES


def archive_fingerprint() -> str:
    """Changes whenever any record is added, edited or deleted: names the cached dataset file."""
    state = []
    for table in TABLES:
        model = table.model
        if hasattr(model, "updated_at"):
            state.append(model._default_manager.aggregate(n=Count("pk"), latest=Max("updated_at")))
        else:
            state.append(model._default_manager.aggregate(n=Count("pk"), latest=Max("pk")))
    return hashlib.sha256(json.dumps(state, default=str).encode()).hexdigest()[:16]


def dataset_zip() -> Path:
    """The public data package as a zip, built once per state of the archive and kept on disk."""
    folder = Path(settings.DOWNLOADS_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"parley-dataset-{archive_fingerprint()}.zip"
    if not path.exists():
        # Built beside its final name and renamed, so a concurrent request never sees half a file.
        with tempfile.TemporaryDirectory(dir=folder) as workspace:
            partial = Path(workspace) / "parley-dataset.zip"
            write_package(partial, everything=False)
            os.replace(partial, path)
        for old in folder.glob("parley-dataset-*.zip"):
            if old != path:
                old.unlink(missing_ok=True)
    return path


def package_facts(path: Path) -> dict:
    with zipfile.ZipFile(path) as archive:
        descriptor_name = next(name for name in archive.namelist() if name.endswith("datapackage.json"))
        descriptor = json.loads(archive.read(descriptor_name))
    return {"version": descriptor["version"], "created": descriptor["created"], "size": path.stat().st_size}


def downloads(request):
    facts = package_facts(dataset_zip())
    context = {
        "package": facts,
        "license": LICENSE,
        "title": PACKAGE_TITLE,
        "today": timezone.localdate(),
        "page_url": request.build_absolute_uri(),
        "tables": [(table, columns_for(table, everything=False)) for table in TABLES],
        "exports": EXPORTS,
    }
    return render(request, "talks/downloads.html", context)


def dataset_download(request):
    path = dataset_zip()
    name = f"parley-dataset-{timezone.localdate().isoformat()}.zip"
    return FileResponse(open(path, "rb"), as_attachment=True, filename=name, content_type="application/zip")
