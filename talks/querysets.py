"""What readers may see, and how claims carry their evidence. Every public page, count, facet and
search goes through these, so "published" is decided in one place.

A record with a publication status is public when published. Records without one are public
through the records they join, which each model names in `public_with` (sources/record_base.py): a
delegation with its round, a seat with its delegation and its person, a citation with its claim and
its article.
"""

from django.core.exceptions import EmptyResultSet
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from sources.record_base import PublicationStatus, PublishableQuerySet, public_condition

PUBLISHED = PublicationStatus.PUBLISHED


def compiled(queryset: QuerySet) -> tuple[str, tuple] | None:
    """The SQL and parameters of a queryset that is read straight from the database driver, or None
    when its filters cannot match (an empty list of keys, none()): Django then runs no query."""
    try:
        return queryset.query.sql_with_params()
    except EmptyResultSet:
        return None


def count_of(subquery: QuerySet, field: str):
    """A per-claim count as a correlated subquery, so joins elsewhere in the query cannot inflate it."""
    counted = subquery.order_by().values("claim").annotate(n=Count(field, distinct=True)).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def evidence_of_claim(all_citations: QuerySet | None = None):
    """The values of a claim's stored evidence fields, as expressions on Claim rows (`OuterRef("pk")`).

    Counted over citations of published articles. An article whose outlet is unknown counts as an
    outlet of its own: in the archive as it is, unnamed outlets are distinct sites, and /about/ says so.
    A migration passes its own historical citations.
    """
    if all_citations is None:
        from talks.models import Citation

        all_citations = Citation.objects.all()
    citations = all_citations.filter(claim=OuterRef("pk"), article__publication_status=PUBLISHED)
    return {
        "outlet_count": count_of(citations.filter(article__outlet__isnull=False), "article__outlet")
        + count_of(citations.filter(article__outlet__isnull=True), "article"),
        "disputed": Exists(citations.filter(stance="disputes")),
    }


def listed_date():
    """The date a claim is listed, filtered and ordered under, as an expression on Claim rows: its
    own date, or else its published round's start."""
    from talks.models import Round

    # Only a published round's: a draft round's dates are not public, even through a claim's order.
    round_start = Round.objects.published().filter(pk=OuterRef("round_id")).values("start_date")[:1]
    return Coalesce("date", Subquery(round_start))


RECORD_DATES = ("created_at", "updated_at", "first_published_at", "public_updated_at", "withdrawn_at")
CLAIM_UNSHOWN = (
    *RECORD_DATES,
    "withdrawal_reason",
    "notes",
    "date_note",
)  # a claim's columns its card does not read
UNSHOWN = {  # columns of a claim's round and speaker that no page showing claims reads
    "round": (*RECORD_DATES, "withdrawal_reason", "summary", "outcome", "dates_note", "venue"),
    "speaker": (*RECORD_DATES, "withdrawal_reason", "aliases", "description", "seat_roles"),
}
CITATION_SHOWN = (
    "claim",
    "quote",
    "stance",
    "note",
    "article__headline",
    "article__published_on",
    "article__published_on_precision",
    "article__outlet__name",
)


class ClaimQuerySet(PublishableQuerySet):
    def for_display(self, record_dates: bool = False):
        """Everything a claim shows wherever it appears, in a fixed number of queries: its round, party,
        speaker, published citations and issues (its evidence is stored on the claim itself).
        `record_dates` also reads the claim's own timestamps and notes, which only its page shows."""
        from talks.models import Citation, Disagreement, DisagreementClaim, Issue

        # Only the columns a claim's card and a round's list of sources show are read for its round,
        # speaker, citations and articles: an article's stored text can run to pages, and turning
        # each row's timestamps into datetimes is work that no card needs.
        deferred = [
            f"{relation}__{column}" for relation in ("round", "speaker") for column in UNSHOWN[relation]
        ]
        if not record_dates:
            deferred += CLAIM_UNSHOWN
        return (
            self.select_related("round", "party", "speaker")
            .defer(*deferred)
            .prefetch_related(
                Prefetch(
                    "citations",
                    queryset=Citation.objects.published()
                    .select_related("article__outlet")
                    .only(*CITATION_SHOWN)
                    .order_by("id"),
                    to_attr="public_citations",
                ),
                Prefetch(
                    "issues",
                    queryset=Issue.objects.published().only("name", "slug", "publication_status"),
                    to_attr="public_issues",
                ),
                Prefetch(
                    "disagreement_links",
                    # Its disagreement's status only, not `published()`'s: an editor's preview of
                    # a draft claim shows its published disagreements too.
                    queryset=DisagreementClaim.objects.filter(
                        public_condition(Disagreement, "disagreement__")
                    )
                    .select_related("disagreement")
                    .only("claim", "version", "disagreement__slug", "disagreement__question")
                    .order_by("disagreement__question", "disagreement_id"),
                    to_attr="public_disagreements",
                ),
            )
        )
