"""Blind indexes are private to a workspace: one number in two workspaces has two unrelated indexes,
so nobody reading the database can link a person across tenants; lookups still find the person in
each; and the data migrations rewrite rows stored with the old, shared index."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.db.models import Value

from aerostic.core.reindexing import legacy_blind_index
from aerostic.core.tenant_context import platform_context, tenant_context
from aerostic.testsupport.webhooks import deliver_webhook
from compliance.consent import consent_record
from compliance.models import ConsentEvent, UserPreferenceEvent
from compliance.privacy import contact_erase
from compliance.reindexing import import_consent_keys_strip, preference_indexes_rewrite
from compliance.services import user_preference_record
from contacts.models import Contact
from contacts.phones import CUSTOMER_INDEX_PURPOSE, PHONE_INDEX_PURPOSE, customer_index, phone_index
from contacts.reindexing import contact_phone_indexes_rewrite
from contacts.selectors import contact_for_number, contact_list
from contacts.services import contact_create
from inbox.models import Conversation, MessageStatusEvent
from inbox.reindexing import inbox_indexes_rewrite
from inbox.statuses import status_record
from whatsapp import dispatch
from whatsapp.models import OutboundMessage, PhoneNumber
from whatsapp.reindexing import outbound_recipient_indexes_rewrite

pytestmark = pytest.mark.django_db

WA_ID = "919812345621"
E164 = "+919812345621"
OTHER_E164 = "+919812345699"


@pytest.fixture
def bravo_account(simulator, bravo):
    from whatsapp.connections.connect import sandbox_connect

    return sandbox_connect(tenant=bravo.tenant, actor=bravo.admin.user)


def _phone(workspace, account) -> PhoneNumber:
    with tenant_context(workspace.tenant):
        return PhoneNumber.objects.select_related("account").get(account=account)


def _contact(workspace, number: str = E164) -> Contact:
    with tenant_context(workspace.tenant):
        return contact_create(phone=number, actor=workspace.admin.user, name="Asha")


def _inbound(phone: PhoneNumber, wamid: str) -> None:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": phone.display_phone_number, "phone_number_id": phone.phone_number_id},
        "contacts": [{"profile": {"name": "Asha"}, "wa_id": WA_ID}],
        "messages": [
            {"from": WA_ID, "id": wamid, "timestamp": str(int(time.time())), "type": "text", "text": {"body": "Hi"}}
        ],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": phone.account.waba_id, "changes": [{"field": "messages", "value": value}]}],
    }
    assert deliver_webhook(payload).status == "processed"


def _joined(sql: str, alpha, bravo) -> int:
    """What someone with database access sees: every row of both workspaces (the platform scope)."""
    with platform_context("test: a database reader"), connection.cursor() as cursor:
        cursor.execute(sql, [alpha.tenant.pk, bravo.tenant.pk])
        return cursor.fetchone()[0]


# --- Per workspace.


def test_one_number_in_two_workspaces_has_two_indexes_and_each_finds_its_own_contact(alpha, bravo):
    in_alpha = _contact(alpha)
    in_bravo = _contact(bravo)

    assert in_alpha.phone_index and in_bravo.phone_index
    assert in_alpha.phone_index != in_bravo.phone_index
    for workspace, contact in ((alpha, in_alpha), (bravo, in_bravo)):
        with tenant_context(workspace.tenant):
            assert contact.phone_index == phone_index(E164, tenant=workspace.tenant.pk)
            assert contact_for_number("+91 98123 45621") == contact
            assert list(contact_list(search="+91 98123 45621")) == [contact]


def test_raw_sql_cannot_join_contacts_or_conversations_across_workspaces_by_index(
    alpha, bravo, connected, bravo_account
):
    _contact(alpha)
    _contact(bravo)
    _inbound(_phone(alpha, connected), "wamid.alpha.1")
    _inbound(_phone(bravo, bravo_account), "wamid.bravo.1")

    contacts = _joined(
        "SELECT count(*) FROM contacts_contact a JOIN contacts_contact b ON a.phone_index = b.phone_index"
        " WHERE a.tenant_id = %s AND b.tenant_id = %s",
        alpha,
        bravo,
    )
    conversations = _joined(
        "SELECT count(*) FROM inbox_conversation a JOIN inbox_conversation b ON a.customer_index = b.customer_index"
        " WHERE a.tenant_id = %s AND b.tenant_id = %s",
        alpha,
        bravo,
    )

    assert (contacts, conversations) == (0, 0)


def test_inbound_messages_link_each_workspaces_contact_and_outbound_messages_share_the_conversation_key(
    alpha, bravo, connected, bravo_account
):
    in_alpha, in_bravo = _contact(alpha), _contact(bravo)
    alpha_phone = _phone(alpha, connected)

    _inbound(alpha_phone, "wamid.alpha.1")
    _inbound(_phone(bravo, bravo_account), "wamid.bravo.1")

    with tenant_context(alpha.tenant):
        alpha_conversation = Conversation.objects.get()
        outbound = dispatch.message_enqueue(
            phone=alpha_phone,
            to=WA_ID,
            content={"type": "text", "text": {"body": "Hello"}},
            category="SERVICE",
            origin="api",
        )
    with tenant_context(bravo.tenant):
        bravo_conversation = Conversation.objects.get()
    assert (alpha_conversation.contact_id, bravo_conversation.contact_id) == (in_alpha.pk, in_bravo.pk)
    assert alpha_conversation.customer_index != bravo_conversation.customer_index
    assert outbound.recipient_index == alpha_conversation.customer_index  # the erase finds both by it


# --- The data migrations: each app's rewrite function, on rows written with the old shared index.


def test_the_contacts_migration_rewrites_old_shared_indexes_from_the_numbers(alpha, bravo):
    legacy = legacy_blind_index(E164, purpose=PHONE_INDEX_PURPOSE)
    in_alpha, in_bravo = _contact(alpha), _contact(bravo)
    erased = _contact(alpha, OTHER_E164)
    with tenant_context(alpha.tenant):
        contact_erase(contact=erased, actor=alpha.admin.user)
    with platform_context("test: rows as the old code wrote them"):
        Contact.all_tenants.filter(pk__in=[in_alpha.pk, in_bravo.pk]).update(phone_index=legacy)

    changed = contact_phone_indexes_rewrite(Contact, batch_size=2)

    assert changed == 2
    for workspace, contact in ((alpha, in_alpha), (bravo, in_bravo)):
        with tenant_context(workspace.tenant):
            assert Contact.objects.get(pk=contact.pk).phone_index == phone_index(E164, tenant=workspace.tenant.pk)
            assert contact_for_number(E164) == contact
    with tenant_context(alpha.tenant):
        assert Contact.objects.get(pk=erased.pk).phone_index == ""  # erased: no number, no index
    assert contact_phone_indexes_rewrite(Contact) == 0  # a second run changes nothing


def test_the_inbox_migration_rewrites_conversations_and_translates_what_has_no_number(alpha, connected):
    phone = _phone(alpha, connected)
    _inbound(phone, "wamid.alpha.1")
    with tenant_context(alpha.tenant):
        by_username = Conversation.objects.create(
            phone_number=phone,
            customer_user_id="US.asha",
            customer_index=legacy_blind_index("user:US.asha", purpose=CUSTOMER_INDEX_PURPOSE),
        )
        status_record(
            status={"id": "wamid.out.1", "status": "delivered", "timestamp": "1700000000", "recipient_id": WA_ID}
        )
        status_record(
            status={"id": "wamid.out.2", "status": "sent", "timestamp": "1700000000", "recipient_id": "15550001111"}
        )
        known = user_preference_record(
            phone=phone,
            preference={
                "user_id": "US.asha",
                "category": "marketing_messages",
                "value": "stop",
                "timestamp": "1700000000",
            },
        )
        unknown = user_preference_record(
            phone=phone,
            preference={
                "user_id": "US.nobody",
                "category": "marketing_messages",
                "value": "stop",
                "timestamp": "1700000000",
            },
        )
        # As the old code wrote them: the same index in every workspace.
        Conversation.objects.exclude(pk=by_username.pk).update(
            customer_index=legacy_blind_index(WA_ID, purpose=CUSTOMER_INDEX_PURPOSE)
        )
        MessageStatusEvent.objects.filter(wamid="wamid.out.1").update(
            recipient_index=legacy_blind_index(WA_ID, purpose=CUSTOMER_INDEX_PURPOSE)
        )
        MessageStatusEvent.objects.filter(wamid="wamid.out.2").update(
            recipient_index=legacy_blind_index("15550001111", purpose=CUSTOMER_INDEX_PURPOSE)
        )
        UserPreferenceEvent.objects.filter(pk=known.pk).update(
            customer_index=legacy_blind_index("user:US.asha", purpose=CUSTOMER_INDEX_PURPOSE)
        )
        UserPreferenceEvent.objects.filter(pk=unknown.pk).update(
            customer_index=legacy_blind_index("user:US.nobody", purpose=CUSTOMER_INDEX_PURPOSE)
        )

    changed = inbox_indexes_rewrite(Conversation, MessageStatusEvent, UserPreferenceEvent, batch_size=1)

    tenant = alpha.tenant.pk
    assert changed == {"conversations": 2, "status_events": 2, "preference_events": 2}
    with tenant_context(alpha.tenant):
        by_number = Conversation.objects.exclude(pk=by_username.pk).get()
        assert by_number.customer_index == customer_index(tenant=tenant, wa_id=WA_ID)
        assert Conversation.objects.get(pk=by_username.pk).customer_index == customer_index(
            tenant=tenant, user_id="US.asha"
        )
        statuses = dict(MessageStatusEvent.objects.values_list("wamid", "recipient_index"))
        assert statuses == {"wamid.out.1": by_number.customer_index, "wamid.out.2": ""}  # nobody we know: dropped
        assert UserPreferenceEvent.objects.get(pk=known.pk).customer_index == customer_index(
            tenant=tenant, user_id="US.asha"
        )
        assert UserPreferenceEvent.objects.get(pk=unknown.pk).customer_index == f"unlinked:{unknown.pk}"
        # The inbox still finds the conversation by the number.
        _inbound(phone, "wamid.alpha.2")
        assert Conversation.objects.count() == 2
    assert inbox_indexes_rewrite(Conversation, MessageStatusEvent, UserPreferenceEvent) == {
        "conversations": 0,
        "status_events": 0,
        "preference_events": 0,
    }


def test_the_whatsapp_migration_rewrites_outbound_recipient_indexes(alpha, connected):
    phone = _phone(alpha, connected)
    with tenant_context(alpha.tenant):
        message = dispatch.message_enqueue(
            phone=phone, to=WA_ID, content={"type": "text", "text": {"body": "Hello"}}, category="SERVICE", origin="api"
        )
        erased = dispatch.message_enqueue(
            phone=phone,
            to="919812345699",
            content={"type": "text", "text": {"body": "Hi"}},
            category="SERVICE",
            origin="api",
        )
        OutboundMessage.objects.filter(pk=message.pk).update(
            recipient_index=legacy_blind_index(WA_ID, purpose=CUSTOMER_INDEX_PURPOSE)
        )
        OutboundMessage.objects.filter(pk=erased.pk).update(recipient=Value(""), recipient_index="")

    assert outbound_recipient_indexes_rewrite(OutboundMessage, batch_size=1) == 1

    with tenant_context(alpha.tenant):
        rows = dict(OutboundMessage.objects.values_list("pk", "recipient_index"))
    assert rows == {message.pk: customer_index(tenant=alpha.tenant.pk, wa_id=WA_ID), erased.pk: ""}
    assert outbound_recipient_indexes_rewrite(OutboundMessage) == 0


def test_the_compliance_migration_rewrites_preferences_and_drops_the_index_from_import_consent_keys(alpha, connected):
    phone = _phone(alpha, connected)
    contact = _contact(alpha)
    old_key = f"import:{'a' * 56}:{legacy_blind_index(E164, purpose=PHONE_INDEX_PURPOSE)}"
    with tenant_context(alpha.tenant):
        preference = user_preference_record(
            phone=phone,
            preference={"wa_id": WA_ID, "category": "marketing_messages", "value": "stop", "timestamp": "1700000000"},
        )
        UserPreferenceEvent.objects.filter(pk=preference.pk).update(
            customer_index=legacy_blind_index(WA_ID, purpose=CUSTOMER_INDEX_PURPOSE)
        )
        consent_record(contact=contact, kind="opt_in", source="import", evidence="CSV import", dedupe_key=old_key)

    assert preference_indexes_rewrite(UserPreferenceEvent, batch_size=1) == 1
    assert import_consent_keys_strip() == 1

    with tenant_context(alpha.tenant):
        assert UserPreferenceEvent.objects.get(pk=preference.pk).customer_index == customer_index(
            tenant=alpha.tenant.pk, wa_id=WA_ID
        )
        assert ConsentEvent.objects.get(contact=contact).dedupe_key == f"import:{'a' * 56}"
    assert import_consent_keys_strip() == 0


def test_the_migrations_rewrite_old_rows_through_their_historical_models(alpha, connected):
    from django.db.migrations.executor import MigrationExecutor

    contact = _contact(alpha)
    with tenant_context(alpha.tenant):
        message = dispatch.message_enqueue(
            phone=_phone(alpha, connected),
            to=WA_ID,
            content={"type": "text", "text": {"body": "Hello"}},
            category="SERVICE",
            origin="api",
        )
        Contact.objects.filter(pk=contact.pk).update(phone_index=legacy_blind_index(E164, purpose=PHONE_INDEX_PURPOSE))
        OutboundMessage.objects.filter(pk=message.pk).update(
            recipient_index=legacy_blind_index(WA_ID, purpose=CUSTOMER_INDEX_PURPOSE)
        )
    before = [
        ("contacts", "0001_initial"),
        ("whatsapp", "0006_phone_send_rate_limit"),
        ("inbox", "0003_conversation_contact"),
        ("compliance", "0004_consent_ledger_and_settings"),
    ]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    executor.loader.build_graph()
    with connection.cursor() as cursor:
        # The test's one transaction holds deferred trigger events (the message enqueued above), which
        # CREATE INDEX on that table refuses to run under; a real migrate has none pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    executor.migrate(executor.loader.graph.leaf_nodes())

    with tenant_context(alpha.tenant):
        assert Contact.objects.get(pk=contact.pk).phone_index == phone_index(E164, tenant=alpha.tenant.pk)
        assert OutboundMessage.objects.get(pk=message.pk).recipient_index == customer_index(
            tenant=alpha.tenant.pk, wa_id=WA_ID
        )
