"""WSGI entry point: `config.wsgi:application`."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

from talks.lists import warm_list_indexes  # noqa: E402 (needs the apps that get_wsgi_application loads)

# Load the URL conf now instead of at the first request, then take everything loaded so far (some
# 70,000 objects that live as long as the process) out of the garbage collector's full passes.
# Traversing them paused a request for up to 60 ms every few dozen large pages; see gc.freeze().
get_resolver().url_patterns  # noqa: B018 (loads the URL conf)
# Each list's in-memory counts too (talks/list_index.py), which take a second to build at full size.
warm_list_indexes()
gc.freeze()
