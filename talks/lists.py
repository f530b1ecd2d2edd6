"""The public lists: filtered, faceted, paginated, each reproducible from its URL."""

from dataclasses import dataclass

from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.urls import reverse
from django_filters.views import FilterView

from sources.models import SourceArticle
from talks.filters import ClaimFilter, IssueFilter, ParticipantFilter, RoundFilter, SourceFilter
from talks.models import Citation, Claim, Delegation, Membership, Participant, Round

PUBLISHED = "published"


def changed_query(query: QueryDict, changes: dict) -> str:
    """The current query string with some parameters set, or removed where the value is None."""
    params = query.copy()
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return f"?{params.urlencode()}" if params else "?"


@dataclass
class FacetChoice:
    value: str
    label: str
    count: int
    active: bool
    href: str  # selects this choice, or removes it when it is the active one


@dataclass
class Facet:
    param: str
    label: str
    choices: list[FacetChoice]


@dataclass
class ActiveFilter:
    label: str
    value: str
    href: str  # the same view without this filter


def facet(query: QueryDict, param, label, rows, labels=None) -> Facet:
    """Rows of (value, label, count) as a facet; `labels` names the values of a choice field."""
    choices = []
    current = query.get(param)
    for value, name, count in rows:
        if value in (None, ""):
            continue
        active = str(value) == current
        href = changed_query(query, {param: None if active else str(value), "page": None})
        choices.append(FacetChoice(str(value), (labels or {}).get(value, name or value), count, active, href))
    return Facet(param, label, sorted(choices, key=lambda choice: (-choice.count, choice.label)))


def count_of_published_claims():
    citing = (
        Citation.objects.published()
        .filter(article=OuterRef("pk"))
        .order_by()
        .values("article")
        .annotate(n=Count("claim", distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(citing, output_field=IntegerField()), Value(0))


def grouped(queryset, *fields):
    """(value, label, count) rows: how many records of the result share each value."""
    return queryset.values_list(*fields).annotate(count=Count("pk", distinct=True)).order_by()


class PublicListView(FilterView):
    """A filtered list of published records, with result count, facets, active filters and ordering."""

    paginate_by = 25
    downloads = ()  # the exports that take this list's filters
    feed_url_name = None
    strict = True  # an invalid filter shows its message and no rows, never an unfiltered list
    page_title = ""
    description = ""

    def base_queryset(self):
        return self.filterset_class.base_queryset()

    def get_queryset(self):
        return self.base_queryset()

    def facets(self, result) -> list[Facet]:
        return []

    def active_filters(self) -> list[ActiveFilter]:
        form = self.filterset.form
        if not form.is_valid():
            return []
        active = []
        for name, value in form.cleaned_data.items():
            if value in (None, "", [], ()) or name == "ordering":
                continue
            field = form.fields[name]
            if hasattr(value, "start"):  # a date range: each end removable on its own
                for end, suffix in [(value.start, "after"), (value.stop, "before")]:
                    if end:
                        label = f"{field.label} {'from' if suffix == 'after' else 'to'}"
                        active.append(
                            ActiveFilter(label, end.isoformat(), {f"{name}_{suffix}": None, "page": None})
                        )
                continue
            shown = dict(field.choices).get(value, value) if hasattr(field, "choices") else value
            href = changed_query(self.request.GET, {name: None, "page": None})
            active.append(ActiveFilter(str(field.label), str(shown), href))
        return active

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        valid = not self.filterset.is_bound or self.filterset.is_valid()
        result = self.object_list
        query = changed_query(self.request.GET, {"page": None})
        context.update(
            downloads=[
                (name, reverse(f"{name}_csv") + query, reverse(f"{name}_json") + query)
                for name in self.downloads
            ],
            page_title=self.page_title,
            feed_url_name=self.feed_url_name,
            description=self.description,
            result_count=context["paginator"].count if context.get("paginator") else len(result),
            active_filters=self.active_filters(),
            facets=self.facets(result) if valid else [],
            filters_valid=valid,
        )
        return context


class ClaimListView(PublicListView):
    filterset_class = ClaimFilter
    downloads = ("claims", "citations")
    feed_url_name = "claims_feed"
    template_name = "talks/claim_list.html"
    page_title = "Claims"
    description = "Every claim in the archive, each tied to the articles that reported it."

    def base_queryset(self):
        return ClaimFilter.base_queryset().with_display_relations()

    def facets(self, result):
        query = self.request.GET
        claims = Claim.objects.filter(pk__in=result.values("pk"))
        return [
            facet(
                query,
                "issue",
                "Issue",
                grouped(claims.filter(issues__publication_status=PUBLISHED), "issues__slug", "issues__name"),
            ),
            facet(query, "party", "Party", grouped(claims, "party__slug", "party__name")),
            facet(
                query,
                "kind",
                "Kind",
                grouped(claims, "kind", "kind"),
                labels=dict(Claim.Kind.choices),
            ),
            facet(
                query,
                "round",
                "Round",
                grouped(claims.filter(round__publication_status=PUBLISHED), "round__slug", "round__title"),
            ),
        ]


class RoundListView(PublicListView):
    filterset_class = RoundFilter
    downloads = ("rounds", "delegations")
    feed_url_name = "rounds_feed"
    template_name = "talks/round_list.html"
    page_title = "Rounds"
    description = "Rounds of peace talks: when and where they met, who took part, and what came of it."

    def base_queryset(self):
        return RoundFilter.base_queryset().select_related("track")

    def facets(self, result):
        query = self.request.GET
        rounds = Round.objects.filter(pk__in=result.values("pk"))
        return [
            facet(query, "track", "Track", grouped(rounds, "track__slug", "track__name")),
            facet(
                query,
                "status",
                "Status",
                grouped(rounds, "status", "status"),
                dict(Round.Status.choices),
            ),
            facet(
                query,
                "format",
                "Format",
                grouped(rounds, "format", "format"),
                dict(Round.Format.choices),
            ),
            facet(query, "country", "Country", grouped(rounds, "country", "country")),
            facet(
                query,
                "party",
                "Party",
                grouped(Delegation.objects.filter(round__in=rounds), "party__slug", "party__name").annotate(
                    count=Count("round", distinct=True)
                ),
            ),
        ]


class SourceListView(PublicListView):
    filterset_class = SourceFilter
    downloads = ("sources",)
    template_name = "talks/source_list.html"
    page_title = "Sources"
    description = "The articles the archive cites, with what is known about each."

    def base_queryset(self):
        return (
            SourceFilter.base_queryset()
            .select_related("outlet")
            # A per-row subquery: counted for the 25 rows shown, not by grouping every citation.
            .annotate(claim_count=count_of_published_claims())
            .order_by(F("published_on").desc(nulls_last=True), "headline", "pk")
        )

    def facets(self, result):
        query = self.request.GET
        articles = SourceArticle.objects.filter(pk__in=result.values("pk"))
        outlets = [
            (slug or "unknown", name or "Unknown outlet", count)
            for slug, name, count in grouped(articles, "outlet__slug", "outlet__name")
        ]
        return [
            facet(query, "outlet", "Outlet", outlets),
            facet(query, "language", "Language", grouped(articles, "language", "language")),
        ]


class ParticipantListView(PublicListView):
    filterset_class = ParticipantFilter
    downloads = ("participants",)
    template_name = "talks/participant_list.html"
    page_title = "People"
    description = "Negotiators, officials and others who took part in or spoke about the talks."

    def base_queryset(self):
        return ParticipantFilter.base_queryset().select_related("party")

    def facets(self, result):
        query = self.request.GET
        people = Participant.objects.filter(pk__in=result.values("pk"))
        seats = Membership.objects.published().filter(participant__in=people)
        return [
            facet(query, "party", "Party", grouped(people, "party__slug", "party__name")),
            facet(
                query,
                "role",
                "Seat held",
                seats.values_list("role", "role")
                .annotate(count=Count("participant", distinct=True))
                .order_by(),
                dict(Membership.Role.choices),
            ),
        ]


class IssueListView(PublicListView):
    filterset_class = IssueFilter
    downloads = ("issues",)
    template_name = "talks/issue_list.html"
    page_title = "Issues"
    description = "The topics negotiated, with how many claims the archive holds on each."
    paginate_by = 100

    def base_queryset(self):
        return (
            IssueFilter.base_queryset()
            .select_related("parent")
            .annotate(
                claim_count=Count("claims", filter=Q(claims__publication_status=PUBLISHED), distinct=True)
            )
            .order_by("name")
        )
