"""generate_demo_data: a large archive for benchmarks, the same every time."""

import hashlib
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from talks.models import Citation, Claim, Round
from tests.builders import make_claim

pytestmark = pytest.mark.django_db


def generate(scale="0.002"):
    call_command("generate_demo_data", "--scale", scale, stdout=io.StringIO())


def fingerprint():
    rows = list(Claim.objects.order_by("key").values_list("key", "text", "round__slug", "date"))
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_it_builds_a_published_archive_in_the_proportions_of_the_full_size():
    generate()
    assert (Round.objects.count(), Claim.objects.count(), Citation.objects.count()) == (10, 600, 1200)
    assert not Claim.objects.exclude(publication_status="published").exists()
    assert Claim.objects.published().filter(outlet_count__gte=1).count() == 600


def test_the_same_seed_builds_the_same_archive():
    # The first archive is rolled back rather than deleted: deleting it record by record, with its
    # history and recounts, took 30 s of the PostgreSQL suite.
    with transaction.atomic():
        generate()
        first = fingerprint()
        transaction.set_rollback(True)
    assert not Claim.objects.exists()
    generate()
    assert fingerprint() == first


def test_it_refuses_to_mix_demo_data_into_an_archive():
    make_claim()
    with pytest.raises(CommandError, match="not empty"):
        generate()
