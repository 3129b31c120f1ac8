"""Customer indexes become private to each workspace: conversations recomputed from their
decrypted ids, status events and username-only WhatsApp preference events translated through
them (see inbox.reindexing). Irreversible in effect: the old, shared indexes are not written back."""

from django.db import migrations


def rewrite(apps, schema_editor):
    from inbox.reindexing import inbox_indexes_rewrite

    inbox_indexes_rewrite(
        apps.get_model("inbox", "Conversation"),
        apps.get_model("inbox", "MessageStatusEvent"),
        apps.get_model("compliance", "UserPreferenceEvent"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0003_conversation_contact"),
        # Preference events that kept a number are rewritten there first; the rest are left here.
        ("compliance", "0005_indexes_per_workspace"),
    ]

    operations = [migrations.RunPython(rewrite, migrations.RunPython.noop, elidable=False)]
