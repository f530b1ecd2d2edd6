"""Tokens of the state of each list's records, moved by triggers (talks/list_index.py).

The triggers themselves are installed after every `migrate` (talks.apps), since SQLite drops a
table's triggers whenever a migration rebuilds the table. Migrating back removes them first: a
trigger that writes to a missing table would refuse every write to the tables it watches.
"""

from django.db import migrations, models


def remove_triggers(apps, schema_editor):
    from talks.dataset.state import remove_dataset_triggers
    from talks.list_index import remove_triggers
    from talks.lists import LIST_INDEXES

    remove_triggers(schema_editor.connection, LIST_INDEXES)
    remove_dataset_triggers(schema_editor.connection)  # the dataset's token is a row of the same table


class Migration(migrations.Migration):
    dependencies = [
        ("talks", "0016_tally_most_frequent_index"),
        ("sources", "0004_newest_first_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="ListVersion",
            fields=[
                ("name", models.CharField(max_length=40, primary_key=True, serialize=False)),
                ("token", models.CharField(max_length=40)),
            ],
        ),
        migrations.RunPython(migrations.RunPython.noop, remove_triggers, elidable=False),
    ]
