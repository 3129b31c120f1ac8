"""keyword_apply_many: the STOP / START keywords of a webhook batch turned into consent events with
the workspace's settings read once and the senders' contacts in one query — the events
keyword_apply gives one message after another."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aerostic.core.tenant_context import tenant_context
from compliance.models import ConsentEvent
from compliance.policy import compliance_settings_for
from compliance.services import keyword_apply, keyword_apply_many
from contacts.models import ConsentState, Contact
from inbox.inbound import inbound_store_many
from inbox.models import Message
from inbox.outbound import outbound_store
from whatsapp.fanout import InboundItem

pytestmark = pytest.mark.django_db

T0 = 1748844000  # 2025-06-02 06:00 UTC


def _customer(n: int) -> str:
    return f"9198123{n:05d}"


def _text(n: int, body: str, wamid: str, offset: int = 0) -> InboundItem:
    message = {"from": _customer(n), "id": wamid, "timestamp": str(T0 + offset), "type": "text"}
    return InboundItem({**message, "text": {"body": body}}, f"Customer {n}")


def _stored(phone, items: list[InboundItem]) -> list[Message]:
    stored = inbound_store_many(phone=phone, items=items)
    assert all(stored)
    return stored


def test_each_message_gets_the_event_one_call_after_another_would_give(phone, alpha):
    with tenant_context(alpha.tenant):
        settings = compliance_settings_for(alpha.tenant.pk)
        settings.extra_opt_in_words = ["YES PLEASE"]
        settings.save()
        button = {
            "from": _customer(4),
            "id": "wamid.button",
            "timestamp": str(T0),
            "type": "button",
            "button": {"payload": "STOP", "text": "Stop promotions"},
        }
        hidden = {"from_user_id": "US.1", "id": "wamid.hidden", "timestamp": str(T0), "type": "text"}
        messages = _stored(
            phone,
            [
                _text(1, " Stop! ", "wamid.stop"),
                _text(2, "stop the delivery at 5", "wamid.chat"),
                _text(3, "yes please", "wamid.custom", offset=60),
                InboundItem(button),
                InboundItem({**hidden, "text": {"body": "STOP"}}),
                _text(5, "STOP", "wamid.counted"),
                _text(6, "START", "wamid.erased"),
            ],
        )
        stop, chat, custom, tapped, username, counted, erased = messages
        assert keyword_apply(message=counted) is not None  # counted before: a re-delivered batch
        Contact.objects.filter(pk=erased.conversation.contact_id).update(erased_at=timezone.now())
        sent = outbound_store(
            phone=phone, to=_customer(1), wamid="wamid.out", content={"type": "text", "text": {"body": "STOP"}}
        )

        events = keyword_apply_many(messages=[*messages, stop, sent])

        kinds = [event and (event.kind, event.source, event.dedupe_key, event.contact_id) for event in events]
        assert kinds == [
            ("opt_out", "keyword", "keyword:wamid.stop", stop.conversation.contact_id),
            None,  # a sentence, not a keyword
            ("opt_in", "keyword", "keyword:wamid.custom", custom.conversation.contact_id),
            ("opt_out", "keyword", "keyword:wamid.button", tapped.conversation.contact_id),
            None,  # a user behind a username has no contact
            None,  # already counted
            None,  # an erased contact takes no consent
            None,  # the same message again in the call
            None,  # what the business sent
        ]
        assert events[0].evidence == 'Sent "Stop!" on WhatsApp'
        assert events[3].evidence == 'Sent "Stop promotions" on WhatsApp'
        # Each event names its contact, which holds its new state (as consent_record leaves it).
        assert events[0].contact.pk == stop.conversation.contact_id
        assert (events[0].contact.consent_state, events[2].contact.consent_state) == ("opted_out", "opted_in")
        assert events[0].pk == ConsentEvent.objects.get(dedupe_key="keyword:wamid.stop").pk
        states = dict(Contact.objects.values_list("pk", "consent_state"))
        assert states[stop.conversation.contact_id] == ConsentState.OPTED_OUT
        assert states[custom.conversation.contact_id] == ConsentState.OPTED_IN
        assert states[chat.conversation.contact_id] == ConsentState.UNKNOWN
        assert ConsentEvent.objects.count() == 4
        assert username.conversation.contact_id is None


def test_a_newer_keyword_wins_over_an_older_one_in_the_same_batch(phone, alpha):
    with tenant_context(alpha.tenant):
        messages = _stored(phone, [_text(1, "START", "wamid.start", offset=60), _text(1, "STOP", "wamid.stop")])

        events = keyword_apply_many(messages=messages)

        assert [event.kind for event in events] == ["opt_in", "opt_out"]
        assert Contact.objects.get().consent_state == ConsentState.OPTED_IN


def _queries(messages: list[Message]) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        assert all(keyword_apply_many(messages=messages))
    settings_reads = sum("compliance_compliancesettings" in query["sql"] for query in queries.captured_queries)
    return len(queries), settings_reads


def test_settings_are_read_once_and_statements_do_not_grow_with_the_batch(phone, alpha):
    with tenant_context(alpha.tenant):
        compliance_settings_for(alpha.tenant.pk)  # made on first use: not what is measured
        few = _stored(phone, [_text(n, "STOP", f"wamid.few{n}") for n in range(3)])
        many = _stored(phone, [_text(n, "STOP", f"wamid.many{n}") for n in range(100, 160)])

        counted = _queries(few), _queries(many)

    assert counted[0] == counted[1]
    assert counted[1][1] == 1
    assert _queries_without_keywords(phone, alpha) == 1  # short texts: the settings, nothing else


def _queries_without_keywords(phone, alpha) -> int:
    with tenant_context(alpha.tenant):
        chat = _stored(phone, [_text(n, "hello", f"wamid.chat{n}") for n in range(20)])
        with CaptureQueriesContext(connection) as queries:
            assert keyword_apply_many(messages=chat) == [None] * 20
    return len(queries)
