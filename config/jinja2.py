"""The Jinja2 environment for the one fragment Parley renders with Jinja2: a claim with its references.

A round page shows about sixty claims, each with its citations, and Django's template language spent
most of such a page's time on them (70 ms of 85 on the demo archive). Jinja2 compiles a template to
Python and renders the same claims in a third of the time. Every other template stays in Django's
language; the fragment uses Django's own filters, so its output reads the same.
"""

from django.template.defaultfilters import date, pluralize
from django.urls import reverse
from jinja2 import Environment, StrictUndefined


def url(name: str, *args) -> str:
    """The path of a named URL, as `{% url name arg %}` gives it."""
    return reverse(name, args=args)


def environment(**options) -> Environment:
    # A name the fragment misspells fails loudly in the tests instead of rendering as empty text.
    env = Environment(**{**options, "undefined": StrictUndefined})
    env.globals["url"] = url
    env.filters["date"] = date
    env.filters["pluralize"] = pluralize
    return env
