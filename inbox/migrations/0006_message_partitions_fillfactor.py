"""Message partitions leave room on each page for their statuses' rewrites (inbox.partitions.FILLFACTOR).

Partitions made from now on are created with it; this sets it on those that exist (the default one
included). Pages already full keep their rows; the setting applies as pages are filled.
"""

from django.db import migrations

FILLFACTOR = 80  # inbox.partitions.FILLFACTOR when written; copied so this migration keeps its meaning

PARTITIONS = """
SELECT child.relname FROM pg_inherits
JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
JOIN pg_class child ON child.oid = pg_inherits.inhrelid
WHERE parent.relname = 'inbox_message'
"""


def _partitions(schema_editor) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(PARTITIONS)
        return [name for (name,) in cursor.fetchall()]


def set_fillfactor(apps, schema_editor):
    for name in _partitions(schema_editor):
        schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(name)} SET (fillfactor = {FILLFACTOR})")


def reset_fillfactor(apps, schema_editor):
    for name in _partitions(schema_editor):
        schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(name)} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("inbox", "0005_message_payload_without_numbers")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
