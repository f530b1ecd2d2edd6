"""The two editorial roles, and admin access that follows them.

Membership of a role is what lets a person into the editors' admin: being put in "Editors" or
"Chief editors" grants the staff status Django's admin asks for, and leaving both takes it away
(superusers keep theirs), so that no one has to remember a second checkbox.
"""

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

EDITORS = "Editors"
CHIEF_EDITORS = "Chief editors"
ROLES = (EDITORS, CHIEF_EDITORS)
ARCHIVE_APPS = ("sources", "talks")


def archive_permissions(*actions: str):
    """The permissions for these actions on every archive model (their history included)."""
    models = [model for model in apps.get_models() if model._meta.app_label in ARCHIVE_APPS]
    codenames = [f"{action}_{model._meta.model_name}" for model in models for action in actions]
    return Permission.objects.filter(content_type__app_label__in=ARCHIVE_APPS, codename__in=codenames)


def set_up_roles() -> tuple[Group, Group]:
    """Create or update both roles; safe to run again. Members of either get admin access."""
    editors, _ = Group.objects.get_or_create(name=EDITORS)
    editors.permissions.set(archive_permissions("add", "change", "view"))
    chiefs, _ = Group.objects.get_or_create(name=CHIEF_EDITORS)
    chiefs.permissions.set(archive_permissions("add", "change", "view", "delete", "publish", "cut"))
    get_user_model().objects.filter(groups__name__in=ROLES, is_staff=False).update(is_staff=True)
    return editors, chiefs


def admit_by_role(user_ids) -> None:
    """Staff status for these users exactly when they hold a role (superusers always keep it)."""
    users = get_user_model().objects.filter(pk__in=user_ids)
    holding = users.filter(groups__name__in=ROLES).values("pk")
    users.filter(pk__in=holding).update(is_staff=True)
    users.exclude(pk__in=holding).filter(is_superuser=False).update(is_staff=False)


def remember_role_members(sender, instance, **kwargs):
    """pre_delete on Group: deleting a role drops its memberships without m2m_changed."""
    if instance.name in ROLES:
        instance._members_before_delete = list(instance.user_set.values_list("pk", flat=True))


def access_leaves_with_a_deleted_role(sender, instance, **kwargs):
    """post_delete on Group: its former members keep admin access only through another role."""
    admit_by_role(instance.__dict__.pop("_members_before_delete", []))


def access_follows_roles(sender, instance, action, reverse, pk_set, **kwargs):
    """m2m_changed on User.groups, from either side: a user's groups, or a group's users."""
    if reverse and instance.name not in ROLES:
        return
    if reverse and action == "pre_clear":
        instance._members_before_clear = list(instance.user_set.values_list("pk", flat=True))
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        if action == "post_clear" or Group.objects.filter(pk__in=pk_set, name__in=ROLES).exists():
            admit_by_role([instance.pk])
        return
    members = instance.__dict__.pop("_members_before_clear", []) if action == "post_clear" else pk_set
    admit_by_role(members)
