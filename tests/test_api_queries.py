"""Each API address runs the same number of queries whatever the amount of data, its expansions
included: pinned at two sizes, as tests/test_public_queries.py pins the pages."""

import pytest
from django.urls import reverse

from tests.test_public_queries import Archive, queries_per_page

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unthrottled_api")]


class ApiArchive(Archive):
    def pages(self):
        claim = reverse("api:claim-detail", args=[self.claim.key])
        return {
            "claims": reverse("api:claim-list") + "?page_size=100",
            "claims, every expansion": reverse("api:claim-list")
            + "?page_size=100&expand=round,speaker,party,issues,citations,disagreements",
            "claims, filtered": reverse("api:claim-list") + f"?issue={self.issue.slug}&q=Geneva",
            "claims, changed since": reverse("api:claim-list") + "?updated_since=2000-01-01T00:00:00Z",
            "claim, expanded": claim + "?expand=round,speaker,party,issues,citations,disagreements",
            "citations": reverse("api:citation-list") + f"?claim={self.claim.key}&page_size=100",
            "rounds, with delegations": reverse("api:round-list") + "?page_size=100&expand=delegations",
            "round": reverse("api:round-detail", args=[self.round.slug]) + "?expand=delegations",
            "people": reverse("api:person-list") + "?page_size=100&q=Geneva",
            "people, with seats": reverse("api:person-list") + "?page_size=100&expand=seats",
            "articles": reverse("api:article-list") + "?page_size=100",
            "issues": reverse("api:issue-list") + "?page_size=100",
            "issues, with sub-issues": reverse("api:issue-list") + "?page_size=100&expand=sub_issues",
            "disagreements": reverse("api:disagreement-list") + "?page_size=100&expand=round",
            "releases": reverse("api:release-list"),
            "removals": reverse("api:removal-list"),
        }


def test_every_api_address_runs_as_many_queries_for_30_rows_as_for_3(client):
    archive = ApiArchive()
    archive.grow(3)
    small = queries_per_page(client, archive)
    archive.grow(27)
    large = queries_per_page(client, archive)
    assert large == small
    assert max(small.values()) <= 8
