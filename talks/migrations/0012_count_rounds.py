from django.db import migrations

ROUND_DIMENSIONS = ["rounds", "rounds.track", "rounds.status", "rounds.format", "rounds.country", "rounds.party"]


def count_rounds(apps, schema_editor):
    """Nothing to count any more: migration 0025 drops the stored counts, which the lists' own
    in-memory index replaced (talks/list_index.py)."""


class Migration(migrations.Migration):
    dependencies = [
        ("talks", "0011_claim_kind_index"),
    ]

    operations = [
        migrations.RunPython(count_rounds, migrations.RunPython.noop),
    ]
