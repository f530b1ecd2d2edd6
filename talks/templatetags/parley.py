import json
import re

from django import template
from django.template import engines
from django.utils.html import escape
from django.utils.safestring import mark_safe

from config.paths import paths_for_this_request
from talks import pictures
from talks.models import Citation, Claim, Occurrence, Sourcing

register = template.Library()
KIND_LABELS = dict(Claim.Kind.choices)
STANCE_LABELS = dict(Citation.Stance.choices)
SOURCING_LABELS = dict(Sourcing.choices)
OCCURRENCE_LABELS = dict(Occurrence.choices)


@register.filter
def mark_terms(text, terms):
    """The text, escaped, with each search term marked (case-insensitively, at word starts)."""
    text = str(text or "")
    words = sorted({str(term) for term in terms or [] if term}, key=len, reverse=True)
    if not words:
        return escape(text)
    pattern = re.compile(r"\b(" + "|".join(re.escape(word) for word in words) + r")", re.IGNORECASE)
    # Split first and escape each piece, so a mark can never fall inside an HTML entity.
    pieces = pattern.split(text)  # the captured matches sit at the odd positions
    return mark_safe(
        "".join(
            f"<mark>{escape(piece)}</mark>" if index % 2 else escape(piece)
            for index, piece in enumerate(pieces)
        )
    )


@register.filter
def or_unknown(value):
    """Empty values say so plainly."""
    return value if value not in (None, "") else "unknown"


JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.filter
def json_ld(data):
    """Structured data for search engines, escaped so no text can close the script element."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True).translate(JSON_SCRIPT_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{text}</script>')


def render_fragment(name: str, **context) -> str:
    """A Jinja2 fragment of templates/jinja2 (see config/jinja2.py for why), given what every
    fragment may link or label with: `url` (config/paths.py) and the labels of claims' kinds,
    sourcing and occurrence and of citations' stances, looked up once (get_FOO_display() rebuilds
    its choices' mapping each call)."""
    template = engines["jinja2"].get_template(name)
    shared = {
        "url": paths_for_this_request(),
        "kinds": KIND_LABELS,
        "stances": STANCE_LABELS,
        "sourcings": SOURCING_LABELS,
        "occurrences": OCCURRENCE_LABELS,
    }
    return mark_safe(template.render({**shared, **context}))  # escaped by Jinja2


@register.simple_tag(name="fragment")
def fragment_tag(name, **context):
    """`{% fragment "includes/positions.html" table=table %}`: the part of a page that repeats most,
    rendered by Jinja2."""
    return render_fragment(name, **context)


@register.simple_tag
def claim_card(claim, show_round=False):
    """One claim with its numbered references (templates/jinja2/includes/claim.html). `claim` comes
    from Claim.objects...for_display(); `show_round` names its round, for pages not about that round."""
    return render_fragment("includes/claim.html", claim=claim, show_round=show_round)


@register.simple_tag
def claim_cards(claims, show_round=False, empty=""):
    """Claims as claim_card shows each, in one rendering (a list page shows 25, a round's page 60),
    or `empty` in a paragraph when there are none."""
    return render_fragment("includes/claims.html", claims=claims, show_round=show_round, empty=empty)


@register.simple_tag
def bar_chart(bars, title, description, id_prefix, unit="claims"):
    """`{% bar_chart bars "Claims per round" "…" "claims-per-round" %}`: talks/pictures.py's bars."""
    return pictures.bar_chart(bars, title, description, id_prefix, unit)
