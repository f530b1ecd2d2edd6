"""Atom feeds: new and updated rounds, claims and disagreements, the claims of one issue, and the
corrections log.

Each is a short Feed over the same published() querysets the pages use.
"""

from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from sources.record_base import last_public_change
from talks.models import Claim, Disagreement, Issue, PublicChange, Round
from talks.views import claims_on, claims_under

ITEMS = 50


def newest_first(queryset):
    """Last public change first: for claims, the order of the index `talks_claim_public_changes`."""
    return queryset.order_by(last_public_change().desc(nulls_last=True), "-pk")


class ArchiveFeed(Feed):
    feed_type = Atom1Feed

    def item_updateddate(self, item):
        return item.public_updated_at or item.first_published_at

    def item_pubdate(self, item):
        return item.first_published_at


class RoundsFeed(ArchiveFeed):
    title = "Parley: new and updated rounds"
    subtitle = "Rounds of peace talks published or updated in the open archive."

    def link(self):
        return reverse("round_list")

    def items(self):
        return newest_first(Round.objects.published().select_related("track"))[:ITEMS]

    def item_title(self, round_):
        return round_.title

    def item_description(self, round_):
        place = ", ".join(part for part in [round_.city, round_.country] if part)
        return (
            f"{round_.dates_label}{', ' + place if place else ''}. {round_.outcome or round_.summary}".strip()
        )


class ClaimsFeed(ArchiveFeed):
    title = "Parley: new and updated claims"
    subtitle = "Claims published or updated in the open archive, each traced to its sources."

    def link(self):
        return reverse("claim_list")

    def items(self):
        return newest_first(Claim.objects.published().select_related("round", "speaker"))[:ITEMS]

    def item_title(self, claim):
        return f"{claim.attribution_label}: {claim.text}" if claim.attribution_label else claim.text

    def item_description(self, claim):
        parts = [claim.get_kind_display(), claim.get_sourcing_display()]
        if claim.occurrence:
            parts.append(f"reported as {claim.get_occurrence_display().lower()}")
        if claim.speaker and claim.speaker.is_published:
            parts.append(claim.speaker.name)
        if claim.round and claim.round.is_published:
            parts.append(claim.round.title)
        return " · ".join(parts)


class IssueClaimsFeed(ClaimsFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Issue.objects.published(), slug=slug)

    def title(self, issue):
        return f"Parley: claims on {issue.name}"

    def subtitle(self, issue):
        return f"Claims on {issue.name} and its sub-issues, newest first."

    def link(self, issue):
        return issue.get_absolute_url()

    def items(self, issue):
        on_issue, _ = claims_on(issue, claims_under(issue), ITEMS)
        return newest_first(on_issue.select_related("round", "speaker"))[:ITEMS]


class ChangesFeed(Feed):
    """The corrections log as an Atom feed."""

    feed_type = Atom1Feed
    title = "Parley: changes to published records"
    subtitle = "Records published, corrected or withdrawn in the open archive of peace-talk rounds."

    def link(self):
        return reverse("changes")

    def items(self):
        return PublicChange.objects.all()[:ITEMS]

    def item_title(self, change):
        return f"{change.get_kind_display()}: {change.record_label}"

    def item_description(self, change):
        parts = [f"{change.get_kind_display()} {change.record_type}."]
        if change.changed_fields:
            parts.append(f"Changed: {change.changed_fields}.")
        if change.note:
            parts.append(change.note)
        return " ".join(parts)

    def item_link(self, change):
        return change.record_path

    def item_guid(self, change):
        return f"parley-change-{change.pk}"

    item_guid_is_permalink = False

    def item_updateddate(self, change):
        return change.at

    def item_pubdate(self, change):
        return change.at


class DisagreementsFeed(ArchiveFeed):
    title = "Parley: new and updated disagreements"
    subtitle = "Questions on which the articles differ, published or updated in the open archive."

    def link(self):
        return reverse("disagreement_list")

    def items(self):
        return newest_first(Disagreement.objects.published().select_related("round"))[:ITEMS]

    def item_title(self, disagreement):
        return disagreement.question

    def item_description(self, disagreement):
        return disagreement.description
