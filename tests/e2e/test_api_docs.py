"""The API's documentation page works in a browser under the site's Content-Security-Policy."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

# Every violation the page meets, as the browser reports it to the page itself.
RECORD_VIOLATIONS = """
window.violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def test_the_api_docs_render_every_list_with_no_csp_violation(page, settings):
    settings.API_THROTTLE_RATE = None
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto("/api/v1/docs/")
    page.get_by_text("/api/v1/claims/", exact=True).first.wait_for()
    assert page.get_by_text("/api/v1/removals/", exact=True).count() >= 1
    assert page.evaluate("window.violations") == []
