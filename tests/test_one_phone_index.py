"""One blind index per phone number: a customer's index of a number is the contact's `phone_index`
(users known only by a user id keep their own), and the data migrations (whatsapp 0011, compliance
0007, inbox 0007) rewrite rows stored with the number's previous, second index, and back."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.db.models import Value
from django.utils import timezone

from aerostic.core.crypto import blind_index
from aerostic.core.tenant_context import tenant_context
from compliance.models import UserPreferenceEvent
from compliance.privacy import contact_erase
from compliance.reindexing import preference_indexes_rewrite
from compliance.services import user_preference_record
from contacts.models import Contact
from contacts.phones import CUSTOMER_INDEX_PURPOSE, customer_index, phone_index
from contacts.reindexing import number_index, previous_customer_index
from contacts.services import contact_create
from inbox.models import Conversation, MessageStatusEvent
from inbox.reindexing import number_indexes_rewrite
from inbox.tests.factories import ConversationFactory
from whatsapp.models import OutboundMessage
from whatsapp.reindexing import outbound_recipient_indexes_rewrite
from whatsapp.tests.factories import OutboundMessageFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db

WA_ID = "919812345621"
E164 = "+919812345621"
OUTBOUND_ONLY = "919812345622"  # sent to, never wrote: known from the outbound message alone
UNKNOWN = "15550001111"  # in no conversation and no outbound message


def _previous(wa_id: str, workspace) -> str:
    return previous_customer_index(wa_id, tenant=workspace.tenant.pk)


def _current(workspace, *, wa_id: str = "", user_id: str = "") -> str:
    return customer_index(tenant=workspace.tenant.pk, wa_id=wa_id, user_id=user_id)


def _contact(workspace) -> Contact:
    with tenant_context(workspace.tenant):
        return contact_create(phone=E164, actor=workspace.admin.user, name="Asha")


def _statuses(workspace) -> dict[str, str]:
    with tenant_context(workspace.tenant):
        return dict(MessageStatusEvent.objects.values_list("wamid", "recipient_index"))


def test_a_numbers_customer_index_is_the_contacts_phone_index_and_user_ids_keep_their_own(alpha, bravo):
    tenant = alpha.tenant.pk
    contact = _contact(alpha)

    assert customer_index(tenant=tenant, wa_id=WA_ID) == phone_index(E164, tenant=tenant) == contact.phone_index
    assert customer_index(tenant=tenant, wa_id=E164, user_id="US.asha") == contact.phone_index  # the number first
    assert customer_index(tenant=tenant, user_id="US.asha") == blind_index(
        "user:US.asha", purpose=CUSTOMER_INDEX_PURPOSE, tenant=tenant
    )
    assert customer_index(tenant=tenant) == ""
    assert number_index(WA_ID, tenant=tenant) == contact.phone_index
    assert previous_customer_index(WA_ID, tenant=tenant) != contact.phone_index
    assert customer_index(tenant=bravo.tenant.pk, wa_id=WA_ID) != contact.phone_index  # still per workspace


@pytest.fixture
def old_inbox_rows(alpha):
    """Rows as the code before one index wrote them: conversations and status events keyed by the
    number's previous index; a user-id conversation, an erased one and a status event for a number
    known nowhere beside them."""
    contact = _contact(alpha)
    now = timezone.now()
    with tenant_context(alpha.tenant):
        phone = PhoneNumberFactory()
        by_number = ConversationFactory(
            phone_number=phone, customer_wa_id=WA_ID, customer_index=_previous(WA_ID, alpha), contact=contact
        )
        by_user = ConversationFactory(
            phone_number=phone,
            customer_wa_id="",
            customer_user_id="US.asha",
            customer_index=_current(alpha, user_id="US.asha"),
        )
        erased = ConversationFactory(phone_number=phone)
        Conversation.objects.filter(pk=erased.pk).update(
            customer_wa_id=Value(""), customer_index=f"erased:{uuid.uuid4().hex}"
        )
        erased.refresh_from_db()
        OutboundMessageFactory(
            phone_number=phone, recipient=OUTBOUND_ONLY, recipient_index=_previous(OUTBOUND_ONLY, alpha)
        )
        for wamid, index in (
            ("wamid.number", _previous(WA_ID, alpha)),
            ("wamid.outbound", _previous(OUTBOUND_ONLY, alpha)),
            ("wamid.unknown", _previous(UNKNOWN, alpha)),
            ("wamid.user", _current(alpha, user_id="US.asha")),
        ):
            MessageStatusEvent.objects.create(
                tenant=alpha.tenant, wamid=wamid, status="delivered", occurred_at=now, recipient_index=index
            )
    return {
        "contact": contact,
        "by_number": by_number,
        "by_user": by_user,
        "erased": erased,
    }


def test_the_inbox_migration_gives_conversations_and_status_events_the_contacts_index(alpha, old_inbox_rows):
    rows = old_inbox_rows

    changed = number_indexes_rewrite(Conversation, MessageStatusEvent, OutboundMessage, batch_size=1)

    assert changed == {"conversations": 1, "status_events": 2}
    with tenant_context(alpha.tenant):
        indexes = dict(Conversation.objects.values_list("pk", "customer_index"))
    assert indexes == {
        rows["by_number"].pk: rows["contact"].phone_index,  # the contact's index finds its conversation
        rows["by_user"].pk: rows["by_user"].customer_index,  # a user id's key is not the number's: untouched
        rows["erased"].pk: rows["erased"].customer_index,  # erased: its random index stays
    }
    assert _statuses(alpha) == {
        "wamid.number": rows["contact"].phone_index,
        "wamid.outbound": _current(alpha, wa_id=OUTBOUND_ONLY),
        "wamid.unknown": _previous(UNKNOWN, alpha),  # known nowhere: kept, and matches nothing
        "wamid.user": _current(alpha, user_id="US.asha"),
    }
    assert number_indexes_rewrite(Conversation, MessageStatusEvent, OutboundMessage) == {
        "conversations": 0,
        "status_events": 0,
    }
    # The one reader of a status event's index, the erase, finds them by the contact's index.
    with tenant_context(alpha.tenant):
        contact_erase(contact=rows["contact"], actor=alpha.admin.user)
    assert _statuses(alpha)["wamid.number"] == ""


def test_the_inbox_migrations_reverse_writes_the_previous_indexes_back(alpha, old_inbox_rows):
    rows = old_inbox_rows
    before = _statuses(alpha)
    number_indexes_rewrite(Conversation, MessageStatusEvent, OutboundMessage)

    changed = number_indexes_rewrite(
        Conversation, MessageStatusEvent, OutboundMessage, old=number_index, new=previous_customer_index
    )

    assert changed == {"conversations": 1, "status_events": 2}
    with tenant_context(alpha.tenant):
        assert Conversation.objects.get(pk=rows["by_number"].pk).customer_index == _previous(WA_ID, alpha)
        assert Conversation.objects.get(pk=rows["erased"].pk).customer_index == rows["erased"].customer_index
    assert _statuses(alpha) == before


def test_the_whatsapp_migration_gives_outbound_messages_the_contacts_index_and_back(alpha):
    with tenant_context(alpha.tenant):
        message = OutboundMessageFactory(recipient=WA_ID, recipient_index=_previous(WA_ID, alpha))
        erased = OutboundMessageFactory(phone_number=message.phone_number)
        OutboundMessage.objects.filter(pk=erased.pk).update(recipient=Value(""), recipient_index="")

    def indexes() -> dict[int, str]:
        with tenant_context(alpha.tenant):
            return dict(OutboundMessage.objects.values_list("pk", "recipient_index"))

    assert outbound_recipient_indexes_rewrite(OutboundMessage, batch_size=1) == 1
    assert indexes() == {message.pk: phone_index(E164, tenant=alpha.tenant.pk), erased.pk: ""}
    assert outbound_recipient_indexes_rewrite(OutboundMessage) == 0

    assert outbound_recipient_indexes_rewrite(OutboundMessage, index=previous_customer_index) == 1
    assert indexes() == {message.pk: _previous(WA_ID, alpha), erased.pk: ""}


def test_the_compliance_migration_gives_preference_events_the_contacts_index_and_back(alpha):
    def record(**who: str) -> UserPreferenceEvent:
        preference = {"category": "marketing_messages", "value": "stop", "timestamp": "1700000000", **who}
        with tenant_context(alpha.tenant):
            event = user_preference_record(phone=phone, preference=preference)
        assert event is not None
        return event

    with tenant_context(alpha.tenant):
        phone = PhoneNumberFactory()
    by_number, by_user, unlinked = record(wa_id=WA_ID), record(user_id="US.asha"), record(user_id="US.nobody")
    with tenant_context(alpha.tenant):
        UserPreferenceEvent.objects.filter(pk=by_number.pk).update(customer_index=_previous(WA_ID, alpha))
        UserPreferenceEvent.objects.filter(pk=unlinked.pk).update(customer_index=f"unlinked:{unlinked.pk}")

    def indexes() -> dict[int, str]:
        with tenant_context(alpha.tenant):
            return dict(UserPreferenceEvent.objects.values_list("pk", "customer_index"))

    untouched = {by_user.pk: _current(alpha, user_id="US.asha"), unlinked.pk: f"unlinked:{unlinked.pk}"}
    assert preference_indexes_rewrite(UserPreferenceEvent, batch_size=1) == 1
    assert indexes() == {by_number.pk: phone_index(E164, tenant=alpha.tenant.pk), **untouched}
    assert preference_indexes_rewrite(UserPreferenceEvent) == 0

    assert preference_indexes_rewrite(UserPreferenceEvent, index=previous_customer_index) == 1
    assert indexes() == {by_number.pk: _previous(WA_ID, alpha), **untouched}


def test_the_migrations_and_their_reverses_run_through_the_historical_models(alpha):
    from django.db.migrations.executor import MigrationExecutor

    contact = _contact(alpha)
    with tenant_context(alpha.tenant):
        conversation = ConversationFactory(customer_wa_id=WA_ID, contact=contact)
        message = OutboundMessageFactory(phone_number=conversation.phone_number, recipient=WA_ID)
        MessageStatusEvent.objects.create(
            tenant=alpha.tenant,
            wamid="wamid.number",
            status="sent",
            occurred_at=timezone.now(),
            recipient_index=contact.phone_index,
        )
        preference = user_preference_record(
            phone=conversation.phone_number,
            preference={"wa_id": WA_ID, "category": "marketing_messages", "value": "stop", "timestamp": "1700000000"},
        )
    assert preference is not None

    def stored() -> set[str]:
        with tenant_context(alpha.tenant):
            return {
                # one column each: the live models have columns later migrations add
                Conversation.objects.values_list("customer_index", flat=True).get(pk=conversation.pk),
                OutboundMessage.objects.values_list("recipient_index", flat=True).get(pk=message.pk),
                MessageStatusEvent.objects.values_list("recipient_index", flat=True).get(),
                UserPreferenceEvent.objects.values_list("customer_index", flat=True).get(pk=preference.pk),
            }

    assert stored() == {contact.phone_index}
    executor = MigrationExecutor(connection)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as in test_blind_indexes: no deferred trigger events

    executor.migrate(
        [
            ("inbox", "0006_message_partitions_fillfactor"),
            ("whatsapp", "0010_outbound_queued_by_number"),
            ("compliance", "0006_consent_event_reset_kind"),
        ]
    )
    assert stored() == {_previous(WA_ID, alpha)}

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert stored() == {contact.phone_index}
