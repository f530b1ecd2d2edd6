"""PostgreSQL: the upper-cased copies of 0020 move out of their tables into narrow tables of their own.

A trigram index says which rows may hold a word, and PostgreSQL then reads each such row and checks
it. In its own table a claim's copy is read beside its key alone; in the claims table, beside every
other column. A word in one claim of eight (37,000 claims at full size) read 13,600 pages of the
claims table and took 160 ms; from `talks_claim_folded`'s 3,700 pages, 45 ms. The text filter now
finds the keys of the matching rows there (talks.search.trigram_lookup), as SQLite finds them in its
FTS5 indexes (0014), and the list index takes them without reading the records at all.

Triggers keep each copy in step with its table in the same transaction, whoever writes, once per
statement: a bulk load of 300,000 claims copies them in one INSERT. An update copies only rows whose
copied columns changed (a recount of every claim's outlets copies nothing). SQLite has no copies.
"""

import importlib

from django.db import migrations

# Each serves the text filter of a list (talks.search.FOLDED_COPIES says the same): table: columns.
FOLDED_COPIES = {
    "talks_claim": ["text"],  # /claims/?q=
    "talks_participant": ["name", "aliases"],  # /claims/?q= (the speaker) and /participants/?q=
    "sources_sourcearticle": ["headline", "author"],  # /sources/?q=
}
IN_TABLE_COPIES = importlib.import_module("talks.migrations.0020_text_filter_folded_copies")


def copy_statements(table: str, columns: list[str]) -> list[str]:
    copies = f"{table}_folded"
    names = ", ".join(f'"{column}_folded"' for column in columns)
    folded = ", ".join(f'UPPER(after."{column}"::text)' for column in columns)
    assigned = ", ".join(f'"{column}_folded" = UPPER(after."{column}"::text)' for column in columns)
    before, after = (", ".join(f'{row}."{column}"' for column in columns) for row in ("before", "after"))

    def trigger(event: str, body: str, transition: str = "") -> list[str]:
        name = f'"{copies}_{event.lower()}"'
        return [
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {body} RETURN NULL; END $$",
            f'CREATE TRIGGER {name} AFTER {event} ON "{table}" {transition} '
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        ]

    return [
        f'CREATE TABLE "{copies}" (id bigint PRIMARY KEY, '
        + ", ".join(f'"{column}_folded" text' for column in columns)
        + ")",
        f'INSERT INTO "{copies}" (id, {names}) SELECT after.id, {folded} FROM "{table}" after',
        *trigger(
            "INSERT",
            f'INSERT INTO "{copies}" (id, {names}) SELECT after.id, {folded} FROM new_rows after;',
            "REFERENCING NEW TABLE AS new_rows",
        ),
        *trigger(
            "UPDATE",
            f'UPDATE "{copies}" copy SET {assigned} FROM new_rows after '
            f"JOIN old_rows before ON before.id = after.id "
            f"WHERE copy.id = after.id AND ({before}) IS DISTINCT FROM ({after});",
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        ),
        *trigger(
            "DELETE",
            f'DELETE FROM "{copies}" WHERE id IN (SELECT id FROM old_rows);',
            "REFERENCING OLD TABLE AS old_rows",
        ),
        *trigger("TRUNCATE", f'TRUNCATE "{copies}";'),
        *(
            f'CREATE INDEX "{copies}_{column}_trigram" ON "{copies}" USING gin ("{column}_folded" gin_trgm_ops)'
            for column in columns
        ),
        f'ANALYZE "{copies}"',
        *(f'ALTER TABLE "{table}" DROP COLUMN IF EXISTS "{column}_folded"' for column in columns),
    ]


def move_copies(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, columns in FOLDED_COPIES.items():
        for statement in copy_statements(table, columns):
            schema_editor.execute(statement)


def move_copies_back(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in FOLDED_COPIES:
        for event in ("insert", "update", "delete", "truncate"):  # dropping a function drops its trigger
            schema_editor.execute(f'DROP FUNCTION IF EXISTS "{table}_folded_{event}"() CASCADE')
        schema_editor.execute(f'DROP TABLE IF EXISTS "{table}_folded"')
    IN_TABLE_COPIES.add_copies(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("talks", "0020_text_filter_folded_copies"),
    ]

    operations = [migrations.RunPython(move_copies, move_copies_back, elidable=False)]
