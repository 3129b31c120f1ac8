"""Consent signals in WhatsApp traffic, delivered as signed webhooks the way Meta sends them: STOP /
START keywords, Meta's `user_preferences`, and the 131050 refusal — each recorded once in the
ledger, with the contact created and its conversation linked on the customer's first message."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aerostic.core.tenant_context import tenant_context
from aerostic.testsupport.webhooks import deliver_webhook
from compliance.jobs import apply_pending_user_preferences
from compliance.models import ConsentEvent, UserPreferenceEvent
from compliance.policy import compliance_settings_for
from compliance.services import keyword_confirmation, user_preferences_apply_pending
from contacts.models import ConsentState, Contact
from contacts.services import contact_create
from inbox.models import Conversation

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "whatsapp" / "tests" / "fixtures" / "meta_webhooks"
CUSTOMER = "919812345621"
T0 = 1748844000  # 2025-06-02 06:00 UTC


def _payload(phone, value: dict, field: str = "messages") -> dict:
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": phone.phone_number_id}, **value}
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": phone.account.waba_id, "changes": [{"value": value, "field": field}]}],
    }


def _text(phone, body: str, wamid: str, ts: int = T0, sender: str = CUSTOMER) -> dict:
    message = {"from": sender, "id": wamid, "timestamp": str(ts), "type": "text", "text": {"body": body}}
    return _payload(phone, {"contacts": [{"profile": {"name": "Asha"}, "wa_id": sender}], "messages": [message]})


def _deliver(payload: dict):
    event = deliver_webhook(payload)
    assert event.status == "processed", event.last_error
    return event


def _events(alpha) -> list[ConsentEvent]:
    with tenant_context(alpha.tenant):
        return list(ConsentEvent.objects.order_by("occurred_at", "id"))


def _contact(alpha) -> Contact:
    with tenant_context(alpha.tenant):
        return Contact.objects.get()


def test_stop_creates_the_contact_links_the_conversation_and_opts_out(phone, alpha):
    _deliver(_text(phone, " Stop! ", "wamid.stop1"))
    contact = _contact(alpha)
    with tenant_context(alpha.tenant):
        conversation = Conversation.objects.get()
    assert conversation.contact_id == contact.pk
    assert (contact.source, contact.name, contact.country) == ("inbound", "Asha", "IN")
    assert contact.last_inbound_at == datetime.fromtimestamp(T0, tz=UTC)
    assert contact.consent_state == ConsentState.OPTED_OUT
    (event,) = _events(alpha)
    assert (event.kind, event.source, event.dedupe_key) == ("opt_out", "keyword", "keyword:wamid.stop1")
    assert event.evidence == 'Sent "Stop!" on WhatsApp'
    assert event.occurred_at == datetime.fromtimestamp(T0, tz=UTC)


def test_a_sentence_containing_stop_is_no_opt_out(phone, alpha):
    _deliver(_text(phone, "stop the delivery at 5", "wamid.chat"))
    contact = _contact(alpha)
    assert contact.consent_state == ConsentState.UNKNOWN
    assert _events(alpha) == []
    with tenant_context(alpha.tenant):
        assert Conversation.objects.get().contact_id == contact.pk  # linked all the same


def test_start_opts_back_in(phone, alpha):
    _deliver(_text(phone, "STOP", "wamid.stop1", ts=T0))
    _deliver(_text(phone, "start", "wamid.start1", ts=T0 + 60))
    assert _contact(alpha).consent_state == ConsentState.OPTED_IN
    assert [(e.kind, e.source) for e in _events(alpha)] == [("opt_out", "keyword"), ("opt_in", "keyword")]


def test_a_late_delivered_older_keyword_does_not_override_a_newer_one(phone, alpha):
    _deliver(_text(phone, "start", "wamid.start1", ts=T0 + 60))
    _deliver(_text(phone, "STOP", "wamid.stop1", ts=T0))
    assert _contact(alpha).consent_state == ConsentState.OPTED_IN
    assert len(_events(alpha)) == 2


def test_a_redelivered_stop_records_nothing_new(phone, alpha):
    payload = _text(phone, "STOP", "wamid.stop1")
    _deliver(payload)
    _deliver(payload)
    assert len(_events(alpha)) == 1


def test_keywords_in_other_languages(phone, alpha):
    _deliver(_text(phone, "रोकें", "wamid.hi"))
    assert _contact(alpha).consent_state == ConsentState.OPTED_OUT
    _deliver(_text(phone, "Démarrer", "wamid.fr", ts=T0 + 60))
    assert _contact(alpha).consent_state == ConsentState.OPTED_IN


def test_workspace_keywords(phone, alpha):
    with tenant_context(alpha.tenant):
        settings = compliance_settings_for(alpha.tenant.pk)
        settings.extra_opt_out_words = ["NO MORE"]
        settings.save()
    _deliver(_text(phone, "no more", "wamid.custom"))
    assert _contact(alpha).consent_state == ConsentState.OPTED_OUT


def test_a_template_quick_reply_button_is_a_keyword(phone, alpha):
    """Meta's documented quick-reply payload, its button text reading "Unsubscribe"."""
    payload = json.loads((FIXTURES / "msg_button_template_quick_reply.json").read_text())
    for entry in payload["entry"]:
        entry["id"] = phone.account.waba_id
        entry["changes"][0]["value"]["metadata"]["phone_number_id"] = phone.phone_number_id
    _deliver(payload)
    (event,) = _events(alpha)
    assert (event.kind, event.evidence) == ("opt_out", 'Sent "Unsubscribe" on WhatsApp')
    assert _contact(alpha).name == "Sheena Nelson"


def test_a_user_behind_a_username_gets_no_contact_and_no_crash(phone, alpha):
    message = {"from_user_id": "user.hidden", "id": "wamid.u", "timestamp": str(T0), "type": "text"}
    message["text"] = {"body": "STOP"}
    _deliver(_payload(phone, {"contacts": [{"user_id": "user.hidden"}], "messages": [message]}))
    with tenant_context(alpha.tenant):
        assert Conversation.objects.get().contact_id is None
        assert not Contact.objects.exists()
    assert _events(alpha) == []


def test_keyword_confirmation_is_the_workspaces_reply(alpha):
    with tenant_context(alpha.tenant):
        contact = contact_create(phone="+" + CUSTOMER, actor=alpha.admin.user)
        settings = compliance_settings_for(alpha.tenant.pk)
        settings.opt_out_reply = "Done. Reply START to come back."
        settings.save()
        assert keyword_confirmation(contact, "opt_out") == "Done. Reply START to come back."
        assert keyword_confirmation(contact, "opt_in") == settings.opt_in_reply


# --- Meta's user_preferences: the customer stopped / resumed marketing in WhatsApp itself.


def _preference(phone, value: str, ts: int, wa_id: str = CUSTOMER, category: str = "marketing_messages") -> dict:
    item = {"wa_id": wa_id, "detail": f"User requested to {value} marketing messages", "category": category}
    item.update(value=value, timestamp=ts)
    return _payload(phone, {"contacts": [{"wa_id": wa_id}], "user_preferences": [item]}, field="user_preferences")


@pytest.fixture
def known_customer(phone, alpha):
    """The customer has written to us once: they are a contact."""
    _deliver(_text(phone, "Hello", "wamid.hello", ts=T0 - 3600))
    return _contact(alpha)


def test_user_preference_stop_and_resume_become_ledger_events(phone, alpha, known_customer):
    _deliver(_preference(phone, "stop", T0))
    assert _contact(alpha).consent_state == ConsentState.OPTED_OUT
    _deliver(_preference(phone, "resume", T0 + 60))
    assert _contact(alpha).consent_state == ConsentState.OPTED_IN
    events = _events(alpha)
    assert [(e.kind, e.source) for e in events] == [("opt_out", "meta_preference"), ("opt_in", "meta_preference")]
    assert "Meta's user preference" in events[0].evidence
    with tenant_context(alpha.tenant):
        preferences = list(UserPreferenceEvent.objects.order_by("occurred_at"))
    assert [e.dedupe_key for e in events] == [f"meta_preference:{p.pk}" for p in preferences]
    assert all(p.applied_at is not None for p in preferences)


def test_a_redelivered_user_preference_records_nothing_new(phone, alpha, known_customer):
    payload = _preference(phone, "stop", T0)
    _deliver(payload)
    _deliver(payload)
    assert len(_events(alpha)) == 1


def test_other_preference_categories_are_marked_applied_without_an_event(phone, alpha, known_customer):
    _deliver(_preference(phone, "stop", T0, category="some_future_category"))
    assert _events(alpha) == []
    with tenant_context(alpha.tenant):
        assert UserPreferenceEvent.objects.get().applied_at is not None


def test_a_preference_for_an_unknown_customer_waits_for_the_contact(phone, alpha):
    _deliver(_preference(phone, "stop", T0))
    with tenant_context(alpha.tenant):
        assert UserPreferenceEvent.objects.get().applied_at is None
    assert user_preferences_apply_pending(tenant_id=alpha.tenant.pk) == 0
    _deliver(_text(phone, "Hello again", "wamid.later", ts=T0 + 3600))  # now they are a contact
    assert apply_pending_user_preferences() == 1  # the hourly job
    assert user_preferences_apply_pending(tenant_id=alpha.tenant.pk) == 0
    assert _contact(alpha).consent_state == ConsentState.OPTED_OUT
    (event,) = _events(alpha)
    assert event.source == "meta_preference"


# --- Meta refused a marketing message: error 131050, the customer stopped marketing messages.


def _failed_status(phone, wamid: str, code: int) -> dict:
    error = {"code": code, "title": "Unable to deliver message: user stopped marketing messages"}
    status = {"id": wamid, "status": "failed", "timestamp": str(T0), "recipient_id": CUSTOMER, "errors": [error]}
    return _payload(phone, {"statuses": [status]})


def test_a_131050_failure_opts_the_customer_out(phone, alpha, known_customer):
    payload = _failed_status(phone, "wamid.promo", 131050)
    _deliver(payload)
    _deliver(payload)  # re-delivered: nothing new
    (event,) = _events(alpha)
    assert (event.kind, event.source, event.dedupe_key) == ("opt_out", "meta_error", "meta131050:wamid.promo")
    assert _contact(alpha).consent_state == ConsentState.OPTED_OUT


def test_other_failures_are_no_opt_out(phone, alpha, known_customer):
    _deliver(_failed_status(phone, "wamid.promo", 131026))
    assert _events(alpha) == []
    assert _contact(alpha).consent_state == ConsentState.UNKNOWN


def test_a_131050_for_someone_who_is_no_contact_changes_nothing(phone, alpha):
    _deliver(_failed_status(phone, "wamid.promo", 131050))
    assert _events(alpha) == []


def test_inbound_direction_is_the_inbox_value():
    """compliance names an inbound message's direction without importing the inbox: they must stay equal."""
    from compliance.conversations import INBOUND
    from inbox.models import Message

    assert INBOUND == Message.Direction.INBOUND
