import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sources.models import Outlet, SourceArticle
from talks.models import (
    Citation,
    Claim,
    ClaimIssue,
    Delegation,
    Disagreement,
    Issue,
    Membership,
    Participant,
    Party,
    PublicChange,
    Release,
    Round,
    Track,
)
from talks.releases import cut_release
from tests.builders import (
    make_article,
    make_citation,
    make_cited_claim,
    make_disagreement,
    make_issue,
    make_membership,
    make_outlet,
    make_participant,
    make_party,
    make_public_claim,
    make_round,
)

pytestmark = pytest.mark.django_db

# One builder per archive model, each making a row with the related records its list shows.
ROW_BUILDERS = {
    Outlet: lambda: make_article(outlet=make_outlet()).outlet,
    SourceArticle: lambda: make_citation(article=make_article(outlet=make_outlet())).article,
    Party: make_party,
    Track: lambda: make_round().track,
    Round: lambda: make_membership().delegation.round,
    Delegation: lambda: make_membership().delegation,
    Participant: lambda: make_participant(party=make_party()),
    Membership: make_membership,
    Issue: lambda: make_cited_claim().issues.update(parent=make_issue()),
    Claim: make_cited_claim,
    Citation: lambda: make_citation(article=make_article(outlet=make_outlet())),
    ClaimIssue: lambda: make_cited_claim().issue_links.first(),
    Disagreement: lambda: make_disagreement(round=make_round()),
    PublicChange: lambda: make_public_claim(),
    Release: lambda: cut_release(site_url="https://parley.example.org", notes="A release to list."),
}
# Written by the archive itself: editors read it but never add to it (a release is cut, not added).
READ_ONLY = {PublicChange, Release}
ARCHIVE_MODELS = list(ROW_BUILDERS)


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_archive_model_is_in_the_admin():
    registered = {model for model in admin.site._registry if model._meta.app_label in ("sources", "talks")}
    assert registered == set(ARCHIVE_MODELS)


@pytest.mark.parametrize("model", ARCHIVE_MODELS, ids=lambda model: model.__name__)
def test_a_superuser_sees_the_list_add_and_change_pages(admin_client, model):
    ROW_BUILDERS[model]()
    record = model.objects.first()
    for url in [
        admin_url(model, "changelist"),
        admin_url(model, "add"),
        admin_url(model, "change", record.pk),
    ]:
        response = admin_client.get(url)
        expected = 403 if model in READ_ONLY and url == admin_url(model, "add") else 200
        assert response.status_code == expected, url


@pytest.mark.parametrize("model", ARCHIVE_MODELS, ids=lambda model: model.__name__)
def test_an_anonymous_visitor_is_sent_to_the_login(client, model):
    ROW_BUILDERS[model]()
    record = model.objects.first()
    login = reverse("admin:login")
    for url in [
        admin_url(model, "changelist"),
        admin_url(model, "add"),
        admin_url(model, "change", record.pk),
    ]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(login)


def queries_to_list(client, model):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    return response, len(queries)


@pytest.mark.parametrize("model", ARCHIVE_MODELS, ids=lambda model: model.__name__)
def test_a_list_of_fifty_rows_runs_no_more_queries_than_a_list_of_five(admin_client, model):
    for _ in range(5):
        ROW_BUILDERS[model]()
    response, with_five = queries_to_list(admin_client, model)
    assert response.context["cl"].result_count >= 5
    for _ in range(45):
        ROW_BUILDERS[model]()
    response, with_fifty = queries_to_list(admin_client, model)
    assert response.context["cl"].result_count >= 50
    assert with_fifty <= with_five
