"""An archive that exists, with its triggers installed, migrates forward and back: SQLite rebuilds a
table to change it and refuses to while a trigger names it."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from talks.models import ListChange
from tests.builders import make_public_claim

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_THE_CHANGE_LOG = ("talks", "0024_text_limits")


def migrate_to(target) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])


def test_an_archive_with_its_triggers_migrates_past_the_change_log_and_back():
    make_public_claim()  # triggers installed by `migrate`, rows for them to write
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("talks")[0]
    migrate_to(BEFORE_THE_CHANGE_LOG)
    if connection.vendor == "sqlite":  # a trigger naming the versions' table, as the earlier code's
        with connection.cursor() as cursor:
            cursor.execute(
                'CREATE TRIGGER "sources_outlet_insert_moves_dataset" AFTER INSERT ON "sources_outlet" '
                "BEGIN UPDATE talks_listversion SET token = 'moved' WHERE name = 'dataset'; END"
            )
    migrate_to(latest)
    call_command("migrate", verbosity=0)  # as every deploy runs it: the triggers installed again
    claim = make_public_claim()
    assert ListChange.objects.filter(list="claims", key=claim.pk).exists()
