from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand

EDITORS = "Editors"
CHIEF_EDITORS = "Chief editors"
ARCHIVE_APPS = ("sources", "talks")


def archive_permissions(*actions: str):
    """The permissions for these actions on every archive model (their history included)."""
    models = [model for model in apps.get_models() if model._meta.app_label in ARCHIVE_APPS]
    codenames = [f"{action}_{model._meta.model_name}" for model in models for action in actions]
    return Permission.objects.filter(content_type__app_label__in=ARCHIVE_APPS, codename__in=codenames)


class Command(BaseCommand):
    help = (
        "Create or update the two editorial roles. Editors add, change and view every archive record and "
        "its history, but cannot publish, withdraw or delete. Chief editors can also publish, withdraw "
        "and delete. Neither manages users. Safe to run again."
    )

    def handle(self, **options):
        editors, _ = Group.objects.get_or_create(name=EDITORS)
        editors.permissions.set(archive_permissions("add", "change", "view"))
        chiefs, _ = Group.objects.get_or_create(name=CHIEF_EDITORS)
        chiefs.permissions.set(archive_permissions("add", "change", "view", "delete", "publish"))
        self.stdout.write(
            f"{EDITORS}: {editors.permissions.count()} permissions; "
            f"{CHIEF_EDITORS}: {chiefs.permissions.count()} permissions."
        )
