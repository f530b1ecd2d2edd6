"""Tracks, the negotiation processes whose rounds follow one another: their list, their page with the
timeline of their rounds and charts of their claims, and the timeline as TimelineJS JSON.

A track has no publication status of its own: it is public once one of its rounds is, and shows only
its published rounds."""

import datetime

from django.db.models import Count, Max, Min
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.defaultfilters import pluralize
from django.utils.html import escape

from sources.record_base import DatePrecision, public_condition
from talks.charts import claims_per_issue_in, claims_per_round_of
from talks.list_specs import public_tracks
from talks.models import Round, Track
from talks.pictures import TimelineRound, timeline

ROUND_ON_TIMELINE = ("track_id", "sequence", "slug", "title", "start_date", "end_date", "date_precision")


def timeline_rows(rounds) -> list[TimelineRound]:
    return [
        TimelineRound(
            title=round_.title,
            url=round_.get_absolute_url(),
            start=round_.start_date,
            end=round_.end_date,
            precision=round_.date_precision,
            dates_label=round_.dates_label,
        )
        for round_ in rounds
        if round_.start_date is not None
    ]


def timeline_of(track: Track, rounds, id_prefix: str):
    """The track's rounds on a time axis, in their order."""
    rows = timeline_rows(rounds)
    if not rows:
        return ""
    description = (
        f"{len(rows)} round{pluralize(len(rows))}, from {rows[0].dates_label} to {rows[-1].dates_label}. "
        "Filled marks: dates known to the day; outlined: only the month is known, drawn across the "
        "month; dashed: approximate dates. Each mark links to its round."
    )
    return timeline(rows, f"Timeline of the rounds of {track.name}", description, id_prefix)


def track_list(request):
    tracks = (
        public_tracks()
        .annotate(
            round_count=Count("rounds", filter=public_condition(Round, "rounds__")),
            first=Min("rounds__start_date", filter=public_condition(Round, "rounds__")),
            latest=Max("rounds__start_date", filter=public_condition(Round, "rounds__")),
        )
        .order_by("-latest", "name")
    )
    return render(request, "talks/track_list.html", {"tracks": tracks})


def track_detail(request, slug):
    track = get_object_or_404(public_tracks(), slug=slug)
    rounds = list(Round.objects.published().filter(track=track).order_by("sequence", "pk"))
    per_round = claims_per_round_of(rounds)
    for round_, bar in zip(rounds, per_round, strict=True):
        round_.claim_count = bar.count
    context = {
        "track": track,
        "rounds": rounds,
        "timeline": timeline_of(track, rounds, "track-timeline"),
        "claims_per_round": per_round,
        "claims_per_issue": claims_per_issue_in(track),
    }
    return render(request, "talks/track_detail.html", context)


def timeline_date(day: datetime.date, precision: str) -> dict:
    """A date as TimelineJS reads it: without a day when only the month is known."""
    if precision == DatePrecision.MONTH:
        return {"year": day.year, "month": day.month}
    return {"year": day.year, "month": day.month, "day": day.day}


def timeline_event(request, round_: Round) -> dict:
    """A round as a TimelineJS event, whose text (HTML, as TimelineJS reads it) links to its page."""
    link = request.build_absolute_uri(round_.get_absolute_url())
    summary = f"<p>{escape(round_.summary)}</p>" if round_.summary else ""
    event = {
        "unique_id": round_.slug,
        "start_date": timeline_date(round_.start_date, round_.date_precision),
        "display_date": round_.dates_label,
        "text": {
            "headline": escape(round_.title),
            "text": f'{summary}<p><a href="{escape(link)}">The round in Parley</a></p>',
        },
        "group": round_.track.name,
    }
    if round_.end_date and round_.end_date != round_.start_date:
        event["end_date"] = timeline_date(round_.end_date, round_.date_precision)
    return event


def timeline_json(request, slug=None):
    """The rounds of one track, or of every track, as a TimelineJS 3 timeline
    (https://timeline.knightlab.com/docs/json-format.html), each event linking to its round's page."""
    rounds = Round.objects.published().filter(start_date__isnull=False).select_related("track")
    if slug is None:
        title = {"headline": "Parley: rounds of peace talks", "text": "Every published round, by track."}
    else:
        track = get_object_or_404(public_tracks(), slug=slug)
        rounds = rounds.filter(track=track)
        title = {"headline": escape(track.name), "text": escape(track.description)}
    events = [timeline_event(request, round_) for round_ in rounds.order_by("start_date", "sequence", "pk")]
    return JsonResponse(
        {"title": {"text": title}, "events": events}, json_dumps_params={"ensure_ascii": False, "indent": 1}
    )
