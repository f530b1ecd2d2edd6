from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def install_list_triggers(using, **kwargs):
    """After every migrate: the triggers that keep the lists' in-memory counts (talks/list_index.py)
    and the name of the cached dataset file (talks/dataset/state.py) honest, which SQLite drops
    whenever a migration rebuilds a table."""
    from talks.dataset.state import install_dataset_triggers
    from talks.list_index import install_triggers
    from talks.lists import LIST_INDEXES

    install_triggers(connections[using], LIST_INDEXES)
    install_dataset_triggers(connections[using])


class TalksConfig(AppConfig):
    name = "talks"
    verbose_name = "Talks"

    def ready(self):
        from simple_history.signals import post_create_historical_record

        from talks.changes import record_public_change

        post_create_historical_record.connect(record_public_change, dispatch_uid="parley_public_change")

        from talks import evidence

        evidence.connect()

        post_migrate.connect(install_list_triggers, sender=self, dispatch_uid="parley_list_triggers")

        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.db.models.signals import m2m_changed, post_delete, pre_delete

        from talks.roles import access_follows_roles, access_leaves_with_a_deleted_role, remember_role_members

        pre_delete.connect(remember_role_members, sender=Group, dispatch_uid="parley_remember_role_members")
        post_delete.connect(
            access_leaves_with_a_deleted_role, sender=Group, dispatch_uid="parley_access_leaves_with_a_role"
        )
        m2m_changed.connect(
            access_follows_roles,
            sender=get_user_model().groups.through,
            dispatch_uid="parley_access_follows_roles",
        )
