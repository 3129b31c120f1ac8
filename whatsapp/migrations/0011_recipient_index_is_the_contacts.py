"""One index per phone number: outbound messages' recipient index becomes the contact's index of
the number (contacts.phones.customer_index), recomputed from the decrypted recipient (see
whatsapp.reindexing). The reverse recomputes the previous index (the customer purpose over the
digits) the same way."""

from django.db import migrations


def rewrite(apps, schema_editor):
    from whatsapp.reindexing import outbound_recipient_indexes_rewrite

    outbound_recipient_indexes_rewrite(apps.get_model("whatsapp", "OutboundMessage"))


def restore(apps, schema_editor):
    from contacts.reindexing import previous_customer_index
    from whatsapp.reindexing import outbound_recipient_indexes_rewrite

    outbound_recipient_indexes_rewrite(apps.get_model("whatsapp", "OutboundMessage"), index=previous_customer_index)


class Migration(migrations.Migration):
    dependencies = [("whatsapp", "0010_outbound_queued_by_number")]

    operations = [migrations.RunPython(rewrite, restore, elidable=False)]
