"""WSGI entry point: `config.wsgi:application`."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# Load the URL conf now instead of at the first request, then take everything loaded so far (some
# 70,000 objects that live as long as the process) out of the garbage collector's full passes.
# Traversing them paused a request for up to 60 ms every few dozen large pages; see gc.freeze().
get_resolver().url_patterns  # noqa: B018 (loads the URL conf)
gc.freeze()
