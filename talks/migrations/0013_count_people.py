from django.db import migrations


def count_people(apps, schema_editor):
    # A new database has nothing to count. An existing one is counted with the live code, which
    # reads only columns the tables already have by this migration.
    if not apps.get_model("talks", "Participant").objects.exists():
        return
    from talks.tallies import DIMENSIONS

    for name in ["people", "people.party"]:
        DIMENSIONS[name].refresh()


class Migration(migrations.Migration):
    dependencies = [
        ("talks", "0012_count_rounds"),
    ]

    operations = [
        migrations.RunPython(count_people, migrations.RunPython.noop),
    ]
