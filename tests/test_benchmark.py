"""`make bench` times pages that exist: each URL it samples answers on a small archive."""

import pytest

from talks.management.served import sample_pages
from tests.builders import make_public_claim

pytestmark = pytest.mark.django_db


def test_every_page_the_benchmark_times_answers_200_on_a_small_archive(client):
    for _ in range(3):
        make_public_claim()
    pages = sample_pages()
    assert {"round", "claim list, text filter", "feed", "sitemap page", "downloads page"} <= pages.keys()
    for name, urls in pages.items():
        for url in urls:
            assert client.get(url).status_code == 200, (name, url)
