"""Full-text index for searching articles on PostgreSQL; SQLite has no GIN indexes and skips it."""

from django.db import migrations


def document(table, columns):
    # Must match what SearchVector(*columns, config="english") compiles to, or the index goes unused.
    joined = " || ' ' || ".join(f'COALESCE("{table}"."{column}", \'\')' for column in columns)
    return f"to_tsvector('english'::regconfig, {joined})"


INDEX = "sources_article_search"
# Serves talks.search: /search/?q= over article headlines and texts.
CREATE = f'CREATE INDEX IF NOT EXISTS {INDEX} ON "sources_sourcearticle" USING gin ({document("sources_sourcearticle", ["headline", "body"])})'


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("sources", "0001_initial")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
