"""contacts_for_customers: the senders of a webhook batch found or created as contacts in a few
statements — the contacts contact_for_customer gives one sender after another, `last_inbound_at`
only moving forward."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aerostic.core.tenant_context import tenant_context
from contacts.models import Contact
from contacts.services import InboundSender, contact_create, contact_for_customer, contacts_for_customers

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 6, 2, 6, 0, tzinfo=UTC)
NEW, OTHER, NAMED, NAMELESS = "919812345621", "14155552671", "5511912345678", "447400123456"


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_each_sender_gets_the_contact_one_call_after_another_would_give(alpha):
    with tenant_context(alpha.tenant):
        named = contact_create(phone=f"+{NAMED}", name="Asha", actor=alpha.admin.user)
        nameless = contact_create(phone=f"+{NAMELESS}", actor=alpha.admin.user)
        Contact.objects.filter(pk=nameless.pk).update(last_inbound_at=_at(500))
        before = timezone.now()

        contacts = contacts_for_customers(
            senders=[
                InboundSender(wa_id=NEW, profile_name="Nia", at=_at(100)),
                InboundSender(wa_id=NEW, profile_name=" Nia N. ", at=_at(300)),
                InboundSender(wa_id=NEW, at=_at(200)),
                InboundSender(wa_id=NAMED, profile_name="Someone else", at=_at(50)),
                InboundSender(wa_id=NAMELESS, profile_name="  ", at=_at(100)),
                InboundSender(wa_id=NAMELESS, profile_name=" Lee ", at=_at(50)),
                InboundSender(wa_id="12"),
                InboundSender(wa_id=OTHER),
            ]
        )

        new = Contact.objects.get(pk=contacts[0].pk)
        other = Contact.objects.get(pk=contacts[7].pk)
        assert contacts[0] is contacts[1] is contacts[2]
        assert (new.phone.reveal(), new.name, new.source, new.country) == (f"+{NEW}", "Nia", "inbound", "IN")
        assert (new.last_inbound_at, new.consent_state) == (_at(300), "unknown")
        assert (contacts[3].pk, contacts[4].pk, contacts[5].pk, contacts[6]) == (
            named.pk,
            nameless.pk,
            nameless.pk,
            None,
        )
        named.refresh_from_db()
        nameless.refresh_from_db()
        assert (named.name, named.last_inbound_at) == ("Asha", _at(50))
        assert (nameless.name, nameless.last_inbound_at) == ("Lee", _at(500))  # never moved backwards
        assert (other.name, other.source) == ("", "inbound")
        assert other.last_inbound_at >= before  # written now when the sender's time is not given
        # The objects handed back hold what was stored.
        for contact in (contacts[0], contacts[3], contacts[4], contacts[7]):
            stored = Contact.objects.get(pk=contact.pk)
            assert (contact.name, contact.last_inbound_at) == (stored.name, stored.last_inbound_at)
        assert Contact.objects.count() == 4


def test_the_single_sender_is_a_batch_of_one(alpha):
    with tenant_context(alpha.tenant):
        first = contact_for_customer(wa_id=NEW, profile_name="Asha", at=_at(10))
        older = contact_for_customer(wa_id=NEW, profile_name="Someone else", at=_at(5))
        assert first.pk == older.pk
        assert (older.name, older.last_inbound_at) == ("Asha", _at(10))
        assert contact_for_customer(wa_id="") is None


def _queries(senders: list[InboundSender]) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert all(contacts_for_customers(senders=senders))
    return len(queries)


def _senders(known: str, count: int, *, start: int, at: datetime) -> list[InboundSender]:
    """A known contact, then `count - 1` numbers (new the first time)."""
    return [InboundSender(wa_id=known, at=at)] + [
        InboundSender(wa_id=f"91981{n:07d}", profile_name=f"Customer {n}", at=at)
        for n in range(start, start + count - 1)
    ]


def test_number_of_statements_does_not_grow_with_the_senders(alpha):
    with tenant_context(alpha.tenant):
        contact_for_customer(wa_id=NAMED, at=_at(0))
        contact_for_customer(wa_id=NAMELESS, at=_at(0))
        few = _queries(_senders(NAMED, 3, start=0, at=_at(10)))
        many = _queries(_senders(NAMELESS, 150, start=100, at=_at(10)))
        seen_again = _queries(_senders(NAMELESS, 150, start=100, at=_at(20)))
        nothing_new = _queries(_senders(NAMELESS, 150, start=100, at=_at(20)))
        assert Contact.objects.count() == 2 + 2 + 149
    assert few == many == 4
    assert (seen_again, nothing_new) == (2, 1)  # read + move forward; a re-read writes nothing
