"""The API's documentation page works in a browser under the site's Content-Security-Policy."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_api_docs_render_every_list_with_no_csp_violation(page, settings):
    settings.API_THROTTLE_RATE = None
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Refused" in message.text else None)
    page.goto("/api/v1/docs/")
    page.get_by_text("/api/v1/claims/", exact=True).first.wait_for()
    assert page.get_by_text("/api/v1/removals/", exact=True).count() >= 1
    assert refused == []
