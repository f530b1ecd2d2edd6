"""A server process's first request to each kind of page, made by the process itself at start.

The first time a process serves a page it compiles its templates, fills Django's URL and query
caches, and (on PostgreSQL) its database connection loads the tables' descriptions. That makes the
first round, issue or claim-list page a process serves slower than the rest, and with few workers
those first requests would be most of each page kind's slowest. So the process serves its first
requests to itself before it takes readers' (config/wsgi.py), as App Engine's warm-up requests do.
"""

import io
import logging
import sys
from urllib.parse import urlsplit

from django.conf import settings
from django.db import DatabaseError
from django.urls import reverse

from sources.models import SourceArticle
from talks.models import Claim, Issue, Participant, Round

logger = logging.getLogger(__name__)

LIST_PAGES = ("home", "round_list", "issue_list", "participant_list", "source_list", "claim_list")
RECORD_KINDS = (Round, Issue, Participant, SourceArticle, Claim)


def warm_paths() -> list[str]:
    """The home page, each list, a search, the API's claims, and the page of one published record
    of each kind, with a claim's embedded card."""
    paths = [reverse(name) for name in LIST_PAGES]
    paths += [reverse("claim_list") + "?kind=demand", reverse("search") + "?q=talks"]
    paths.append(reverse("api:claim-list"))
    for model in RECORD_KINDS:
        record = model.objects.published().order_by("pk").first()
        if record is not None:
            paths.append(record.get_absolute_url())
            if model is Claim:
                paths.append(reverse("claim_embed", args=[record.pk]))
    return paths


def allowed_host() -> str:
    """A host name the site answers to: its first allowed host, without a wildcard."""
    for host in settings.ALLOWED_HOSTS:
        if host not in ("*", ".") and not host.startswith("*"):
            return host.lstrip(".")
    return "localhost"  # allowed with an empty list when debugging, and matched by "*"


def request_environ(path: str, host: str) -> dict:
    """A WSGI request for the path, as if it came over HTTPS: a site that redirects plain HTTP would
    otherwise answer with a redirect and render nothing."""
    parts = urlsplit(path)
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": parts.path,
        "QUERY_STRING": parts.query,
        "SERVER_NAME": host,
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def warm_pages(application) -> list[tuple[str, str]]:
    """Serve each of `warm_paths()` once through `application`; (path, status) of each. A database
    that is down or not yet migrated is left for the first reader to meet, as a page that does not
    answer 200 is, which is logged."""
    try:
        paths = warm_paths()
    except DatabaseError as error:
        logger.warning("No pages were served at start: %s", error)
        return []
    host, served = allowed_host(), []
    for path in paths:
        status = served_status(application, request_environ(path, host))
        served.append((path, status))
        if not status.startswith("200"):
            logger.warning("Served %s at start: %s", path, status)
    return served


def served_status(application, environ: dict) -> str:
    """The status of the application's answer, rendered in full and sent nowhere."""
    statuses = []
    response = application(environ, lambda status, headers, *exc_info: statuses.append(status))
    try:
        for _ in response:
            pass
    finally:
        response.close()
    return statuses[0]
