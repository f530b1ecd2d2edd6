"""Which state of the archive a built data package holds, read from one row instead of counted.

The full dataset zip offered at /downloads/ is built once per state of the archive and kept on disk
(`talks.downloads`). Telling states apart by counting every table and reading its latest change
would read the whole archive on every view of /downloads/. So, as for the lists' in-memory indexes
(talks/list_index.py), database triggers give a token, the `dataset` row of `ListVersion`, a new
random value in the same transaction as every insert, update or delete in a table the package
holds, whoever writes: the admin, a bulk load or raw SQL. A package is named by the token it was
built under; a token read before the build can only make a later request build again.
"""

import secrets

from talks.list_index import POSTGRESQL_RANDOM, SQLITE_RANDOM
from talks.models import ListVersion

DATASET = "dataset"
POSTGRESQL_FUNCTION = "parley_dataset_moves"
EVENTS = ("insert", "update", "delete")


def moving_token(random_text: str) -> str:
    table = ListVersion._meta.db_table
    return (
        f"INSERT INTO {table} (name, version, token) VALUES ('{DATASET}', 0, {random_text}) "
        f"ON CONFLICT (name) DO UPDATE SET token = excluded.token;"
    )


def package_tables() -> list[str]:
    from talks.dataset.tables import TABLES

    return [table.model._meta.db_table for table in TABLES]


def trigger_name(table: str, event: str) -> str:
    return f"{table}_{event}_moves_{DATASET}"


def install_dataset_triggers(connection) -> None:
    """Create the triggers (again: SQLite drops a table's triggers when a migration rebuilds it)
    and give the dataset a fresh token, since the tables may have changed while they were gone."""
    if ListVersion._meta.db_table not in connection.introspection.table_names():
        return  # migrated back before the tokens' table
    quote = connection.ops.quote_name
    statements = []
    if connection.vendor == "postgresql":
        # Once a statement, and without comparing rows: an update that changes nothing only costs a
        # rebuild of the package, while comparing every column of every row would slow each large update.
        statements.append(
            f"CREATE OR REPLACE FUNCTION {POSTGRESQL_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {moving_token(POSTGRESQL_RANDOM)} RETURN NULL; END $$"
        )
        for table in package_tables():
            name = quote(trigger_name(table, "write"))
            statements += [
                f"DROP TRIGGER IF EXISTS {name} ON {quote(table)}",
                f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {quote(table)} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {POSTGRESQL_FUNCTION}()",
            ]
    else:
        for table in package_tables():
            for event in EVENTS:
                name = quote(trigger_name(table, event))
                statements += [
                    f"DROP TRIGGER IF EXISTS {name}",
                    f"CREATE TRIGGER {name} AFTER {event.upper()} ON {quote(table)} "
                    f"BEGIN {moving_token(SQLITE_RANDOM)} END",
                ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    ListVersion.objects.using(connection.alias).update_or_create(
        name=DATASET, defaults={"token": secrets.token_hex(16)}
    )


def remove_dataset_triggers(connection) -> None:
    """Before the tokens' table goes: a trigger that writes to a missing table refuses every write."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP FUNCTION IF EXISTS {POSTGRESQL_FUNCTION}() CASCADE")  # and its triggers
            return
        for table in package_tables():
            for event in EVENTS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {quote(trigger_name(table, event))}")


def dataset_token(using: str = "default") -> str | None:
    """The archive's current state, or None where `migrate` has not installed the triggers."""
    return ListVersion.objects.using(using).filter(name=DATASET).values_list("token", flat=True).first()
