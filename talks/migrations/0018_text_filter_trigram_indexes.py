"""PostgreSQL: trigram indexes for the lists' text filter (`?q=`), as 0014 gave SQLite FTS5 ones.

The filter matches each word as any part of a word, in any case: Django asks PostgreSQL for
`UPPER(column::text) LIKE UPPER('%word%')`, which read every row (250 ms for the claims' text at
full size). A GIN index of that same expression's trigrams (the pg_trgm extension, part of
PostgreSQL's contrib modules and trusted since PostgreSQL 13) finds the rows whose text holds the
word's trigrams, and PostgreSQL checks only those. Created without CONCURRENTLY, so writes to the
table wait while it is built (a few seconds at full size).
"""

from django.db import migrations

# Each serves the text filter (talks.filters.TextFilter) of a list: table: columns.
TRIGRAM_INDEXES = {
    "talks_claim": ["text"],  # /claims/?q=
    "talks_participant": ["name", "aliases"],  # /claims/?q= (the speaker) and /participants/?q=
    "sources_sourcearticle": ["headline", "author"],  # /sources/?q=
}


def index_name(table, column):
    return f"{table}_{column}_trigram"


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, columns in TRIGRAM_INDEXES.items():
        for column in columns:
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS {index_name(table, column)} ON "{table}" '
                f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
            )
        schema_editor.execute(f'ANALYZE "{table}"')


def remove_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, columns in TRIGRAM_INDEXES.items():
        for column in columns:
            schema_editor.execute(f"DROP INDEX IF EXISTS {index_name(table, column)}")


class Migration(migrations.Migration):
    dependencies = [
        ("talks", "0017_list_versions"),
        ("sources", "0004_newest_first_indexes"),
    ]

    operations = [migrations.RunPython(add_indexes, remove_indexes, elidable=False)]
