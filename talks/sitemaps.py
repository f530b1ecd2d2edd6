"""/sitemap.xml: every published page, and nothing else."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from sources.models import SourceArticle
from talks.models import Claim, Issue, Participant, Round


class RecordSitemap(Sitemap):
    model = None

    def items(self):
        return self.model.objects.published().order_by("pk")

    def lastmod(self, record):
        return record.public_updated_at or record.first_published_at


class RoundSitemap(RecordSitemap):
    model = Round
    priority = 0.8


class IssueSitemap(RecordSitemap):
    model = Issue


class ParticipantSitemap(RecordSitemap):
    model = Participant


class SourceSitemap(RecordSitemap):
    model = SourceArticle


class ClaimSitemap(RecordSitemap):
    model = Claim


class PageSitemap(Sitemap):
    def items(self):
        return [
            "home",
            "round_list",
            "issue_list",
            "participant_list",
            "source_list",
            "claim_list",
            "about",
            "downloads",
            "changes",
        ]

    def location(self, name):
        return reverse(name)


SITEMAPS = {
    "pages": PageSitemap,
    "rounds": RoundSitemap,
    "issues": IssueSitemap,
    "participants": ParticipantSitemap,
    "sources": SourceSitemap,
    "claims": ClaimSitemap,
}
