"""The 24-hour customer service window: opened by the customer's messages, closed 24 hours later or
as soon as Meta answers 131047, reopened by the next message; free-form sends follow it."""

from datetime import UTC, datetime, timedelta

import pytest

from aerostic.core.tenant_context import tenant_context
from aerostic.testsupport.webhooks import deliver_webhook
from compliance.policy import WINDOW_CLOSED, can_send, free_form_allowed, window_closes_at, window_open
from contacts.models import Contact
from inbox.conversations import window_close
from inbox.models import Conversation

pytestmark = pytest.mark.django_db

CUSTOMER = "919812345621"
WROTE_AT = datetime(2025, 6, 2, 6, 0, tzinfo=UTC)


def _deliver(phone, value: dict, field: str = "messages") -> None:
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": phone.phone_number_id}, **value}
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": phone.account.waba_id, "changes": [{"value": value, "field": field}]}],
    }
    assert deliver_webhook(payload).status == "processed"


def _customer_writes(phone, wamid: str, at: datetime) -> None:
    message = {"from": CUSTOMER, "id": wamid, "timestamp": str(int(at.timestamp())), "type": "text"}
    message["text"] = {"body": "Is my order on its way?"}
    _deliver(phone, {"messages": [message]})


def _conversation(alpha) -> Conversation:
    with tenant_context(alpha.tenant):
        return Conversation.objects.select_related("contact").get()


def test_a_customer_message_opens_the_window_for_24_hours(phone, alpha):
    _customer_writes(phone, "wamid.in1", WROTE_AT)
    conversation = _conversation(alpha)
    assert window_closes_at(conversation) == WROTE_AT + timedelta(hours=24)
    assert window_open(conversation, WROTE_AT + timedelta(hours=23, minutes=59))
    assert not window_open(conversation, WROTE_AT + timedelta(hours=24))


def test_no_window_before_the_customer_writes(phone, alpha):
    with tenant_context(alpha.tenant):
        conversation = Conversation(tenant_id=alpha.tenant.pk, phone_number=phone)
    assert window_closes_at(conversation) is None
    assert not window_open(conversation, WROTE_AT)


def test_free_form_is_refused_outside_the_window(phone, alpha):
    _customer_writes(phone, "wamid.in1", WROTE_AT)
    conversation = _conversation(alpha)
    with tenant_context(alpha.tenant):
        assert free_form_allowed(conversation, WROTE_AT + timedelta(hours=1)).allowed
        decision = free_form_allowed(conversation, WROTE_AT + timedelta(hours=25))
    assert not decision.allowed
    assert decision.reason == "The 24-hour customer service window is closed: send an approved template instead."
    assert decision.reason == WINDOW_CLOSED


def test_window_close_ends_the_window_at_once(phone, alpha):
    _customer_writes(phone, "wamid.in1", WROTE_AT)
    conversation = _conversation(alpha)
    refused_at = WROTE_AT + timedelta(hours=2)
    with tenant_context(alpha.tenant):
        assert window_close(conversation=conversation, at=refused_at)
    assert conversation.window_expires_at == refused_at
    assert not window_open(_conversation(alpha), refused_at)
    assert window_open(_conversation(alpha), refused_at - timedelta(minutes=1))


def test_a_new_customer_message_reopens_a_closed_window(phone, alpha):
    _customer_writes(phone, "wamid.in1", WROTE_AT)
    with tenant_context(alpha.tenant):
        window_close(conversation=_conversation(alpha), at=WROTE_AT + timedelta(hours=1))
    _customer_writes(phone, "wamid.in2", WROTE_AT + timedelta(hours=3))
    assert window_closes_at(_conversation(alpha)) == WROTE_AT + timedelta(hours=27)


def test_an_older_refusal_does_not_close_a_newer_window(phone, alpha):
    _customer_writes(phone, "wamid.in1", WROTE_AT)
    with tenant_context(alpha.tenant):
        assert not window_close(conversation=_conversation(alpha), at=WROTE_AT - timedelta(hours=1))
    assert window_closes_at(_conversation(alpha)) == WROTE_AT + timedelta(hours=24)


def _business_reply(phone, wamid: str, at: datetime) -> None:
    echo = {"from": "15550100100", "to": CUSTOMER, "id": wamid, "timestamp": str(int(at.timestamp()))}
    echo.update(type="text", text={"body": "Yes, tomorrow."})
    _deliver(phone, {"message_echoes": [echo]}, field="smb_message_echoes")


def _failed(wamid: str, at: datetime, code: int) -> dict:
    error = {"code": code, "title": "Re-engagement message", "message": "Re-engagement message"}
    return {
        "statuses": [
            {
                "id": wamid,
                "status": "failed",
                "timestamp": str(int(at.timestamp())),
                "recipient_id": CUSTOMER,
                "errors": [error],
            }
        ]
    }


def test_metas_131047_closes_the_window(phone, alpha):
    _customer_writes(phone, "wamid.in1", WROTE_AT)
    refused_at = WROTE_AT + timedelta(hours=5)
    _business_reply(phone, "wamid.out1", refused_at)
    _deliver(phone, _failed("wamid.out1", refused_at, 131047))
    conversation = _conversation(alpha)
    assert conversation.window_expires_at == refused_at
    with tenant_context(alpha.tenant):
        assert not free_form_allowed(conversation, refused_at + timedelta(minutes=1)).allowed


def test_a_131047_that_arrives_before_its_message_closes_the_window_when_the_message_appears(phone, alpha):
    _customer_writes(phone, "wamid.in1", WROTE_AT)
    refused_at = WROTE_AT + timedelta(hours=5)
    _deliver(phone, _failed("wamid.out1", refused_at, 131047))
    assert window_open(_conversation(alpha), refused_at + timedelta(minutes=1))  # not ours to close yet
    _business_reply(phone, "wamid.out1", refused_at)
    assert _conversation(alpha).window_expires_at == refused_at


def test_other_failures_leave_the_window_alone(phone, alpha):
    _customer_writes(phone, "wamid.in1", WROTE_AT)
    _business_reply(phone, "wamid.out1", WROTE_AT + timedelta(hours=1))
    _deliver(phone, _failed("wamid.out1", WROTE_AT + timedelta(hours=1), 131026))
    assert _conversation(alpha).window_expires_at == WROTE_AT + timedelta(hours=24)


def test_service_category_follows_the_window_not_consent(phone, alpha):
    _customer_writes(phone, "wamid.in1", WROTE_AT)
    with tenant_context(alpha.tenant):
        contact = Contact.objects.get()
        assert contact.consent_state == "unknown"
        assert can_send(contact, "SERVICE", WROTE_AT + timedelta(hours=1)).allowed
        decision = can_send(contact, "SERVICE", WROTE_AT + timedelta(hours=24, minutes=1))
    assert not decision.allowed and decision.reason == WINDOW_CLOSED
