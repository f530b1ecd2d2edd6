"""The API keeps to its OpenAPI document: schemathesis sends every operation in the generated
document (/api/v1/schema/) requests drawn from it, valid and not, against the seed archive; no answer
may be a server error, and each must match the response the document declares for it.

Bounded: a few examples an operation, each with a deadline, so the whole run takes well under a
minute. The operations are run one by one from each one's Hypothesis strategy: the document is
generated over the database, which pytest's collection (schemathesis's `parametrize`) cannot reach."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from talks.releases import cut_release

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded_module", "unthrottled_api")]

EXAMPLES = 10


@pytest.fixture
def api_schema(settings):
    settings.ALLOWED_HOSTS = ["localhost"]  # schemathesis's WSGI client's host
    # The connection stays open between requests, as Django's test client keeps it: closing it at
    # a request's end (CONN_MAX_AGE 0 on PostgreSQL) would end the test's transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        # Django's WSGI handler, as config/wsgi.py serves it (without its warm-up of the list indexes).
        yield schemathesis.openapi.from_wsgi(
            "/api/v1/schema/",
            get_wsgi_application(),
            headers={"Accept": "application/vnd.oai.openapi+json"},
        )
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_the_document_has_every_operation(api_schema):
    operations = {result.ok().label for result in api_schema.get_all_operations()}
    assert len(operations) == 16  # 9 lists, 7 of them with a record's address
    assert "GET /api/v1/removals/" in operations and "GET /api/v1/claims/{key}/" in operations


def test_every_operation_answers_without_server_errors_and_as_documented(api_schema):
    cut_release(site_url="https://parley.example.org")  # so that the releases list has one to check
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=3000,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def answers_as_documented(case):
            case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

        try:
            answers_as_documented()
        except Exception as error:
            raise AssertionError(f"{operation.label}: {error}") from error
