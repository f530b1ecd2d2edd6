import getpass
import os

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from talks.roles import CHIEF_EDITORS, EDITORS, set_up_roles

PASSWORD_VARIABLE = "PARLEY_EDITOR_PASSWORD"


class Command(BaseCommand):
    help = (
        "Create an editor's login in one step: the user, their password and their role. Editors write "
        "and correct drafts; with --chief, a chief editor, who also publishes, withdraws and deletes. "
        f"With --noinput the password is read from the {PASSWORD_VARIABLE} environment variable."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--chief", action="store_true", help="A chief editor rather than an editor.")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help=f"Do not prompt: take the password from {PASSWORD_VARIABLE}.",
        )

    def handle(self, username, chief, email, interactive, **options):
        users = get_user_model()
        if users.objects.filter(**{users.USERNAME_FIELD: username}).exists():
            raise CommandError(
                f"A user named “{username}” already exists; change their role in the admin, under Users."
            )
        role = CHIEF_EDITORS if chief else EDITORS
        user = users(**{users.USERNAME_FIELD: username}, email=email)
        password = self.ask_password(user) if interactive else os.environ.get(PASSWORD_VARIABLE, "")
        if not password:
            raise CommandError(f"No password: set {PASSWORD_VARIABLE}, or run without --noinput.")
        try:
            password_validation.validate_password(password, user)
        except ValidationError as error:
            raise CommandError("The password was refused: " + " ".join(error.messages)) from None
        with transaction.atomic():
            set_up_roles()
            user.set_password(password)
            user.save()
            user.groups.add(Group.objects.get(name=role))
        self.stdout.write(f"Created {username}, in {role}: they can now log in to the editors' admin.")

    def ask_password(self, user) -> str:
        while True:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                self.stderr.write("The two passwords differ; try again.")
                continue
            try:
                password_validation.validate_password(password, user)
            except ValidationError as error:
                self.stderr.write(" ".join(error.messages))
                continue
            return password
