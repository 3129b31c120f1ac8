from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built without locking out writes: one-off sends keep arriving while it builds.
    atomic = False

    dependencies = [
        ("whatsapp", "0009_webhookevent_body_encrypted"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="outboundmessage",
            index=models.Index(
                condition=models.Q(("state", "queued")), fields=["phone_number", "id"], name="outbound_queued_by_number"
            ),
        ),
    ]
