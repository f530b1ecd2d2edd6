from django.core.management.base import BaseCommand

from talks.roles import CHIEF_EDITORS, EDITORS, set_up_roles


class Command(BaseCommand):
    help = (
        "Create or update the two editorial roles. Editors add, change and view every archive record and "
        "its history, but cannot publish, withdraw or delete. Chief editors can also publish, withdraw "
        "and delete. Neither manages users. Members of either role may log in to the admin. Safe to "
        "run again."
    )

    def handle(self, **options):
        editors, chiefs = set_up_roles()
        self.stdout.write(
            f"{EDITORS}: {editors.permissions.count()} permissions; "
            f"{CHIEF_EDITORS}: {chiefs.permissions.count()} permissions."
        )
