from django.db import migrations


def count_claims_under_issues(apps, schema_editor):
    """Nothing to count any more: migration 0025 drops the stored counts, which the lists' own
    in-memory index replaced (talks/list_index.py)."""


class Migration(migrations.Migration):
    dependencies = [
        ("talks", "0008_newest_first_indexes"),
    ]

    operations = [
        migrations.RunPython(count_claims_under_issues, migrations.RunPython.noop),
    ]
