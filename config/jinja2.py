"""Jinja2, for the things public pages repeat most: claims with their references, the issue page's
table of positions, a round's cited sources (templates/jinja2), and form widgets.

A round page shows dozens of claims, each with its citations, and in Django's template language they
are most of such a page's work. Jinja2 compiles a template to Python and renders the same claims far
more cheaply. The fragments use Django's own filters, so their output reads the same. Page templates
stay in Django's language.
"""

from pathlib import Path

import django.forms
from django.conf import settings
from django.forms.renderers import Jinja2 as Jinja2Renderer
from django.template.defaultfilters import date, pluralize
from django.utils.functional import cached_property
from jinja2 import Environment, StrictUndefined


def environment(**options) -> Environment:
    # A name the fragment misspells fails loudly in the tests instead of rendering as empty text.
    env = Environment(**{**options, "undefined": StrictUndefined})
    env.filters["date"] = date
    env.filters["pluralize"] = pluralize
    return env


class PublicFormRenderer(Jinja2Renderer):
    """Renders the public filter forms' widgets with Jinja2: Django's own widget templates in their
    Jinja2 versions, and ours (templates/jinja2) for django-filter's range widget, which has none.
    Django's template language renders each of a drop-down's options as a template of its own.
    The admin keeps Django's default renderer, which finds the admin's own widget templates."""

    @cached_property
    def engine(self):
        return self.backend(
            {
                "APP_DIRS": False,
                "DIRS": [
                    Path(django.forms.__file__).parent / "jinja2",
                    settings.BASE_DIR / "templates" / "jinja2",
                ],
                "NAME": "publicforms",
                "OPTIONS": {},
            }
        )
