from django.db import migrations


def count_claims_under_issues(apps, schema_editor):
    # A new database has nothing to count. An existing one is counted with the live code, which
    # reads only columns the tables already have by this migration.
    if not apps.get_model("talks", "ClaimIssue").objects.exists():
        return
    from talks.tallies import refresh_issue_trees

    refresh_issue_trees()


class Migration(migrations.Migration):
    dependencies = [
        ("talks", "0008_newest_first_indexes"),
    ]

    operations = [
        migrations.RunPython(count_claims_under_issues, migrations.RunPython.noop),
    ]
