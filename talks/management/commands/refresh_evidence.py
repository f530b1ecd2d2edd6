from django.core.management.base import BaseCommand, CommandError

from talks import evidence


class Command(BaseCommand):
    help = (
        "Refresh the values stored on records for the lists: each claim's evidence and listing date, "
        "each person's kinds of public seat. Saves keep them current; run this after writing to the "
        "database around Django (raw SQL). --check only compares them with a fresh reading and fails "
        "when they differ."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Compare only; exit 1 when stale.")

    def handle(self, check, **options):
        if check:
            stale = evidence.stale_values()
            if stale:
                raise CommandError(f"Stale: {', '.join(stale)}. Run refresh_evidence to refresh them.")
            self.stdout.write("Stored values agree with the records.")
            return
        evidence.refresh_all()
        self.stdout.write("Refreshed every claim's evidence and every person's seat roles.")
