"""The search index (0010) for what was stored before it: every workspace's terms rebuilt from its
conversations' names and its messages (inbox.search_reindex). Not atomic: each chunk of 500
conversations commits on its own, so a large store is not one long transaction, and running it
again writes the same terms. The reverse has nothing to undo (0010's reverse drops the table)."""

from django.db import migrations


def backfill(apps, schema_editor):
    from aerostic.core.tenant_context import platform_context
    from inbox.search_reindex import search_terms_rebuild

    conversation = apps.get_model("inbox", "Conversation")
    message = apps.get_model("inbox", "Message")
    with platform_context("migration: inbox search terms for stored messages"):
        tenants = list(conversation._base_manager.values_list("tenant_id", flat=True).distinct().order_by("tenant_id"))
    for tenant_id in tenants:
        search_terms_rebuild(tenant_id=tenant_id, conversation_model=conversation, message_model=message)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("inbox", "0010_search_terms")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False)]
