"""An export streams: the memory it needs does not grow with the number of rows."""

import tracemalloc

import pytest
from django.db import connection
from django.urls import reverse

from sources.models import SourceArticle
from talks.models import Citation, Claim

pytestmark = pytest.mark.django_db


def add_cited_claims(count: int, start: int) -> None:
    articles = SourceArticle.objects.bulk_create(
        SourceArticle(key=f"a{start + n}", headline=f"Headline {start + n}", publication_status="published")
        for n in range(count)
    )
    claims = Claim.objects.bulk_create(
        Claim(
            key=f"c{start + n}", text=f"Claim number {start + n} about Geneva", publication_status="published"
        )
        for n in range(count)
    )
    Citation.objects.bulk_create(
        Citation(claim=claim, article=article, quote=f"Quote {claim.key}", stance="supports")
        for claim, article in zip(claims, articles, strict=True)
    )
    # What autovacuum does after a bulk load: without statistics PostgreSQL plans this join badly.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def peak_memory_of_download(client) -> tuple[int, int]:
    """(bytes downloaded, peak bytes allocated while streaming them)."""
    tracemalloc.start()
    response = client.get(reverse("citations_csv"))
    size = sum(len(chunk) for chunk in response.streaming_content)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return size, peak


def test_ten_times_the_rows_need_about_the_same_memory(client):
    add_cited_claims(2_000, start=0)
    small_size, small_peak = peak_memory_of_download(client)
    add_cited_claims(18_000, start=2_000)
    large_size, large_peak = peak_memory_of_download(client)
    assert large_size > 9 * small_size
    assert large_peak < 2 * small_peak, (small_peak, large_peak)
    assert large_peak < 20 * 1024 * 1024
