"""Every webhook payload Meta documents, signed and delivered to the intake: each is processed or
ignored with a reason — never dead, never a crashed job — and lands where it belongs."""

import json
from pathlib import Path

import pytest

from aerostic.core.tenant_context import tenant_context
from aerostic.testsupport.webhooks import deliver_webhook
from compliance.models import UserPreferenceEvent
from inbox.models import Conversation, Message, MessageStatusEvent
from inbox.payloads import IDENTITY_KEYS, sealed_parts
from whatsapp.models import WebhookEvent

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "meta_webhooks"
PAYLOADS = sorted(FIXTURES.glob("*.json"))


def _aim_at(payload: dict, phone) -> dict:
    """Points a documented payload at our connected number and its WABA."""
    for entry in payload.get("entry", []):
        entry["id"] = phone.account.waba_id
        for change in entry.get("changes", []):
            metadata = (change.get("value") or {}).get("metadata")
            if isinstance(metadata, dict):
                metadata["phone_number_id"] = phone.phone_number_id
    return payload


def _deliver(raw: bytes) -> WebhookEvent:
    return deliver_webhook(raw)


def test_the_fixture_set_covers_every_kind_the_issue_names():
    names = {path.stem for path in PAYLOADS}
    assert len(names) >= 50
    for prefix in ("msg_", "status_", "template_", "history", "user_preferences", "smb_app_state_sync", "account_"):
        assert any(name.startswith(prefix) for name in names), prefix


@pytest.mark.parametrize("path", PAYLOADS, ids=[p.stem for p in PAYLOADS])
def test_every_documented_payload_is_processed_or_ignored_with_a_reason(path, phone, alpha):
    raw = json.dumps(_aim_at(json.loads(path.read_text()), phone)).encode()
    event = _deliver(raw)
    assert event.status in (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED), event.last_error
    changes = event.outcome["changes"]
    assert changes, "every change gets an outcome"
    for outcome in changes:
        assert outcome["result"] in ("processed", "ignored")
        if outcome["result"] == "ignored":
            assert outcome["reason"]

    # Meta re-delivers: the same body again stores nothing new.
    with tenant_context(alpha.tenant):
        before = (Message.objects.count(), MessageStatusEvent.objects.count(), UserPreferenceEvent.objects.count())
    again = _deliver(raw)
    assert again.status == event.status
    with tenant_context(alpha.tenant):
        after = (Message.objects.count(), MessageStatusEvent.objects.count(), UserPreferenceEvent.objects.count())
    assert after == before


@pytest.mark.parametrize("path", [p for p in PAYLOADS if p.stem.startswith("msg_")], ids=lambda p: p.stem)
def test_every_documented_message_becomes_one_inbound_message(path, phone, alpha):
    payload = _aim_at(json.loads(path.read_text()), phone)
    documented = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    _deliver(json.dumps(payload).encode())
    with tenant_context(alpha.tenant):
        message = Message.objects.get()
    assert (message.direction, message.type, message.wamid) == ("in", documented["type"], documented["id"])
    # Kept as Meta sent it, less the numbers (inbox.payloads): the parts naming people sealed.
    assert {**message.payload, **sealed_parts(message)} == {
        key: value for key, value in documented.items() if key not in IDENTITY_KEYS
    } | (
        {"context": {k: v for k, v in documented["context"].items() if k != "from"}} if "context" in documented else {}
    )


@pytest.mark.parametrize("path", [p for p in PAYLOADS if p.stem.startswith("status_")], ids=lambda p: p.stem)
def test_every_documented_status_is_kept_with_its_pricing(path, phone, alpha):
    payload = _aim_at(json.loads(path.read_text()), phone)
    documented = payload["entry"][0]["changes"][0]["value"]["statuses"][0]
    _deliver(json.dumps(payload).encode())
    with tenant_context(alpha.tenant):
        status = MessageStatusEvent.objects.get()
    assert (status.wamid, status.status) == (documented["id"], documented["status"])
    assert status.pricing == documented.get("pricing", {})
    assert status.conversation_info == documented.get("conversation", {})
    assert status.recipient_index  # phone number or business-scoped user id, never empty


def test_username_users_without_a_number_get_their_own_conversation(phone, alpha):
    payload = _aim_at(json.loads((FIXTURES / "msg_text_bsuid_username.json").read_text()), phone)
    _deliver(json.dumps(payload).encode())
    other = json.loads(json.dumps(payload))
    value = other["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["user_id"] = value["messages"][0]["from_user_id"] = "user.someone-else"
    value["messages"][0]["id"] = "wamid.other-user"
    _deliver(json.dumps(other).encode())
    with tenant_context(alpha.tenant):
        conversations = list(Conversation.objects.order_by("id"))
    assert [c.customer_user_id for c in conversations] == ["user.93737...", "user.someone-else"]
    assert conversations[0].customer_name == "Sheena Nelson"
    assert conversations[0].customer_wa_id.reveal() == ""


def test_history_sync_fills_conversations_in_both_directions(phone, alpha):
    payload = _aim_at(json.loads((FIXTURES / "history_sync.json").read_text()), phone)
    _deliver(json.dumps(payload).encode())
    with tenant_context(alpha.tenant):
        assert Conversation.objects.count() == 2
        directions = sorted(Message.objects.values_list("direction", "status"))
    assert directions == [("in", "received"), ("out", "delivered"), ("out", "read"), ("out", "read")]


def test_user_preferences_are_recorded_for_the_consent_ledger(phone, alpha):
    payload = _aim_at(json.loads((FIXTURES / "user_preferences_marketing.json").read_text()), phone)
    _deliver(json.dumps(payload).encode())
    with tenant_context(alpha.tenant):
        preference = UserPreferenceEvent.objects.get()
    assert (preference.category, preference.value, preference.applied_at) == ("marketing_messages", "resume", None)
    assert preference.customer_wa_id.reveal() == "16505551234"


def test_value_level_errors_are_kept_in_the_outcome(phone):
    payload = _aim_at(json.loads((FIXTURES / "value_level_errors.json").read_text()), phone)
    event = _deliver(json.dumps(payload).encode())
    assert event.outcome["changes"][0]["errors"] == [{"code": 130429, "title": "Rate limit hit"}]


def test_a_batch_of_many_entries_is_processed_in_full(phone, alpha):
    """Meta batches updates: every entry and every change counts, not only the first."""
    documented = [json.loads(p.read_text()) for p in PAYLOADS if p.stem.startswith("msg_")]
    batch = {"object": "whatsapp_business_account", "entry": [e for d in documented for e in d["entry"]]}
    event = _deliver(json.dumps(_aim_at(batch, phone)).encode())
    assert len(event.outcome["changes"]) == len(documented)
    with tenant_context(alpha.tenant):
        assert Message.objects.count() == len(
            {d["entry"][0]["changes"][0]["value"]["messages"][0]["id"] for d in documented}
        )
