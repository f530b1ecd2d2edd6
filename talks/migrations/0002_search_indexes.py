"""Full-text indexes for /search/ on PostgreSQL; SQLite has no GIN indexes and skips them.

Each expression must match what SearchVector(*fields, config="english") compiles to for the fields
talks.search.KINDS lists, in the same order, or PostgreSQL will not use the index.
"""

from django.db import migrations

INDEXES = {
    # /search/ over rounds: title, summary, outcome, city, venue.
    "talks_round_search": ("talks_round", ["title", "summary", "outcome", "city", "venue"]),
    # /search/ over claims: their text.
    "talks_claim_search": ("talks_claim", ["text"]),
    # /search/ over people: name, other spellings, description ("Medinski" finds Medinsky).
    "talks_participant_search": ("talks_participant", ["name", "aliases", "description"]),
    # /search/ over issues: name and description.
    "talks_issue_search": ("talks_issue", ["name", "description"]),
}


def document(table, columns):
    joined = " || ' ' || ".join(f'COALESCE("{table}"."{column}", \'\')' for column in columns)
    return f"to_tsvector('english'::regconfig, {joined})"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, columns) in INDEXES.items():
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS {name} ON "{table}" USING gin ({document(table, columns)})')


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("talks", "0001_initial")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
