from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("whatsapp", "0009_webhookevent_body_encrypted"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="outboundmessage",
            index=models.Index(
                condition=models.Q(("state", "queued")), fields=["phone_number", "id"], name="outbound_queued_by_number"
            ),
        ),
    ]
