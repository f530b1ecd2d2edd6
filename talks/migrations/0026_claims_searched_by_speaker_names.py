"""A claim's search document holds its speaker's name and other spellings, while the speaker is published.

/search/ found a claim only by its text, while the claims list's text filter finds it by its speaker's
names too ("Medinski" finds Vladimir Medinsky's claims). Searching the speaker's document beside
the claim's, at query time, cannot keep PostgreSQL's web-search semantics (`Zelensky -easy`, words
split between the text and the names) without joining the speaker's document to every claim a word
may match: a word that names thousands of people read every one of their claims. So the names are
written into the claim's own document, which one index lookup answers, and triggers keep them in
step, in the same transaction as whatever writes, raw SQL included: a claim's text or speaker
changes; a person is renamed, gets other spellings, is published, withdrawn or deleted (or inserted
after the claims that name them, which deferred foreign keys allow). A draft's names are never
written, so they find nothing.

PostgreSQL: the claims' `search_document` (0015) was generated from the claim's own row, which cannot
read another table; it becomes a column the triggers write, its text weighted A and the names B
(talks.search.CLAIM_RANK_WEIGHTS ranks the text as before). Filling it rewrites each claim's row
once; autovacuum reclaims the old versions.

SQLite: the claims' FTS5 index (0014) read its text from the claims table; it now holds its own copy
of the text beside the names, in columns `text` and `speaker_names` (talks.search.SEARCH_INDEX_COLUMNS),
so that the text filter still looks in the text alone.

A later migration that rebuilds `talks_claim` or `talks_participant` on SQLite drops their triggers:
it must run `create_claims_search` again (not 0014's `create_search_index`, which would build the
claims' index without the names).
"""

import importlib

from django.db import migrations

from sources.record_base import PublicationStatus
from talks.search import (
    CLAIM_TEXT_WEIGHT,
    DOCUMENT_COLUMN,
    SEARCH_CONFIG,
    SEARCH_TABLES,
    SPEAKER_NAMES,
    SPEAKER_NAMES_WEIGHT,
    postgresql_document,
    sqlite_has_trigram_search,
)

CLAIMS, PEOPLE, INDEX = "talks_claim", "talks_participant", "talks_claim_search"
TEXT = SEARCH_TABLES[CLAIMS]  # the claim's own searched columns: its text
EARLIER_INDEX = importlib.import_module("talks.migrations.0014_sqlite_search_index")
# PostgreSQL's functions: a claim's document from its text and speaker; the triggers that write it.
DOCUMENT_FUNCTION = "talks_claim_document"
CLAIM_TRIGGER = "talks_claim_write_document"
PEOPLE_TRIGGER = "talks_participant_claims_search"  # + _insert, _update, _delete
EVENTS = ("insert", "update", "delete")


def names(row: str) -> str:
    """SQL of the names a claim's document holds of its speaker `row`: none unless published."""
    return (
        f"CASE WHEN {row}.publication_status = '{PublicationStatus.PUBLISHED}' "
        f"THEN COALESCE({row}.name, '') || ' ' || COALESCE({row}.aliases, '') END"
    )


def postgresql_statements() -> list[str]:
    text = " || ' ' || ".join(f"COALESCE(claim_text_{n}, '')" for n in range(len(TEXT)))
    arguments = ", ".join(f"claim_text_{n} text" for n in range(len(TEXT)))
    config = f"'{SEARCH_CONFIG}'::regconfig"
    own = ", ".join(f'NEW."{column}"' for column in TEXT)
    own_columns = ", ".join(f'"{column}"' for column in TEXT)
    changed = " OR ".join(f'OLD."{column}" IS DISTINCT FROM NEW."{column}"' for column in (*TEXT, "speaker_id"))
    refresh = (
        f'UPDATE "{CLAIMS}" claim SET {DOCUMENT_COLUMN} = {DOCUMENT_FUNCTION}('
        + ", ".join(f'claim."{column}"' for column in TEXT)
        + ", claim.speaker_id) WHERE claim.speaker_id = ANY (speakers);"
    )

    def people_trigger(event: str, transition: str, speakers: str) -> list[str]:
        # The claims are found by their speaker's key in the claims' speaker index: the planner
        # cannot tell how many rows a transition table holds, and read every claim for one.
        name = f"{PEOPLE_TRIGGER}_{event}"
        return [
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"DECLARE speakers bigint[] := ARRAY({speakers}); "
            f"BEGIN IF cardinality(speakers) > 0 THEN {refresh} END IF; RETURN NULL; END $$",
            f'CREATE TRIGGER {name} AFTER {event.upper()} ON "{PEOPLE}" {transition} '
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        ]

    return [
        # The document of a claim: its text, then its speaker's names while the speaker is published.
        f"CREATE OR REPLACE FUNCTION {DOCUMENT_FUNCTION}({arguments}, speaker bigint) RETURNS tsvector "
        f"LANGUAGE sql STABLE AS $$ "
        f"SELECT setweight(to_tsvector({config}, {text}), '{CLAIM_TEXT_WEIGHT}') "
        f"|| setweight(to_tsvector({config}, COALESCE(("
        f'SELECT {names("person")} FROM "{PEOPLE}" person WHERE person.id = speaker'
        f"), '')), '{SPEAKER_NAMES_WEIGHT}') $$",
        f'ALTER TABLE "{CLAIMS}" DROP COLUMN {DOCUMENT_COLUMN}',  # generated: and its index
        f'ALTER TABLE "{CLAIMS}" ADD COLUMN {DOCUMENT_COLUMN} tsvector',
        f"CREATE OR REPLACE FUNCTION {CLAIM_TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN NEW.{DOCUMENT_COLUMN} := {DOCUMENT_FUNCTION}({own}, NEW.speaker_id); RETURN NEW; END $$",
        f'CREATE TRIGGER {CLAIM_TRIGGER}_insert BEFORE INSERT ON "{CLAIMS}" '
        f"FOR EACH ROW EXECUTE FUNCTION {CLAIM_TRIGGER}()",
        f'CREATE TRIGGER {CLAIM_TRIGGER}_update BEFORE UPDATE OF {own_columns}, speaker_id ON "{CLAIMS}" '
        f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION {CLAIM_TRIGGER}()",
        *people_trigger(
            "insert",
            "REFERENCING NEW TABLE AS new_rows",
            f"SELECT after.id FROM new_rows after WHERE {names('after')} IS NOT NULL",
        ),
        *people_trigger(
            "update",
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
            "SELECT after.id FROM new_rows after JOIN old_rows before ON before.id = after.id "
            f"WHERE {names('before')} IS DISTINCT FROM {names('after')}",
        ),
        *people_trigger(
            "delete",
            "REFERENCING OLD TABLE AS old_rows",
            f"SELECT before.id FROM old_rows before WHERE {names('before')} IS NOT NULL",
        ),
        # Every claim's document, once: the index is built after, from the filled column.
        f'UPDATE "{CLAIMS}" claim SET {DOCUMENT_COLUMN} = {DOCUMENT_FUNCTION}('
        + ", ".join(f'claim."{column}"' for column in TEXT)
        + ", claim.speaker_id)",
        # Serves /search/ on PostgreSQL: `search_document @@ query`, as 0015's did.
        f'CREATE INDEX {CLAIMS}_{DOCUMENT_COLUMN} ON "{CLAIMS}" USING gin ({DOCUMENT_COLUMN})',
        f'ANALYZE "{CLAIMS}"',
    ]


def sqlite_statements() -> list[str]:
    listed = ", ".join((*TEXT, SPEAKER_NAMES))
    own = ", ".join(f"new.{column}" for column in TEXT)
    speaker = f"COALESCE((SELECT {names('person')} FROM {PEOPLE} person WHERE person.id = new.speaker_id), '')"
    add = f"INSERT INTO {INDEX}(rowid, {listed}) VALUES (new.id, {own}, {speaker});"
    remove = f"DELETE FROM {INDEX} WHERE rowid = old.id;"
    changed = " OR ".join(f"old.{column} IS NOT new.{column}" for column in (*TEXT, "speaker_id"))
    no_names = "''"
    renamed = f"COALESCE({names('new')}, {no_names})"  # withdrawn or made a draft: none

    def rename(person: str, written: str) -> str:
        return (
            f"UPDATE {INDEX} SET {SPEAKER_NAMES} = {written} "
            f"WHERE rowid IN (SELECT id FROM {CLAIMS} WHERE speaker_id = {person}.id);"
        )

    return [
        *(f"DROP TRIGGER IF EXISTS {INDEX}_{event}" for event in EVENTS),  # 0014's
        f"DROP TABLE IF EXISTS {INDEX}",
        f"CREATE VIRTUAL TABLE {INDEX} USING fts5({listed}, tokenize='trigram')",
        f"INSERT INTO {INDEX}(rowid, {listed}) "
        f"SELECT claim.id, {', '.join(f'claim.{column}' for column in TEXT)}, COALESCE({names('person')}, '') "
        f"FROM {CLAIMS} claim LEFT JOIN {PEOPLE} person ON person.id = claim.speaker_id",
        f"CREATE TRIGGER {INDEX}_insert AFTER INSERT ON {CLAIMS} BEGIN {add} END",
        f"CREATE TRIGGER {INDEX}_delete AFTER DELETE ON {CLAIMS} BEGIN {remove} END",
        f"CREATE TRIGGER {INDEX}_update AFTER UPDATE OF {', '.join(TEXT)}, speaker_id ON {CLAIMS} "
        f"WHEN {changed} BEGIN {remove} {add} END",
        f"CREATE TRIGGER {PEOPLE_TRIGGER}_insert AFTER INSERT ON {PEOPLE} "
        f"WHEN {names('new')} IS NOT NULL BEGIN {rename('new', names('new'))} END",
        f"CREATE TRIGGER {PEOPLE_TRIGGER}_update AFTER UPDATE OF name, aliases, publication_status "
        f"ON {PEOPLE} WHEN {names('old')} IS NOT {names('new')} "
        f"BEGIN {rename('new', renamed)} END",
        f"CREATE TRIGGER {PEOPLE_TRIGGER}_delete AFTER DELETE ON {PEOPLE} "
        f"WHEN {names('old')} IS NOT NULL BEGIN {rename('old', no_names)} END",
    ]


def create_claims_search(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        statements = postgresql_statements()
    elif schema_editor.connection.vendor == "sqlite" and sqlite_has_trigram_search():
        statements = sqlite_statements()
    else:
        return
    for statement in statements:
        schema_editor.execute(statement, params=None)


def drop_claims_search(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for event in EVENTS:  # dropping a function drops its trigger
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {PEOPLE_TRIGGER}_{event}() CASCADE")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {CLAIM_TRIGGER}() CASCADE")
        schema_editor.execute(f'ALTER TABLE "{CLAIMS}" DROP COLUMN {DOCUMENT_COLUMN}')
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {DOCUMENT_FUNCTION} CASCADE")
        schema_editor.execute(
            f'ALTER TABLE "{CLAIMS}" ADD COLUMN {DOCUMENT_COLUMN} tsvector '
            f"GENERATED ALWAYS AS ({postgresql_document(TEXT)}) STORED"
        )
        schema_editor.execute(f'CREATE INDEX {CLAIMS}_{DOCUMENT_COLUMN} ON "{CLAIMS}" USING gin ({DOCUMENT_COLUMN})')
    elif schema_editor.connection.vendor == "sqlite":
        for event in EVENTS:  # 0014's claims' triggers have the same names: they are made again
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {PEOPLE_TRIGGER}_{event}")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {INDEX}_{event}")
        EARLIER_INDEX.create_search_index(apps, schema_editor)  # every index as 0014 made it


class Migration(migrations.Migration):
    dependencies = [
        ("talks", "0025_list_changes_replace_tallies"),
    ]

    operations = [migrations.RunPython(create_claims_search, drop_claims_search, elidable=False)]
