#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import secrets
import sys

# Commands that read only the code's models: they never serve, sign or store anything with the
# secret key, so checking for a missing migration must not need the production secrets.
KEYLESS_COMMANDS = {"makemigrations"}


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if sys.argv[1:2] and sys.argv[1] in KEYLESS_COMMANDS:
        os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    # Django's runner would swallow a settings refusal and fail later with an unrelated error;
    # say plainly what is wrong instead (for example DJANGO_SECRET_KEY missing with debug off).
    try:
        settings.INSTALLED_APPS  # noqa: B018 - loads the settings
    except ImproperlyConfigured as refusal:
        sys.exit(
            f"Parley cannot start: {refusal}\nFor local development, set DJANGO_DEBUG=1 (make run does)."
        )
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
