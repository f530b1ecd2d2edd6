import zipfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sources.models import SourceArticle
from talks.dataset.load import import_package
from talks.dataset.tables import TABLES
from talks.models import Claim, Round


class Command(BaseCommand):
    help = (
        "Import a Parley data package (a folder or a .zip of CSV files). Every row is checked first; any "
        "problem is printed as file:line: column: message and nothing is changed. Rows are matched on "
        "their keys, so importing again updates instead of duplicating; records the package does not "
        "mention are left alone."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="The package folder, or its .zip.")
        parser.add_argument("--dry-run", action="store_true", help="Check and report, but change nothing.")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Import only into an empty archive (no rounds, claims or articles); used to load the seed.",
        )

    def handle(self, path, dry_run, if_empty, **options):
        if not path.exists():
            raise CommandError(f"{path}: no such folder or file")
        if if_empty and (Round.objects.exists() or Claim.objects.exists() or SourceArticle.objects.exists()):
            self.stdout.write("The archive already holds records; nothing imported.")
            return
        try:
            result = import_package(path, dry_run=dry_run)
        except (OSError, ValueError, zipfile.BadZipFile) as error:
            raise CommandError(f"{path}: {error}") from error
        if not result.ok:
            for problem in result.problems:
                self.stderr.write(str(problem))
            count = len(result.problems)
            raise CommandError(f"{count} problem{'s' if count != 1 else ''} found; nothing was changed.")
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(f"{verb} {path}{' (dry run: nothing changed)' if dry_run else ''}:")
        for table in [table.name for table in TABLES]:
            self.stdout.write(
                f"  {table}: {result.created[table]} new, {result.updated[table]} updated, "
                f"{result.unchanged[table]} unchanged"
            )
