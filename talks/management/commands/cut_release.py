from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from talks.releases import ReleaseError, cut_release, release_file


class Command(BaseCommand):
    help = (
        "Cut a release: a frozen data package of the published archive, read from one snapshot of the "
        "database, with a version never used before, a changelog against the previous release, "
        "checksums and CITATION.cff. It is kept in RELEASES_DIR and listed at /releases/."
    )

    def add_arguments(self, parser):
        parser.add_argument("--notes", default="", help="Public notes shown with the release.")
        parser.add_argument(
            "--site-url",
            default=settings.SITE_URL,
            help="The site's public address, for the release's permanent URL (default: SITE_URL).",
        )

    def handle(self, notes, site_url, **options):
        if not site_url.startswith(("https://", "http://")):
            raise CommandError(
                "Say where Parley is served, for the release's permanent URL: "
                "--site-url https://parley.example.org, or set SITE_URL."
            )
        try:
            release = cut_release(site_url=site_url, notes=notes)
        except ReleaseError as error:
            raise CommandError(str(error)) from error
        changes = release.changelog["tables"]
        counted = {
            kind: sum(kinds.get(kind, {}).get("count", 0) for kinds in changes.values())
            for kind in ("added", "changed", "withdrawn", "removed")
        }
        self.stdout.write(
            f"Release {release.version}: {release_file(release)} ({release.size} bytes, "
            f"SHA-256 {release.sha256})"
        )
        previous = release.changelog["previous"]
        self.stdout.write(
            f"Against {previous or 'nothing (the first release)'}: "
            + ", ".join(f"{count} {kind}" for kind, count in counted.items())
            + " rows."
        )
