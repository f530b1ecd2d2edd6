from django.core.management.base import BaseCommand, CommandError

from talks import tallies


class Command(BaseCommand):
    help = (
        "Recount the stored counts of published records that lists, facets and the home page show. "
        "Saves keep them current; run this after writing to the database around Django (raw SQL, "
        "bulk loads). --check only compares them with a fresh count and fails when they differ."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Compare only; exit 1 when stale.")

    def handle(self, check, **options):
        if check:
            stale = tallies.stale_dimensions()
            if stale:
                raise CommandError(f"Stale counts: {', '.join(stale)}. Run refresh_tallies to recount.")
            self.stdout.write("Stored counts agree with the records.")
            return
        tallies.refresh_all()
        self.stdout.write(f"Recounted {len(tallies.DIMENSIONS)} kinds of count.")
