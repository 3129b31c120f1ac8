"""Outbound recipients' indexes become private to each workspace: recomputed from the decrypted
recipient (see whatsapp.reindexing). Irreversible in effect: the old, shared indexes are not
written back."""

from django.db import migrations


def rewrite(apps, schema_editor):
    from whatsapp.reindexing import outbound_recipient_indexes_rewrite

    outbound_recipient_indexes_rewrite(apps.get_model("whatsapp", "OutboundMessage"))


class Migration(migrations.Migration):
    dependencies = [("whatsapp", "0006_phone_send_rate_limit")]

    operations = [migrations.RunPython(rewrite, migrations.RunPython.noop, elidable=False)]
