"""`make bench` times pages that exist: each URL it samples answers on a small archive."""

import pytest

from talks.management.served import API_BESIDE_PAGE, sample_api_pages, sample_pages
from tests.builders import PUBLISHED, make_public_claim, make_round

pytestmark = pytest.mark.django_db


def test_every_page_the_benchmark_times_answers_200_on_a_small_archive(client):
    for _ in range(3):
        make_public_claim()
    pages = sample_pages()
    assert {"round", "claim list, text filter", "feed", "sitemap page", "downloads page"} <= pages.keys()
    for name, urls in pages.items():
        for url in urls:
            assert client.get(url).status_code == 200, (name, url)


def test_every_api_endpoint_the_benchmark_times_answers_200_beside_a_page_it_times(client, settings):
    settings.API_THROTTLE_RATE = None
    for _ in range(3):
        make_public_claim(round=make_round(country="Switzerland", publication_status=PUBLISHED))
    pages, api_pages = sample_pages(), sample_api_pages()
    assert api_pages.keys() == API_BESIDE_PAGE.keys()
    assert {page for page in API_BESIDE_PAGE.values() if page} <= pages.keys()
    for name, urls in api_pages.items():
        for url in urls:
            assert client.get(url).status_code == 200, (name, url)
