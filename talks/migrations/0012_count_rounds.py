from django.db import migrations

ROUND_DIMENSIONS = ["rounds", "rounds.track", "rounds.status", "rounds.format", "rounds.country", "rounds.party"]


def count_rounds(apps, schema_editor):
    # A new database has nothing to count. An existing one is counted with the live code, which
    # reads only columns the tables already have by this migration.
    if not apps.get_model("talks", "Round").objects.exists():
        return
    from talks.tallies import DIMENSIONS

    for name in ROUND_DIMENSIONS:
        DIMENSIONS[name].refresh()


class Migration(migrations.Migration):
    dependencies = [
        ("talks", "0011_claim_kind_index"),
    ]

    operations = [
        migrations.RunPython(count_rounds, migrations.RunPython.noop),
    ]
