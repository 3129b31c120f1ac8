"""Raw webhook bodies at rest: encrypted in the event store, decrypted by processing, shown to staff
in Django admin only on an event's own page (each view audited), re-encrypted by key rotation."""

import json
import secrets
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import platform_context, tenant_context
from aerostic.testsupport.webhooks import deliver_webhook, meta_signature
from inbox.models import Message
from whatsapp.jobs import process_webhook_event
from whatsapp.models import WebhookEvent

pytestmark = pytest.mark.django_db

SENDER = "919812345621"
TEXT = "My card number is 4111 and I live at 7 Elm Row"


def _delivery(phone, wamid: str = "wamid.pii.1") -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": phone.account.waba_id,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550100100",
                                "phone_number_id": phone.phone_number_id,
                            },
                            "contacts": [{"profile": {"name": "Asha"}, "wa_id": SENDER}],
                            "messages": [
                                {
                                    "from": SENDER,
                                    "id": wamid,
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": TEXT},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def _raw_bodies() -> list[str]:
    with platform_context("test: raw read"), connection.cursor() as cursor:
        cursor.execute("SELECT body FROM whatsapp_webhookevent ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def _staff_client():
    from accounts.models import User

    staff = User.objects.create_superuser(email="ops@platform.test", password="a-long-passphrase-1")
    client = Client()
    client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    return client, staff


def test_a_stored_delivery_shows_no_number_or_message_text_in_the_table(phone, alpha):
    event = deliver_webhook(_delivery(phone))

    [stored] = _raw_bodies()
    assert SENDER not in stored and "Elm Row" not in stored and "wamid.pii.1" not in stored
    assert stored.startswith("v1.")
    assert event.status == "processed"  # processing decrypted it
    with tenant_context(alpha.tenant):
        assert Message.objects.get().body == TEXT
    assert json.loads(event.body.reveal())["entry"][0]["changes"][0]["value"]["messages"][0]["from"] == SENDER


def test_a_malformed_signed_body_is_kept_encrypted_too():
    raw = b'{"entry": [ "' + SENDER.encode()
    response = Client().post(
        "/webhooks/meta/", raw, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=meta_signature(raw)
    )
    assert response.status_code == 200
    [stored] = _raw_bodies()
    assert SENDER not in stored
    with platform_context("test"):
        event = WebhookEvent.all_tenants.get()
    assert (event.status, event.body.reveal()) == ("dead", raw.decode())


def test_an_event_that_cannot_be_decrypted_goes_dead_with_a_reason_not_a_crash(phone, settings):
    response = Client().post(
        "/webhooks/meta/",
        json.dumps(_delivery(phone)).encode(),
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=meta_signature(json.dumps(_delivery(phone)).encode()),
    )
    assert response.status_code == 200
    with platform_context("test"):
        event_id = WebhookEvent.all_tenants.get().pk
    settings.TOKEN_ENCRYPTION_KEYS = f"other:{secrets.token_urlsafe(32)}"  # the key was lost

    statuses = [process_webhook_event(event_id=event_id) for _ in range(3)]

    assert statuses == ["pending", "pending", "dead"]
    with platform_context("test"):
        event = WebhookEvent.all_tenants.get()
    assert "DecryptionError" in event.last_error and SENDER not in event.last_error


def test_admin_detail_shows_the_decrypted_json_and_audits_the_view(phone):
    event = deliver_webhook(_delivery(phone))
    client, staff = _staff_client()

    page = client.get(f"/admin/whatsapp/webhookevent/{event.pk}/change/")

    assert page.status_code == 200
    assert SENDER.encode() in page.content and b"Elm Row" in page.content
    with platform_context("test"):
        views = list(AuditEvent.all_tenants.filter(action="webhooks.body_viewed"))
    assert len(views) == 1
    assert (views[0].actor, views[0].target_type, views[0].target_id) == (staff, "whatsapp.webhookevent", str(event.pk))
    assert SENDER not in json.dumps(views[0].metadata)


def test_admin_list_never_shows_bodies_and_writes_no_view_audit(phone):
    deliver_webhook(_delivery(phone))
    client, _ = _staff_client()

    page = client.get("/admin/whatsapp/webhookevent/")

    assert page.status_code == 200
    assert SENDER.encode() not in page.content and b"Elm Row" not in page.content
    with platform_context("test"):
        assert not AuditEvent.all_tenants.filter(action="webhooks.body_viewed").exists()


def test_key_rotation_reencrypts_webhook_bodies(phone, settings):
    event = deliver_webhook(_delivery(phone))
    old_ring = settings.TOKEN_ENCRYPTION_KEYS
    new_key = f"new:{secrets.token_urlsafe(32)}"
    assert _raw_bodies()[0].split(".")[1] != "new"
    settings.TOKEN_ENCRYPTION_KEYS = f"{new_key},{old_ring}"

    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)

    assert "whatsapp.WebhookEvent.body" in out.getvalue()
    assert _raw_bodies()[0].split(".")[1] == "new"
    settings.TOKEN_ENCRYPTION_KEYS = new_key  # the old key can go
    with platform_context("test"):
        assert SENDER in WebhookEvent.all_tenants.get(pk=event.pk).body.reveal()
