from django.db import migrations


def count_people(apps, schema_editor):
    """Nothing to count any more: migration 0025 drops the stored counts, which the lists' own
    in-memory index replaced (talks/list_index.py)."""


class Migration(migrations.Migration):
    dependencies = [
        ("talks", "0012_count_rounds"),
    ]

    operations = [
        migrations.RunPython(count_people, migrations.RunPython.noop),
    ]
