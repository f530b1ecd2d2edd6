"""Citing and embedding public records: a record's citation as a file, a claim's card for other
sites' pages, and the oEmbed endpoint that hands that card out.

Only what `published()` holds is cited or embedded; a withdrawn record is still cited, marked
withdrawn (talks/citing.py), and a withdrawn claim's card says it was withdrawn; a draft is 404,
even to an editor, since these are made to leave the site.
"""

from urllib.parse import urlencode, urlsplit

from csp.constants import NONE
from csp.decorators import csp_replace
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.html import format_html
from django.views.decorators.clickjacking import xframe_options_exempt

from config.paths import path_to
from sources.models import SourceArticle
from sources.record_base import PublicationStatus
from talks.citing import MODELS, PUBLISHER, bibtex, citation_for, csl_json
from talks.models import Claim

CONTENT_TYPES = {
    "bib": "application/x-bibtex; charset=utf-8",
    "json": "application/vnd.citationstyles.csl+json; charset=utf-8",
}
# The card's size when the consumer sets no maximum: room for a claim and three references.
EMBED_WIDTH = 560
EMBED_HEIGHT = 420
LONGEST_URL = 2000  # a claim's address is short; a longer `url` is not one of ours


def cite_download(request, kind, fmt, **lookup):
    """A record's citation as a BibTeX or CSL-JSON file: published and withdrawn records only."""
    model, _ = MODELS[kind]
    try:
        record = model.objects.published_or_withdrawn().get(**lookup)
    except model.DoesNotExist:
        raise Http404 from None
    citation = citation_for(request, record)
    body = bibtex(citation) if fmt == "bib" else csl_json(citation)
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{citation.citation_key}.{fmt}"'
    return response


def claim_for_embed(pk):
    """A published or withdrawn claim with what its card shows, in a fixed number of queries; 404
    for a draft or an unknown key."""
    try:
        return Claim.objects.published_or_withdrawn().for_display().get(pk=pk)
    except Claim.DoesNotExist:
        raise Http404 from None


@xframe_options_exempt
@csp_replace({"frame-ancestors": ["*"], "script-src": [NONE]})
def claim_embed(request, pk):
    """/claims/<id>/embed/: the claim's card alone, for an <iframe> on any site; no script.

    The only page other sites may frame (the rest of the site answers X-Frame-Options DENY and
    `frame-ancestors 'none'`): it holds no form and no action a framing page could trick a reader
    into."""
    claim = claim_for_embed(pk)
    # Every link is absolute: the card is read inside another site's page.
    absolute = request.build_absolute_uri
    claim_url = absolute(claim.get_absolute_url())
    if claim.publication_status == PublicationStatus.WITHDRAWN:
        # A site that embedded the claim before shows readers why it is gone, not a broken frame.
        context = {"claim": claim, "claim_url": claim_url, "home_url": absolute(path_to("home"))}
        return render(request, "talks/claim_embed_withdrawn.html", context, status=410)
    # The articles' original addresses, which the cards elsewhere do not read, for the cited ones.
    cited = [citation.article_id for citation in claim.public_citations]
    originals = dict(SourceArticle.objects.filter(pk__in=cited).values_list("pk", "url")) if cited else {}
    context = {
        "claim": claim,
        "claim_url": claim_url,
        "speaker": claim.speaker if claim.speaker and claim.speaker.is_published else None,
        "references": [
            (citation, originals.get(citation.article_id, ""), absolute(citation.article.get_absolute_url()))
            for citation in claim.public_citations
        ],
        "disagreements": [
            (link, absolute(link.disagreement.get_absolute_url())) for link in claim.public_disagreements
        ],
    }
    return render(request, "talks/claim_embed.html", context)


class BadRequest(Exception):
    pass


def size_limit(request, name) -> int | None:
    raw = request.GET.get(name, "").strip()
    if raw == "":
        return None
    if len(raw) > 6 or not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise BadRequest(f"{name} must be a positive whole number of pixels.")
    return int(raw)


def claim_key_of(request, url: str) -> int:
    """The key of the claim whose page or card `url` addresses on this site; BadRequest for what is
    not a URL of this site, Http404 for one of this site that is no claim's."""
    if not url:
        raise BadRequest("Say which claim: ?url=<the claim's address>.")
    if len(url) > LONGEST_URL or any(ord(char) < 32 for char in url):
        raise BadRequest("url is not an address of a claim in Parley.")
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed [ of an IPv6 host, say
        raise BadRequest("url is not an address.") from None
    if parts.scheme not in ("http", "https") or parts.netloc.lower() != request.get_host().lower():
        raise Http404("Only claims in this archive can be embedded from it.")
    try:
        match = resolve(parts.path or "/")
    except Resolver404:
        raise Http404 from None
    if match.url_name not in ("claim_detail", "claim_embed"):
        raise Http404
    return match.kwargs["pk"]


def oembed(request):
    """/oembed/?url=<a claim's address>&format=json: the claim's card as an oEmbed "rich" response
    (oembed.com): an <iframe> of /claims/<id>/embed/. Published claims only; JSON only (501 for
    any other format, as the specification asks); a bad parameter is a 400 that says which."""
    fmt = request.GET.get("format", "json")
    if fmt != "json":
        return HttpResponse("Only format=json is offered.\n", status=501, content_type="text/plain")
    try:
        max_width, max_height = size_limit(request, "maxwidth"), size_limit(request, "maxheight")
        pk = claim_key_of(request, request.GET.get("url", "").strip())
    except BadRequest as problem:
        return HttpResponse(f"{problem}\n", status=400, content_type="text/plain")
    claim = Claim.objects.published().only("text", "attribution", "sourcing").filter(pk=pk).first()
    if claim is None:
        raise Http404
    width = min(EMBED_WIDTH, max_width or EMBED_WIDTH)
    height = min(EMBED_HEIGHT, max_height or EMBED_HEIGHT)
    title = f"{claim.attribution_label}: {claim.text}" if claim.attribution_label else claim.text
    src = request.build_absolute_uri(path_to("claim_embed", claim.pk))
    response = JsonResponse(
        {
            "version": "1.0",
            "type": "rich",
            "provider_name": PUBLISHER,
            "provider_url": request.build_absolute_uri(path_to("home")),
            "title": title,
            "html": iframe(src, width, height),
            "width": width,
            "height": height,
        },
        json_dumps_params={"ensure_ascii": False},
    )
    # Public data, asked for by other sites' scripts as much as their servers.
    response["Access-Control-Allow-Origin"] = "*"
    return response


def iframe(src: str, width: int, height: int) -> str:
    return format_html(
        '<iframe src="{}" width="{}" height="{}" title="A claim in the Parley archive" loading="lazy" '
        'referrerpolicy="strict-origin-when-cross-origin"></iframe>',
        src,
        width,
        height,
    )


def oembed_discovery(request, claim) -> str:
    """The address of a claim's oEmbed answer, for its page's <link rel="alternate">."""
    query = urlencode({"url": request.build_absolute_uri(claim.get_absolute_url()), "format": "json"})
    return request.build_absolute_uri(f"{path_to('oembed')}?{query}")


def embed_snippet(request, claim) -> str:
    """The <iframe> a site pastes to show the claim's card, as the oEmbed answer gives it."""
    return iframe(request.build_absolute_uri(path_to("claim_embed", claim.pk)), EMBED_WIDTH, EMBED_HEIGHT)
