"""Blind indexes become private to each workspace: WhatsApp preference events get the customer
index of their decrypted number and workspace, and import consent events drop the phone index
from their dedupe key (see compliance.reindexing). Irreversible in effect."""

from django.db import migrations


def rewrite(apps, schema_editor):
    from compliance.reindexing import import_consent_keys_strip, preference_indexes_rewrite

    preference_indexes_rewrite(apps.get_model("compliance", "UserPreferenceEvent"))
    import_consent_keys_strip()


class Migration(migrations.Migration):
    dependencies = [("compliance", "0004_consent_ledger_and_settings")]

    operations = [migrations.RunPython(rewrite, migrations.RunPython.noop, elidable=False)]
