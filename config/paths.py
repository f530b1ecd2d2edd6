"""Paths of named URLs, reversed once per process.

Reversing a URL checks its arguments against the pattern every time, and a page that links hundreds
of records (a round's) would repeat that check for each link. A path depends only on the URL conf,
the script prefix, the name and the arguments, and the URL patterns do not change while the process
runs (the tests that swap them clear the cache). Records' get_absolute_url() and the Jinja2
fragments (talks/templatetags/parley.py) use it.
"""

import functools

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse


def path_to(name: str, *args) -> str:
    """The path of a named URL, as `{% url name arg %}` gives it."""
    return reversed_path(get_urlconf(), get_script_prefix(), name, args)


def paths_for_this_request():
    """`path_to` with the request's URL conf and script prefix read once, for a fragment that links
    many records (each read is a context-local lookup)."""
    urlconf, script_prefix = get_urlconf(), get_script_prefix()
    return lambda name, *args: reversed_path(urlconf, script_prefix, name, args)


@functools.lru_cache(maxsize=50_000)
def reversed_path(urlconf, script_prefix, name, args) -> str:
    return reverse(name, args=args, urlconf=urlconf)


@receiver(setting_changed)
def forget_paths(setting, **kwargs):
    if setting == "ROOT_URLCONF":
        reversed_path.cache_clear()
