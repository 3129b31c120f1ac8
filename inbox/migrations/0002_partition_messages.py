"""Turn inbox_message into a table range-partitioned by month on created_at.

Postgres wants the partition key in the primary key, so the key becomes (id, created_at); ids still
come from one sequence, so `id` stays unique and Django keeps using it alone. wamid uniqueness lives
in inbox_messagekey (unpartitioned). A DEFAULT partition catches months without their own.
"""

from django.db import migrations

from aerostic.core.rls import EnableRowLevelSecurity


def create_partitions(apps, schema_editor):
    from inbox.partitions import message_partitions_ensure

    message_partitions_ensure(schema_editor=schema_editor)


SQL = """
DROP TABLE inbox_message;
CREATE SEQUENCE inbox_message_id_seq;
CREATE TABLE inbox_message (
    id bigint NOT NULL DEFAULT nextval('inbox_message_id_seq'),
    tenant_id bigint NOT NULL REFERENCES tenants_tenant(id) DEFERRABLE INITIALLY DEFERRED,
    conversation_id bigint NOT NULL,
    direction varchar(3) NOT NULL,
    type varchar(32) NOT NULL,
    wamid varchar(255) NOT NULL,
    body text NOT NULL,
    payload jsonb NOT NULL,
    status varchar(12) NOT NULL,
    sent_at timestamptz NULL,
    delivered_at timestamptz NULL,
    read_at timestamptz NULL,
    failed_at timestamptz NULL,
    error_code integer NULL,
    error_title varchar(255) NOT NULL,
    pricing_category varchar(32) NOT NULL,
    pricing jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
ALTER SEQUENCE inbox_message_id_seq OWNED BY inbox_message.id;
CREATE INDEX message_conversation_created ON inbox_message (conversation_id, created_at);
CREATE INDEX inbox_message_wamid ON inbox_message (wamid);
CREATE INDEX inbox_message_tenant ON inbox_message (tenant_id);
CREATE INDEX inbox_message_id ON inbox_message (id);
CREATE TABLE inbox_message_default PARTITION OF inbox_message DEFAULT;
ALTER TABLE inbox_message_default ENABLE ROW LEVEL SECURITY;
ALTER TABLE inbox_message_default FORCE ROW LEVEL SECURITY;
"""


class Migration(migrations.Migration):
    dependencies = [("inbox", "0001_initial")]

    operations = [
        migrations.RunSQL(SQL, reverse_sql=migrations.RunSQL.noop),
        EnableRowLevelSecurity("message"),
        migrations.RunPython(create_partitions, migrations.RunPython.noop),
    ]
