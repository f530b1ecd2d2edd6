"""What the charts of the issue and track pages count, read from the claims list's own counts.

Every bar links to the claims list filtered to exactly what it counts, and is counted by that list's
filters and index (talks/list_specs.py, talks/list_index.py): a chart cannot say a number its list
would not."""

from urllib.parse import urlencode

from django.db.models import F
from django.http import QueryDict
from django.urls import reverse

from talks.filters import issue_ids_beneath, narrowing_values, published_issue_children
from talks.list_index import FACET_CHOICES
from talks.list_specs import LISTS
from talks.models import Issue, Round
from talks.pictures import Bar

CLAIMS = LISTS["claims"]


def claims_list_url(**filters) -> str:
    return f"{reverse('claim_list')}?{urlencode(filters)}"


def claims_matching(**filters):
    """The published claims /claims/?<filters> lists, as its queryset and the filters that narrow it."""
    filterset = CLAIMS.filterset(QueryDict(urlencode(filters)), queryset=CLAIMS.base_queryset())
    if not filterset.is_valid():
        raise ValueError(f"not filters of the claims list: {filterset.errors.as_data()}")
    return filterset.qs, narrowing_values(filterset)


def claims_per_round_on(issue: Issue) -> tuple[list[Bar], bool]:
    """The rounds with the most claims on the issue or its sub-issues (the claims list's Round facet
    for this issue), in date order, and whether there are more rounds than shown."""
    queryset, narrowing = claims_matching(issue=issue.slug)
    counted = CLAIMS.index.count(queryset, narrowing)
    facet = next(facet for facet in CLAIMS.index.facets if facet.param == "round")
    rows = facet.rows(counted.facet_counts["round"])
    dates = dict(
        Round.objects.published()
        .filter(slug__in=[slug for slug, _, _ in rows])
        .order_by()
        .values_list("slug", "start_date")
    )
    rows.sort(key=lambda row: (dates.get(row[0]) is None, dates.get(row[0]), row[1]))
    bars = [Bar(title, count, claims_list_url(issue=issue.slug, round=slug)) for slug, title, count in rows]
    return bars, len(rows) >= FACET_CHOICES


def claims_per_sub_issue(issue: Issue, sub_issues) -> list[Bar]:
    """Each published sub-issue's claims, its own sub-issues' included, as the list filtered by it
    counts them."""
    children = published_issue_children()
    counts = CLAIMS.index.counts_holding(
        "issue_links__issue_id", [issue_ids_beneath(sub.pk, children) for sub in sub_issues]
    )
    return [
        Bar(sub.name, count, claims_list_url(issue=sub.slug))
        for sub, count in zip(sub_issues, counts, strict=True)
    ]


def claims_per_round_of(rounds) -> list[Bar]:
    """Each round's published claims, in the order given."""
    counts = CLAIMS.index.counts_by_value("round_id")
    return [
        Bar(round_.title, counts.get(round_.pk, 0), claims_list_url(round=round_.slug)) for round_ in rounds
    ]


def claims_per_issue_in(track) -> list[Bar]:
    """Each top-level issue's claims at the track's rounds, its sub-issues' included, most first;
    issues without any left out."""
    queryset, narrowing = claims_matching(track=track.slug)
    issues = list(Issue.objects.published().filter(parent__isnull=True).order_by(F("name").asc()))
    children = published_issue_children()
    counts = CLAIMS.index.counts_holding_among(
        queryset,
        narrowing,
        "issue_links__issue_id",
        [issue_ids_beneath(issue.pk, children) for issue in issues],
    )
    bars = [
        Bar(issue.name, count, claims_list_url(track=track.slug, issue=issue.slug))
        for issue, count in zip(issues, counts, strict=True)
        if count
    ]
    return sorted(bars, key=lambda bar: -bar.count)
