"""Public pages for single records, the home page and the method page. Published records only,
and drafts previewed by editors."""

import functools

from django.db import DatabaseError, connection
from django.db.models import Exists, F, Max, OuterRef, Prefetch, Q, Window
from django.db.models.functions import RowNumber
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views.decorators.cache import never_cache
from django.views.generic import ListView, TemplateView

from sources.models import SourceArticle
from sources.record_base import PublicationStatus, public_condition
from talks.citing import as_last_published, citation_for
from talks.filters import issue_ids_beneath, published_issue_children, published_issue_ids_beneath
from talks.lists import ARTICLES, CLAIMS, PEOPLE, ROUNDS
from talks.models import (
    Citation,
    Claim,
    ClaimIssue,
    Delegation,
    Disagreement,
    Issue,
    Membership,
    Participant,
    PublicChange,
    Round,
    Track,
)
from talks.sharing import embed_snippet, oembed_discovery
from talks.structured_data import claim as claim_description
from talks.structured_data import news_article, round_event
from talks.tracks import timeline_of

ROUNDS_IN_ISSUE_TABLE = 20
LATEST_CLAIMS = 25
TRACKS_ON_HOME = 12
ROUNDS_PER_TRACK_ON_HOME = 6
ROUND_ON_HOME = (
    "track_id",
    "sequence",
    "slug",
    "title",
    "start_date",
    "end_date",
    "date_precision",
    "city",
    "status",
)
# The parties at the table first, then whoever brokered, hosted or watched.
DELEGATION_ORDER = [
    Delegation.Role.NEGOTIATING_PARTY,
    Delegation.Role.MEDIATOR,
    Delegation.Role.HOST,
    Delegation.Role.OBSERVER,
]


def public_record_or_notice(request, queryset, **lookup):
    """The published record, or, for a withdrawn one, the notice page with status 410 Gone.

    A draft is 404 to readers; an editor who may view it sees it here as readers will once it is
    published, marked as a preview (see `previewable`)."""
    try:
        record = queryset.published_or_withdrawn().get(**lookup)
    except queryset.model.DoesNotExist:
        return draft_for_preview(request, queryset, lookup), None
    if record.publication_status == PublicationStatus.WITHDRAWN:
        # Still citable, marked withdrawn: what someone cited before must stay citable.
        as_published = as_last_published(record)
        context = {
            "record": record,
            "label": str(as_published) if as_published else f"{record._meta.verbose_name} {record.pk}",
            "citation": citation_for(request, record, as_published),
        }
        return None, render(request, "withdrawn.html", context, status=410)
    return record, None


def draft_for_preview(request, queryset, lookup):
    """The draft an editor previews at its public address; 404 for anyone else."""
    opts = queryset.model._meta
    user = request.user
    if not (user.is_active and user.is_staff and user.has_perm(f"{opts.app_label}.view_{opts.model_name}")):
        raise Http404
    record = get_object_or_404(queryset.filter(publication_status=PublicationStatus.DRAFT), **lookup)
    request.preview_of = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk])
    return record


def previewable(view):
    """A record page that may show an editor a draft: that answer is kept out of every cache and
    search index, and the page says it is not public."""

    @functools.wraps(view)
    def page(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if getattr(request, "preview_of", None):
            add_never_cache_headers(response)
            patch_cache_control(response, private=True)
            response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return page


def by_name_unknown_last(record):
    return (record is None, str(record or ""))


def home(request):
    rounds = Round.objects.published()
    # The most recently active tracks with their latest rounds: a page that does not grow with the archive.
    tracks = list(
        Track.objects.annotate(latest=Max("rounds__start_date", filter=public_condition(Round, "rounds__")))
        .filter(latest__isnull=False)
        .order_by("-latest", "name")[:TRACKS_ON_HOME]
    )
    # Only each track's latest rounds, and only what the timeline shows of them: the page must not
    # grow with a track's rounds.
    newest_first = Window(RowNumber(), partition_by=F("track_id"), order_by=F("sequence").desc())
    latest_rounds = {}
    for round_ in (
        rounds.filter(track__in=tracks)
        .annotate(place=newest_first)
        .filter(place__lte=ROUNDS_PER_TRACK_ON_HOME)
        .only(*ROUND_ON_HOME)
        .order_by("track_id", "-sequence")
    ):
        latest_rounds.setdefault(round_.track_id, []).append(round_)
    for track in tracks:
        track.public_rounds = list(reversed(latest_rounds.get(track.pk, [])))
        track.timeline = timeline_of(track, track.public_rounds, f"timeline-{track.slug}")
    issues = list(Issue.objects.published().filter(parent__isnull=True))
    # With their sub-issues' claims, as each issue's own page counts them.
    children = published_issue_children()
    beneath = [issue_ids_beneath(issue.pk, children) for issue in issues]
    for issue, count in zip(issues, CLAIMS.counts_holding("issue_links__issue_id", beneath), strict=True):
        issue.claim_count = count
    context = {
        "counts": {
            "rounds": ROUNDS.total(),
            "claims": CLAIMS.total(),
            "articles": ARTICLES.total(),
            "participants": PEOPLE.total(),
            "issues": Issue.objects.published().count(),
            "disagreements": Disagreement.objects.published().count(),
        },
        "tracks": sorted(
            tracks, key=lambda track: track.public_rounds[0].start_date or track.created_at.date()
        ),
        "latest_claims": Claim.objects.published().for_display().order_by("-created_at", "-id")[:8],
        "issues": sorted(issues, key=lambda issue: (-issue.claim_count, issue.name)),
    }
    return render(request, "home.html", context)


class AboutView(TemplateView):
    template_name = "about.html"


def cited_articles(claims) -> list:
    """The articles cited by these claims, each once, in the order they are first cited."""
    seen = {}
    for claim in claims:
        for citation in claim.public_citations:
            seen.setdefault(citation.article.pk, citation.article)
    return list(seen.values())


@previewable
def round_detail(request, slug):
    round_, notice = public_record_or_notice(request, Round.objects.select_related("track"), slug=slug)
    if notice:
        return notice
    published_rounds = Round.objects.published().filter(track_id=round_.track_id)
    delegations = round_.delegations.select_related("party").prefetch_related(
        Prefetch(
            "memberships",
            queryset=Membership.objects.published()
            .select_related("participant")
            .order_by("role", "participant__name"),
            to_attr="public_memberships",
        )
    )
    delegations = sorted(delegations, key=lambda d: (DELEGATION_ORDER.index(d.role), d.party.name))
    claims = list(Claim.objects.published().filter(round=round_).for_display().order_by("id"))

    # Issue, then party: each claim once, under the first of its issues.
    by_issue = {}
    for claim in claims:
        issue = min(claim.public_issues, key=lambda issue: issue.name) if claim.public_issues else None
        by_issue.setdefault(issue, {}).setdefault(claim.party, []).append(claim)
    issue_groups = [
        (
            issue,
            [(party, by_issue[issue][party]) for party in sorted(by_issue[issue], key=by_name_unknown_last)],
        )
        for issue in sorted(by_issue, key=by_name_unknown_last)
    ]
    context = {
        "round": round_,
        "previous_round": published_rounds.filter(sequence__lt=round_.sequence).order_by("-sequence").first(),
        "next_round": published_rounds.filter(sequence__gt=round_.sequence).order_by("sequence").first(),
        "delegations": delegations,
        "issue_groups": issue_groups,
        "claim_count": len(claims),
        "articles": cited_articles(claims),
        "structured_data": round_event(round_, delegations, request.build_absolute_uri()),
        "citation": citation_for(request, round_),
    }
    return render(request, "talks/round_detail.html", context)


def claims_under(issue) -> int:
    """The published claims on an issue or its sub-issues, counted by the claims list's index:
    the database would count every claim under a top-level issue on each view."""
    return CLAIMS.counts_holding("issue_links__issue_id", [published_issue_ids_beneath(issue)])[0]


def claims_on(issue, count: int, wanted: int) -> tuple:
    """The published claims on an issue or its sub-issues (`count` of them), found the
    cheaper way for the newest `wanted` of them or of their rounds, and whether they are few.

    Many: EXISTS for each claim (or round) in the order of the newest first, until enough are found;
    a join would find, deduplicate and sort all the claims of a large issue. Few: that walk would
    read most of the archive, so they are looked up by key. The costs cross where
    wanted x total/count = count."""
    links = ClaimIssue.objects.filter(issue__in=published_issue_ids_beneath(issue))
    claims = Claim.objects.published()
    if count * count < wanted * CLAIMS.total():
        return claims.filter(pk__in=links.values("claim_id")), True
    return claims.filter(Exists(links.filter(claim=OuterRef("pk")))), False


@previewable
def issue_detail(request, slug):
    issue, notice = public_record_or_notice(request, Issue.objects.select_related("parent"), slug=slug)
    if notice:
        return notice
    claim_count = claims_under(issue)
    on_issue, few = claims_on(issue, claim_count, LATEST_CLAIMS)
    has_claims = (
        Q(pk__in=on_issue.values("round_id")) if few else Exists(on_issue.filter(round=OuterRef("pk")))
    )
    # The table follows the issue through its most recent rounds; the full record is a filtered list.
    recent_rounds = list(
        Round.objects.published()
        .filter(has_claims)
        .order_by(F("start_date").desc(nulls_last=True), "-pk")[:ROUNDS_IN_ISSUE_TABLE]
    )
    # A cell shows a claim's attribution, text and dispute mark only: no citations or issues to fetch
    # for them, and no round, which is one of recent_rounds.
    shown = ("text", "sourcing", "attribution", "disputed", "round_id", "party")
    in_cells = on_issue.only(*shown).select_related("party")
    in_table = in_cells.filter(round__in=[round_.pk for round_ in recent_rounds]).order_by("id")
    without_round = in_cells.filter(round__isnull=True).order_by("-id")[:ROUNDS_IN_ISSUE_TABLE]
    table_claims = [*in_table, *without_round]
    parties = sorted({claim.party for claim in table_claims}, key=by_name_unknown_last)
    cells = {}
    for claim in table_claims:
        cells.setdefault((claim.round_id, claim.party), []).append(claim)
    rows = [*reversed(recent_rounds), None]
    table = [
        (round_, [cells.get((round_.pk if round_ else None, party), []) for party in parties])
        for round_ in rows
    ]
    table = [(round_, row) for round_, row in table if any(row)]
    context = {
        "issue": issue,
        "sub_issues": issue.children.published().order_by("name"),
        "parties": parties,
        "table": table,
        "claims": on_issue.for_display().order_by("-id")[:LATEST_CLAIMS],
        "claim_count": claim_count,
        "citation": citation_for(request, issue),
    }
    return render(request, "talks/issue_detail.html", context)


@previewable
def participant_detail(request, slug):
    participant, notice = public_record_or_notice(
        request, Participant.objects.select_related("party"), slug=slug
    )
    if notice:
        return notice
    seats = (
        Membership.objects.published()
        .filter(participant=participant)
        .select_related("delegation__round__track", "delegation__party")
        .order_by("delegation__round__start_date", "delegation__round__title")
    )
    claims = Claim.objects.published().filter(speaker=participant).for_display().order_by("id")
    return render(
        request,
        "talks/participant_detail.html",
        {
            "participant": participant,
            "seats": seats,
            "claims": claims,
            "citation": citation_for(request, participant),
        },
    )


@previewable
def source_detail(request, pk):
    article, notice = public_record_or_notice(request, SourceArticle.objects.select_related("outlet"), pk=pk)
    if notice:
        return notice
    citations = (
        Citation.objects.published()
        .filter(article=article)
        .select_related("claim__round")
        .order_by("stance", "claim__id")
    )
    context = {
        "article": article,
        "citations": citations,
        "structured_data": news_article(article, request.build_absolute_uri()),
        "citation": citation_for(request, article),
    }
    return render(request, "talks/source_detail.html", context)


@previewable
def claim_detail(request, pk):
    claim, notice = public_record_or_notice(request, Claim.objects.for_display(record_dates=True), pk=pk)
    if notice:
        return notice
    # The articles whole, in one query: the cards read only the columns they show.
    cited = [citation.article_id for citation in claim.public_citations]
    articles = SourceArticle.objects.published().select_related("outlet").defer("body").in_bulk(cited)
    articles = [articles[pk] for pk in dict.fromkeys(cited)]
    context = {
        "claim": claim,
        "structured_data": claim_description(
            claim, articles, request.build_absolute_uri(), request.build_absolute_uri
        ),
        "citation": citation_for(request, claim),
    }
    if claim.is_published:  # an editor's preview of a draft offers nothing to take away
        context["oembed_url"] = oembed_discovery(request, claim)
        context["embed_snippet"] = embed_snippet(request, claim)
    return render(request, "talks/claim_detail.html", context)


@previewable
def disagreement_detail(request, slug):
    disagreement, notice = public_record_or_notice(
        request, Disagreement.objects.select_related("round"), slug=slug
    )
    if notice:
        return notice
    versions = list(
        disagreement.versions.filter(public_condition(Claim, "claim__"))
        .order_by("id")
        .values_list("claim_id", "version")
    )
    claims = Claim.objects.for_display().in_bulk([claim_id for claim_id, _ in versions])
    context = {
        "disagreement": disagreement,
        "versions": [(version, claims[claim_id]) for claim_id, version in versions],
        "citation": citation_for(request, disagreement),
    }
    return render(request, "talks/disagreement_detail.html", context)


class ChangeListView(ListView):
    """/changes/: what readers could see change, newest first."""

    model = PublicChange
    paginate_by = 50
    template_name = "talks/changes.html"


def robots_txt(request):
    sitemap = request.build_absolute_uri(reverse("sitemap"))
    return HttpResponse(f"User-agent: *\nDisallow:\n\nSitemap: {sitemap}\n", content_type="text/plain")


@never_cache
def healthz(request):
    """For load balancers and monitors: 200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")
