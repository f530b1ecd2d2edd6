"""Who may do what: an editor writes, a chief editor also publishes, withdraws and deletes."""

import datetime
import io
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from sources.models import SourceArticle
from talks.models import Claim, Round
from tests.admin_forms import form_as_shown
from tests.builders import PUBLISHED, make_article, make_citation, make_claim, make_outlet, make_round

pytestmark = pytest.mark.django_db


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_setting_up_the_roles_twice_changes_nothing(roles):
    before = {
        group.name: set(group.permissions.values_list("codename", flat=True)) for group in Group.objects.all()
    }
    call_command("setup_roles", stdout=io.StringIO())
    after = {
        group.name: set(group.permissions.values_list("codename", flat=True)) for group in Group.objects.all()
    }
    assert before == after
    assert "publish_claim" in after["Chief editors"] and "publish_claim" not in after["Editors"]
    assert "delete_round" in after["Chief editors"] and "delete_round" not in after["Editors"]
    assert not any(codename.endswith("_user") for codename in after["Chief editors"])


def test_an_editor_adds_changes_and_views_records_but_cannot_delete_them(editor_client):
    claim = make_claim()
    for url in [
        admin_url(Claim, "changelist"),
        admin_url(Claim, "add"),
        admin_url(Claim, "change", claim.pk),
    ]:
        assert editor_client.get(url).status_code == 200
    assert editor_client.get(admin_url(Claim, "history", claim.pk)).status_code == 200
    assert editor_client.get(admin_url(Claim, "delete", claim.pk)).status_code == 403
    assert editor_client.get(reverse("admin:auth_user_changelist")).status_code == 403


def test_an_editor_cannot_publish_by_form_or_by_action(editor_client):
    page = editor_client.get(admin_url(Claim, "add"))
    assert "publication_status" not in page.context["adminform"].form.fields
    claim = make_claim(text="Waiting for review.")
    make_citation(claim=claim, article=make_article(publication_status=PUBLISHED))
    change_page = editor_client.get(admin_url(Claim, "change", claim.pk))
    data = form_as_shown(change_page, publication_status="published", text="Reviewed by myself.")
    assert editor_client.post(admin_url(Claim, "change", claim.pk), data).status_code == 302
    claim.refresh_from_db()
    assert (claim.text, claim.publication_status) == ("Reviewed by myself.", "draft")
    action_form = editor_client.get(admin_url(Claim, "changelist")).context["action_form"]
    assert action_form is None or "publish_selected" not in dict(action_form.fields["action"].choices)


def test_a_chief_editor_publishes_a_claim_backed_by_a_published_article_and_checked_by_a_second_editor(
    chief_client,
):
    claim = make_claim()
    make_citation(claim=claim, article=make_article(publication_status=PUBLISHED))
    Claim.objects.filter(pk=claim.pk).update(checked_on=datetime.date(2026, 3, 1))
    data = form_as_shown(
        chief_client.get(admin_url(Claim, "change", claim.pk)), publication_status="published"
    )
    assert chief_client.post(admin_url(Claim, "change", claim.pk), data).status_code == 302
    claim.refresh_from_db()
    assert claim.publication_status == "published" and claim.first_published_at is not None


def test_a_claim_without_a_citation_of_a_published_article_cannot_be_published(chief_client):
    claim = make_claim()
    make_citation(claim=claim, article=make_article())  # a draft article
    data = form_as_shown(
        chief_client.get(admin_url(Claim, "change", claim.pk)), publication_status="published"
    )
    response = chief_client.post(admin_url(Claim, "change", claim.pk), data)
    assert response.status_code == 200
    assert (
        "A claim cannot be published without at least one citation of a published article"
        in response.content.decode()
    )
    claim.refresh_from_db()
    assert claim.publication_status == "draft"


def test_a_round_without_a_start_date_cannot_be_published(chief_client):
    round_ = make_round(start_date=None, end_date=None)
    data = form_as_shown(
        chief_client.get(admin_url(Round, "change", round_.pk)), publication_status="published"
    )
    response = chief_client.post(admin_url(Round, "change", round_.pk), data)
    assert response.context["adminform"].form.errors["start_date"] == [
        "A round cannot be published without a start date."
    ]
    round_.refresh_from_db()
    assert round_.publication_status == "draft"


def test_publishing_in_bulk_publishes_what_passes_and_says_what_is_missing_for_the_rest(chief_client):
    ready = make_round(title="Ready round")
    undated = make_round(title="Undated round", start_date=None, end_date=None)
    response = chief_client.post(
        admin_url(Round, "changelist"),
        {"action": "publish_selected", "_selected_action": [ready.pk, undated.pk]},
        follow=True,
    )
    messages = [str(message) for message in response.context["messages"]]
    assert "Published 1 record." in messages
    assert "Not published: “Undated round”: it has no start date." in messages
    assert Round.objects.get(pk=ready.pk).publication_status == "published"
    assert Round.objects.get(pk=undated.pk).publication_status == "draft"


def test_a_chief_editor_withdraws_records_in_bulk_with_a_public_reason(chief_client):
    article = make_article(headline="Mistaken report", publication_status=PUBLISHED)
    url = admin_url(SourceArticle, "changelist")
    confirm = chief_client.post(url, {"action": "withdraw_selected", "_selected_action": [article.pk]})
    assert "Why are these records withdrawn?" in confirm.content.decode()
    chief_client.post(
        url,
        {
            "action": "withdraw_selected",
            "_selected_action": [article.pk],
            "apply": "1",
            "reason": "The outlet retracted it.",
        },
    )
    article.refresh_from_db()
    assert (article.publication_status, article.withdrawal_reason) == (
        "withdrawn",
        "The outlet retracted it.",
    )
    assert article.withdrawn_at is not None


@pytest.mark.parametrize(
    ("build", "dependant"),
    [
        (lambda: make_citation().article, "Citation"),
        (lambda: make_claim(round=make_round()).round, "Claim"),
        (lambda: _claim_about_an_issue(), "Claim&#x27;s issue"),
        (lambda: make_article(outlet=make_outlet()).outlet, "Source article"),
    ],
)
def test_deleting_a_record_others_depend_on_is_refused_with_the_list_of_dependants(
    chief_client, build, dependant
):
    record = build()
    url = admin_url(type(record), "delete", record.pk)
    page = chief_client.get(url)
    assert page.status_code == 200
    assert "would require deleting the following protected related objects" in page.content.decode()
    assert dependant in page.content.decode()
    assert chief_client.post(url, {"post": "yes"}).status_code == 200
    assert type(record).objects.filter(pk=record.pk).exists()


def _claim_about_an_issue():
    from tests.builders import make_issue

    issue = make_issue()
    make_claim().issues.add(issue)
    return issue


def test_a_chief_editor_deletes_and_the_deletion_can_be_found_and_restored(chief_client):
    claim = make_claim(text="Entered twice by mistake.")
    assert chief_client.post(admin_url(Claim, "delete", claim.pk), {"post": "yes"}).status_code == 302
    assert not Claim.objects.filter(pk=claim.pk).exists()
    deleted = chief_client.get(reverse("deleted_records")).content.decode()
    assert "Entered twice by mistake." in deleted
    history_url = admin_url(Claim, "history", claim.pk)
    assert history_url in deleted
    version = Claim.history.filter(id=claim.pk, history_type="+").get()
    restore_url = reverse("admin:talks_claim_simple_history", args=[claim.pk, version.history_id])
    data = form_as_shown(chief_client.get(restore_url))
    assert chief_client.post(restore_url, data).status_code == 302
    assert Claim.objects.get(pk=claim.pk).text == "Entered twice by mistake."


def test_deleting_a_published_claim_with_citations_lists_it_and_its_citations_as_deleted(chief_client):
    from tests.builders import make_public_claim

    claim = make_public_claim(text="A published claim, deleted with its sources.")
    citations = list(claim.citations.values_list("pk", flat=True))
    assert chief_client.post(admin_url(Claim, "delete", claim.pk), {"post": "yes"}).status_code == 302
    response = chief_client.get(reverse("deleted_records"))
    assert response.status_code == 200
    deleted = response.content.decode()
    assert "A published claim, deleted with its sources." in deleted
    for pk in citations:
        assert f"citation #{pk}, deleted with a record it belonged to" in deleted


def test_an_editor_restores_a_deleted_published_claim_as_a_draft(chief_client, editor_client):
    from tests.builders import make_public_claim

    claim = make_public_claim(text="Deleted, then restored by an editor.")
    version = Claim.history.filter(id=claim.pk).order_by("-history_date").first()
    assert chief_client.post(admin_url(Claim, "delete", claim.pk), {"post": "yes"}).status_code == 302
    restore_url = reverse("admin:talks_claim_simple_history", args=[claim.pk, version.history_id])
    data = form_as_shown(editor_client.get(restore_url))
    assert editor_client.post(restore_url, data).status_code == 302
    restored = Claim.objects.get(pk=claim.pk)
    assert (restored.text, restored.publication_status) == ("Deleted, then restored by an editor.", "draft")


def test_a_reader_is_sent_to_the_login_and_never_reaches_the_admin(client):
    response = client.get(admin_url(Claim, "changelist"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    assert client.get(reverse("deleted_records")).status_code == 302


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", ""])
def test_a_login_whose_next_address_is_refused_lands_on_the_admin_index(client, editor, next_url):
    response = client.post(
        reverse("admin:login") + "?" + urlencode({"next": next_url}),
        {"username": "edith", "password": "a long unguessable password", "next": next_url},
    )
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
    assert client.get(response["Location"]).status_code == 200


def test_repeated_failed_logins_lock_the_account_out_for_a_finite_cool_off(client, editor, settings):
    url = reverse("admin:login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(url, {"username": "edith", "password": "wrong"})
    response = client.post(url, {"username": "edith", "password": "a long unguessable password"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert 0 < settings.AXES_COOLOFF_TIME.total_seconds() <= 3600


PASSWORD = "a long unguessable password"


def logs_in_to_the_admin(username) -> bool:
    from django.test import Client

    response = Client().post(
        reverse("admin:login"), {"username": username, "password": PASSWORD, "next": reverse("admin:index")}
    )
    return response.status_code == 302 and response["Location"] == reverse("admin:index")


def test_a_user_put_in_a_role_can_log_in_to_the_admin_and_loses_access_with_the_role(
    roles, django_user_model
):
    user = django_user_model.objects.create_user("newcomer", password=PASSWORD)
    assert not logs_in_to_the_admin("newcomer")
    user.groups.add(Group.objects.get(name="Editors"))
    assert logs_in_to_the_admin("newcomer")
    user.groups.set([Group.objects.get(name="Chief editors")])
    assert logs_in_to_the_admin("newcomer")
    user.groups.clear()
    assert not logs_in_to_the_admin("newcomer")


def test_a_role_granted_or_taken_from_the_groups_side_grants_or_takes_admin_access(roles, django_user_model):
    editors = Group.objects.get(name="Editors")
    django_user_model.objects.create_user("newcomer", password=PASSWORD)
    editors.user_set.add(django_user_model.objects.get(username="newcomer"))
    assert logs_in_to_the_admin("newcomer")
    editors.user_set.clear()
    assert not logs_in_to_the_admin("newcomer")


def test_a_group_that_is_not_a_role_grants_no_admin_access(roles, django_user_model):
    readers = Group.objects.create(name="Newsletter readers")
    user = django_user_model.objects.create_user("newcomer", password=PASSWORD)
    user.groups.add(readers)
    assert not logs_in_to_the_admin("newcomer")


def test_a_superuser_keeps_admin_access_without_a_role(roles, django_user_model):
    admin_user = django_user_model.objects.create_superuser("root", password=PASSWORD)
    admin_user.groups.add(Group.objects.get(name="Editors"))
    admin_user.groups.clear()
    assert logs_in_to_the_admin("root")


def test_putting_a_user_in_a_role_in_the_users_admin_is_enough_to_log_in(roles, django_user_model):
    from django.test import Client

    superuser = django_user_model.objects.create_superuser("root", password=PASSWORD)
    user = django_user_model.objects.create_user("newcomer", password=PASSWORD)
    client = Client()
    client.force_login(superuser)
    url = reverse("admin:auth_user_change", args=[user.pk])
    data = form_as_shown(client.get(url), groups=[str(Group.objects.get(name="Editors").pk)])
    data.pop("is_staff", None)  # the box the README never mentioned stays unticked
    joined = data.pop("date_joined")  # shown as two inputs, a date and a time
    data.update(date_joined_0=joined.date().isoformat(), date_joined_1=joined.time().isoformat())
    assert client.post(url, data).status_code == 302
    assert logs_in_to_the_admin("newcomer")


def test_create_editor_makes_an_editor_who_can_log_in_in_one_step(db, monkeypatch, django_user_model):
    monkeypatch.setenv("PARLEY_EDITOR_PASSWORD", PASSWORD)
    call_command("create_editor", "edwina", "--noinput", stdout=io.StringIO())
    call_command("create_editor", "chiara", "--chief", "--noinput", stdout=io.StringIO())
    assert logs_in_to_the_admin("edwina") and logs_in_to_the_admin("chiara")
    edwina, chiara = (django_user_model.objects.get(username=name) for name in ("edwina", "chiara"))
    assert not edwina.has_perm("talks.publish_claim") and chiara.has_perm("talks.publish_claim")
    assert not edwina.is_superuser and not chiara.is_superuser


def test_create_editor_refuses_a_taken_name_or_a_weak_password_and_creates_nothing(
    db, monkeypatch, django_user_model
):
    from django.core.management.base import CommandError

    django_user_model.objects.create_user("edwina", password=PASSWORD)
    monkeypatch.setenv("PARLEY_EDITOR_PASSWORD", PASSWORD)
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_editor", "edwina", "--noinput", stdout=io.StringIO())
    monkeypatch.setenv("PARLEY_EDITOR_PASSWORD", "123")
    with pytest.raises(CommandError, match="password was refused"):
        call_command("create_editor", "otto", "--noinput", stdout=io.StringIO())
    assert not django_user_model.objects.filter(username="otto").exists()


def test_restoring_a_deleted_claim_brings_back_its_citations_and_issue_links(chief_client, editor_client):
    from talks.models import Citation
    from tests.builders import make_public_claim

    claim = make_public_claim(text="Deleted with its sources, then restored.")
    issues = set(claim.issues.values_list("pk", flat=True))
    citations = {row["pk"]: row for row in claim.citations.values("pk", "article_id", "quote", "stance")}
    version = Claim.history.filter(id=claim.pk).order_by("-history_date").first()
    assert chief_client.post(admin_url(Claim, "delete", claim.pk), {"post": "yes"}).status_code == 302
    assert not Citation.objects.filter(pk__in=citations).exists()

    restore_url = reverse("admin:talks_claim_simple_history", args=[claim.pk, version.history_id])
    response = editor_client.post(restore_url, form_as_shown(editor_client.get(restore_url)), follow=True)
    assert response.status_code == 200
    assert "Restored with it: 2 citations." in response.content.decode()
    restored = Claim.objects.get(pk=claim.pk)
    assert set(restored.issues.values_list("pk", flat=True)) == issues
    assert {
        row["pk"]: row for row in restored.citations.values("pk", "article_id", "quote", "stance")
    } == citations


def test_a_citation_deleted_before_its_claim_or_whose_article_is_gone_is_not_restored(chief_client):
    import datetime as dt

    from talks.models import Citation
    from tests.builders import make_public_claim

    claim = make_public_claim(text="Restored without what was removed on purpose.")
    removed_on_purpose, cites_a_lost_article = claim.citations.order_by("pk")
    make_citation(claim=claim, article=make_article(publication_status=PUBLISHED), quote="the third")
    removed_pk = removed_on_purpose.pk
    removed_on_purpose.delete()
    Citation.history.filter(id=removed_pk, history_type="-").update(
        history_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    version = Claim.history.filter(id=claim.pk).order_by("-history_date").first()
    assert chief_client.post(admin_url(Claim, "delete", claim.pk), {"post": "yes"}).status_code == 302
    SourceArticle.objects.filter(pk=cites_a_lost_article.article_id).delete()

    restore_url = reverse("admin:talks_claim_simple_history", args=[claim.pk, version.history_id])
    # Restored as a draft: its check does not come back, and a second editor reads it again.
    data = form_as_shown(chief_client.get(restore_url), publication_status="draft")
    response = chief_client.post(restore_url, data, follow=True)
    html = response.content.decode()
    assert "Restored with it: 1 citation." in html and "whose article was deleted since" in html
    assert list(Claim.objects.get(pk=claim.pk).citations.values_list("quote", flat=True)) == ["the third"]


def test_someone_who_may_only_view_history_is_told_plainly_they_may_not_restore(
    chief_client, django_user_model
):
    from django.contrib.auth.models import Permission
    from django.test import Client

    claim = make_claim(text="Deleted, and a viewer tries to restore it.")
    version = Claim.history.filter(id=claim.pk).get()
    assert chief_client.post(admin_url(Claim, "delete", claim.pk), {"post": "yes"}).status_code == 302
    viewer = django_user_model.objects.create_user("viewer", password=PASSWORD, is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_claim"))
    client = Client()
    client.force_login(viewer)
    restore_url = reverse("admin:talks_claim_simple_history", args=[claim.pk, version.history_id])
    data = form_as_shown(chief_client.get(restore_url))
    response = client.post(restore_url, data)
    assert response.status_code == 403
    assert "You are not allowed to restore this record" in response.content.decode()
    assert not Claim.objects.filter(pk=claim.pk).exists()


def test_restoring_a_deleted_round_brings_back_its_delegations_and_their_seats(chief_client):
    from talks.models import Delegation, Membership
    from tests.builders import make_delegation, make_membership

    round_ = make_round(title="A round entered twice")
    delegation = make_delegation(round=round_)
    seat = make_membership(delegation=delegation, title="Head of delegation")
    version = Round.history.filter(id=round_.pk).get()
    assert chief_client.post(admin_url(Round, "delete", round_.pk), {"post": "yes"}).status_code == 302
    assert not Membership.objects.filter(pk=seat.pk).exists()

    restore_url = reverse("admin:talks_round_simple_history", args=[round_.pk, version.history_id])
    data = form_as_shown(chief_client.get(restore_url))
    response = chief_client.post(restore_url, data, follow=True)
    assert "Restored with it: 1 delegation, 1 membership." in response.content.decode()
    assert Delegation.objects.get(pk=delegation.pk).round_id == round_.pk
    assert Membership.objects.get(pk=seat.pk).title == "Head of delegation"


def test_a_chief_editor_restoring_a_deleted_published_claim_gets_a_draft_to_publish_again(chief_client):
    from tests.builders import make_public_claim

    claim = make_public_claim(text="Deleted while published, restored by a chief editor.")
    version = Claim.history.filter(id=claim.pk).order_by("-history_date").first()
    assert chief_client.post(admin_url(Claim, "delete", claim.pk), {"post": "yes"}).status_code == 302
    restore_url = reverse("admin:talks_claim_simple_history", args=[claim.pk, version.history_id])
    data = form_as_shown(chief_client.get(restore_url), publication_status="published")
    response = chief_client.post(restore_url, data, follow=True)
    assert "Restored as a draft" in response.content.decode()
    assert Claim.objects.get(pk=claim.pk).publication_status == "draft"
    assert chief_client.get(claim.get_absolute_url()).status_code == 200  # a preview, for an editor
    from django.test import Client

    assert Client().get(claim.get_absolute_url()).status_code == 404


def test_a_restore_opened_while_the_record_was_deleted_does_not_overwrite_a_restore_made_since(
    chief_client, editor_client
):
    claim = make_claim(text="Version one.")
    first = Claim.history.filter(id=claim.pk).get()
    assert chief_client.post(admin_url(Claim, "delete", claim.pk), {"post": "yes"}).status_code == 302
    restore_url = reverse("admin:talks_claim_simple_history", args=[claim.pk, first.history_id])
    opened_by_the_editor = form_as_shown(editor_client.get(restore_url))

    assert chief_client.post(restore_url, form_as_shown(chief_client.get(restore_url))).status_code == 302
    restored = Claim.objects.get(pk=claim.pk)
    restored.text = "Version two, corrected after the restore."
    restored.save()

    response = editor_client.post(restore_url, opened_by_the_editor)
    assert response.status_code == 200
    assert "Someone restored this record after you opened this version" in response.content.decode()
    assert Claim.objects.get(pk=claim.pk).text == "Version two, corrected after the restore."


def test_deleting_a_role_takes_admin_access_from_its_members(roles, django_user_model):
    user = django_user_model.objects.create_user("newcomer", password=PASSWORD)
    user.groups.add(Group.objects.get(name="Editors"))
    assert logs_in_to_the_admin("newcomer")
    Group.objects.get(name="Editors").delete()
    assert not logs_in_to_the_admin("newcomer")
