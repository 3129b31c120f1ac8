"""One index per phone number: WhatsApp preference events that kept the customer's number get the
contact's index of it (contacts.phones.customer_index), recomputed from the decrypted number (see
compliance.reindexing). Events of users known only by a user id keep theirs (it never depended on
a number). The reverse recomputes the previous index (the customer purpose over the digits)."""

from django.db import migrations


def rewrite(apps, schema_editor):
    from compliance.reindexing import preference_indexes_rewrite

    preference_indexes_rewrite(apps.get_model("compliance", "UserPreferenceEvent"))


def restore(apps, schema_editor):
    from compliance.reindexing import preference_indexes_rewrite
    from contacts.reindexing import previous_customer_index

    preference_indexes_rewrite(apps.get_model("compliance", "UserPreferenceEvent"), index=previous_customer_index)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0006_consent_event_reset_kind")]

    operations = [migrations.RunPython(rewrite, restore, elidable=False)]
