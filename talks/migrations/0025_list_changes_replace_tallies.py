"""Lists counted by their in-memory index alone, kept fresh a record at a time (talks/list_index.py).

The stored counts (`Tally`) go: the index counts unfiltered lists, facets and the claims under an
issue too. Each list gets a version, and a log of the records each version changed, which the
triggers write; the triggers of earlier code, which moved one random token per column, are dropped
first, so that no write in between meets a table of the new shape with the old statements, and so
are the data package's (talks/dataset/state.py). Both are installed again after every `migrate`
(talks.apps).
"""

from django.db import migrations, models


def remove_triggers(apps, schema_editor):
    """Every trigger that writes to the versions' table, earlier code's and this code's. SQLite
    rebuilds that table to add or drop its column, and refuses to rename the new table into place
    while triggers name one that is, for that moment, missing."""
    from talks.dataset.state import remove_dataset_triggers
    from talks.list_index import remove_triggers
    from talks.lists import LIST_INDEXES

    remove_triggers(schema_editor.connection, LIST_INDEXES)
    remove_dataset_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("talks", "0024_text_limits"),
    ]

    operations = [
        migrations.RunPython(remove_triggers, migrations.RunPython.noop, elidable=False),
        migrations.CreateModel(
            name="ListChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("list", models.CharField(max_length=40)),
                ("version", models.BigIntegerField()),
                ("token", models.CharField(max_length=40)),
                ("key", models.BigIntegerField(null=True)),
            ],
        ),
        migrations.DeleteModel(
            name="Tally",
        ),
        migrations.AddField(
            model_name="listversion",
            name="version",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddIndex(
            model_name="listchange",
            index=models.Index(fields=["list", "version"], name="talks_listchange_version"),
        ),
        migrations.RunPython(migrations.RunPython.noop, remove_triggers, elidable=False),
    ]
