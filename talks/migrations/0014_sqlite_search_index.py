"""Full-text indexes for /search/ on SQLite, as 0002 made GIN indexes on PostgreSQL.

Without them SQLite's search read every claim's text for each word (90 ms for a word that matches
nothing). Each searched table gets an FTS5 index of the columns talks.search.KINDS lists, with the
trigram tokenizer: it finds any part of a word, ignoring case, which is what the search promised
with LIKE, so results do not change. Triggers keep each index in step with its table, within the
same transaction; they fire only when a searched column is written.

A later migration that alters one of these tables on SQLite rebuilds the table and drops its
triggers: it must run `create_search_index` again (tests/test_search.py notices a stale index).
"""

from django.db import migrations

from talks.search import SEARCH_TABLES, sqlite_has_trigram_search


def create_search_index(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite" or not sqlite_has_trigram_search():
        return
    for table, columns in SEARCH_TABLES.items():
        index, listed = f"{table}_search", ", ".join(columns)
        new, old = (", ".join(f"{row}.{column}" for column in columns) for row in ("new", "old"))
        remove = f"INSERT INTO {index}({index}, rowid, {listed}) VALUES ('delete', old.id, {old});"
        add = f"INSERT INTO {index}(rowid, {listed}) VALUES (new.id, {new});"
        for statement in [
            f"DROP TABLE IF EXISTS {index}",
            f"CREATE VIRTUAL TABLE {index} USING fts5({listed}, content='{table}', content_rowid='id', "
            "tokenize='trigram')",
            f"CREATE TRIGGER IF NOT EXISTS {index}_insert AFTER INSERT ON {table} BEGIN {add} END",
            f"CREATE TRIGGER IF NOT EXISTS {index}_delete AFTER DELETE ON {table} BEGIN {remove} END",
            f"CREATE TRIGGER IF NOT EXISTS {index}_update AFTER UPDATE OF {listed} ON {table} "
            f"BEGIN {remove} {add} END",
            f"INSERT INTO {index}({index}) VALUES ('rebuild')",
        ]:
            schema_editor.execute(statement)


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for table in SEARCH_TABLES:
        for suffix in ("insert", "delete", "update"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_search_{suffix}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {table}_search")


class Migration(migrations.Migration):
    dependencies = [
        ("talks", "0013_count_people"),
        ("sources", "0004_newest_first_indexes"),
    ]

    operations = [migrations.RunPython(create_search_index, drop_search_index, elidable=False)]
