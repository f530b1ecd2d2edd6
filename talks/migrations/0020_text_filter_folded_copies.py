"""PostgreSQL: an upper-cased copy of each column the text filter looks up in a trigram index.

A trigram index only says which rows may hold a word; PostgreSQL then reads each such row and
checks it. Through 0018's indexes of `UPPER(column)` that check upper-cased the column again, row by
row: `UPPER()` of a UTF-8 text costs about a microsecond, most of the time of a word found in one
claim in eight (37,000 claims at full size: 60 ms of the query's 60, now 40 ms). A stored generated
column keeps the upper-cased text, so the check is a plain `LIKE` (talks.filters.TextFilter).

The copies exist on PostgreSQL only; SQLite looks words up in its FTS5 indexes (0014). Adding a
stored column rewrites the table, and writes to it wait meanwhile: 26 s for the three tables at full
size. PostgreSQL refuses to change the type of a column a generated column reads: a later migration
that alters one of these columns must drop its copy first and add it again after.
"""

from django.db import migrations

# Each serves the text filter (talks.filters.FOLDED_COPIES says the same) of a list: table: columns.
FOLDED_COPIES = {
    "talks_claim": ["text"],  # /claims/?q=
    "talks_participant": ["name", "aliases"],  # /claims/?q= (the speaker) and /participants/?q=
    "sources_sourcearticle": ["headline", "author"],  # /sources/?q=
}


def add_copies(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, columns in FOLDED_COPIES.items():
        for column in columns:
            schema_editor.execute(
                f'ALTER TABLE "{table}" ADD COLUMN "{column}_folded" text '
                f'GENERATED ALWAYS AS (UPPER("{column}"::text)) STORED'
            )
            schema_editor.execute(
                f'CREATE INDEX "{table}_{column}_folded_trigram" ON "{table}" '
                f'USING gin ("{column}_folded" gin_trgm_ops)'
            )
            schema_editor.execute(f'DROP INDEX IF EXISTS "{table}_{column}_trigram"')
        schema_editor.execute(f'ANALYZE "{table}"')


def remove_copies(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, columns in FOLDED_COPIES.items():
        for column in columns:
            schema_editor.execute(f'ALTER TABLE "{table}" DROP COLUMN IF EXISTS "{column}_folded"')
            schema_editor.execute(  # 0018's index, as it made it
                f'CREATE INDEX IF NOT EXISTS "{table}_{column}_trigram" ON "{table}" '
                f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
            )


class Migration(migrations.Migration):
    dependencies = [
        ("talks", "0019_claim_kind_index_with_ids"),
    ]

    operations = [migrations.RunPython(add_copies, remove_copies, elidable=False)]
