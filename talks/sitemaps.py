"""/sitemap.xml: every published page, and nothing else, in pages that each read one range of keys.

Django's sitemap framework reads every record of a kind to find its latest change, and 50,000 model
objects for each page of it, so its index and its pages cost more the larger the archive. Here a
kind's records are divided into blocks of consecutive keys (`BLOCK` each), one sitemap page a block,
so a page is one range of the primary key, read as three values a row, with no count and no OFFSET.
The index lists the blocks that hold a published record, found by one probe of the key index per
block. A record stays on the same page whatever is added or removed around it.
"""

from html import escape

from django.db import connection
from django.db.models import DateField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce
from django.http import Http404, HttpResponse
from django.urls import reverse

from sources.models import SourceArticle
from talks.exports import IsoDateText
from talks.models import Claim, Disagreement, Issue, Participant, Round
from talks.querysets import compiled

BLOCK = 5_000  # records a sitemap page covers at most (the protocol allows 50,000 URLs)
LAST_PAGE = 10**9  # the highest page number a section's URL may carry
PAGES = [  # the public pages that are not records
    "home",
    "track_list",
    "round_list",
    "issue_list",
    "participant_list",
    "source_list",
    "claim_list",
    "disagreement_list",
    "about",
    "downloads",
    "release_list",
    "changes",
]
# Each kind of record: its model, the detail page's URL name and the field its URL is made of.
RECORDS = {
    "rounds": (Round, "round_detail", "slug"),
    "issues": (Issue, "issue_detail", "slug"),
    "participants": (Participant, "participant_detail", "slug"),
    "sources": (SourceArticle, "source_detail", "pk"),
    "claims": (Claim, "claim_detail", "pk"),
    "disagreements": (Disagreement, "disagreement_detail", "slug"),
}
URLSET = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
)
INDEX = '<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
MARKER = "9876543210"  # reversed in place of a key (a valid slug and number), then replaced


def blocks_with_published_records(model) -> list[int]:
    """The numbers (from 1) of the blocks of keys that hold a published record, in one query: a
    series of block numbers up to the largest key, each kept if the key index finds a published
    record in its range (usually at its first entries)."""
    table, key = model._meta.db_table, model._meta.pk.column
    in_block = model.objects.published().filter(
        pk__gte=RawSQL("(blocks.number - 1) * %s", (BLOCK,)), pk__lt=RawSQL("blocks.number * %s", (BLOCK,))
    )
    probe = compiled(in_block.values("pk")[:1])
    if probe is None:
        return []
    probe_sql, probe_params = probe
    quote = connection.ops.quote_name
    sql = (
        f"WITH RECURSIVE blocks(number) AS (SELECT 1 UNION ALL SELECT number + 1 FROM blocks "
        f"WHERE number * %s <= (SELECT MAX({quote(key)}) FROM {quote(table)})) "
        f"SELECT number FROM blocks WHERE EXISTS ({probe_sql}) ORDER BY number"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (BLOCK, *probe_params))
        return [number for (number,) in cursor.fetchall()]


def xml_response(text: str) -> HttpResponse:
    return HttpResponse(text, content_type="application/xml")


def index(request):
    base = request.build_absolute_uri("/")[:-1]
    entries = [f"{base}{reverse('sitemap_section', args=['pages'])}"]
    for section, (model, _, _) in RECORDS.items():
        path = reverse("sitemap_section", args=[section])
        entries += [f"{base}{path}?p={number}" for number in blocks_with_published_records(model)]
    sitemaps = "".join(f"<sitemap><loc>{escape(location)}</loc></sitemap>\n" for location in entries)
    return xml_response(INDEX + sitemaps + "</sitemapindex>\n")


def page_number(request) -> int:
    """The `p` of a section's URL (1 when absent); anything else is a page that does not exist."""
    text = request.GET.get("p", "1")
    # Digits, and few: Python refuses to read a number of more than 4,300 digits (a ValueError).
    readable = text.isascii() and text.isdigit() and len(text) <= len(str(LAST_PAGE))
    if not (readable and 0 < int(text) <= LAST_PAGE):
        raise Http404("No such sitemap page.")
    return int(text)


def section(request, section):
    base = request.build_absolute_uri("/")[:-1]
    if section == "pages":
        if page_number(request) != 1:
            raise Http404("No such sitemap page.")
        urls = "".join(f"<url><loc>{escape(base + reverse(name))}</loc></url>\n" for name in PAGES)
        return xml_response(URLSET + urls + "</urlset>\n")
    if section not in RECORDS:
        raise Http404("No such sitemap.")
    model, url_name, url_field = RECORDS[section]
    number = page_number(request)
    # The detail page's path around a marker key, reversed once: reversing each key would check the
    # URL pattern again for every record of the page.
    before, after = reverse(url_name, args=[MARKER]).rsplit(MARKER, 1)
    # The day (UTC, the site's time zone) of the last public change, as text, from the database, so
    # that no timestamp of the page is converted to a datetime in Python only to be formatted.
    changed_on = IsoDateText(Cast(Coalesce("public_updated_at", "first_published_at"), DateField()))
    rows = (
        model.objects.published()
        .filter(pk__gte=(number - 1) * BLOCK, pk__lt=number * BLOCK)
        .order_by("pk")
        .values_list(url_field, changed_on)
    )
    start, end = escape(base + before), escape(after)
    urls = [
        f"<url><loc>{start}{escape(str(key))}{end}</loc>"
        + (f"<lastmod>{day}</lastmod>" if day else "")
        + "</url>\n"
        for key, day in rows
    ]
    if not urls:
        raise Http404("No such sitemap page.")
    return xml_response(URLSET + "".join(urls) + "</urlset>\n")
