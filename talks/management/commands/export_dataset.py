from pathlib import Path

from django.core.management.base import BaseCommand

from talks.dataset.export import write_package


class Command(BaseCommand):
    help = (
        "Write the archive as a Frictionless data package: one CSV per table and datapackage.json, "
        "into the folder PATH, or into a zip when PATH ends in .zip. Only published records, unless --all."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="A folder, or a file name ending in .zip.")
        parser.add_argument(
            "--all",
            action="store_true",
            dest="everything",
            help="Include drafts and editorial columns (article texts, editors' notes). "
            "For backups; never publish.",
        )

    def handle(self, path, everything, **options):
        counts = write_package(path, everything=everything)
        scope = "every record" if everything else "published records"
        total = sum(counts.values())
        self.stdout.write(f"Wrote {total} rows of {scope} to {path}:")
        for table, count in counts.items():
            self.stdout.write(f"  {table}: {count}")
