"""WSGI entry point: `config.wsgi:application`."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.db import connections
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

from config.warmup import warm_pages  # noqa: E402 (needs the apps that get_wsgi_application loads)
from talks.lists import warm_list_indexes  # noqa: E402

# Load the URL conf now instead of at the first request, then take everything loaded so far (the
# many objects that live as long as the process) out of the garbage collector's full passes, which
# would otherwise traverse them all in the middle of whichever request set one off; see gc.freeze().
get_resolver().url_patterns  # noqa: B018 (loads the URL conf)
# Each list's in-memory counts too (talks/list_index.py), which its first readers would otherwise wait for.
warm_list_indexes()
# And its first request to each kind of page, which compiles templates and fills caches (config/warmup.py).
warm_pages(application)
# Readers are served by other threads: the start's connection goes back to the pool (PostgreSQL),
# where it would otherwise stay taken for the life of the process, or is closed (SQLite).
connections.close_all()
gc.freeze()
