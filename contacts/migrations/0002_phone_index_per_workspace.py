"""Phone indexes become private to each workspace: every stored index is recomputed from the
decrypted number (see contacts.reindexing). Irreversible in effect: the old, shared indexes are
not written back."""

from django.db import migrations


def rewrite(apps, schema_editor):
    from contacts.reindexing import contact_phone_indexes_rewrite

    contact_phone_indexes_rewrite(apps.get_model("contacts", "Contact"))


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]

    operations = [migrations.RunPython(rewrite, migrations.RunPython.noop, elidable=False)]
