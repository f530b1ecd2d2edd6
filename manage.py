#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
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
