"""One index per phone number: a conversation keyed by a number gets the contact's index of it
(contacts.phones.customer_index), recomputed from the decrypted WhatsApp id; status events, which
keep no number, are translated through the numbers of conversations and outbound messages; erased
conversations and users known only by a user id are left alone (see
inbox.reindexing.number_indexes_rewrite, which also says what happens to a status event whose
recipient is known nowhere). The reverse writes the previous index (the customer purpose over the
digits) back the same way."""

from django.db import migrations


def _models(apps):
    return (
        apps.get_model("inbox", "Conversation"),
        apps.get_model("inbox", "MessageStatusEvent"),
        apps.get_model("whatsapp", "OutboundMessage"),
    )


def rewrite(apps, schema_editor):
    from inbox.reindexing import number_indexes_rewrite

    number_indexes_rewrite(*_models(apps))


def restore(apps, schema_editor):
    from contacts.reindexing import number_index, previous_customer_index
    from inbox.reindexing import number_indexes_rewrite

    number_indexes_rewrite(*_models(apps), old=number_index, new=previous_customer_index)


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0006_message_partitions_fillfactor"),
        # Reads the outbound messages' recipients (the same numbers, rewritten there).
        ("whatsapp", "0011_recipient_index_is_the_contacts"),
    ]

    operations = [migrations.RunPython(rewrite, restore, elidable=False)]
