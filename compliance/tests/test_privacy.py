"""GDPR / LGPD: a contact's erase and export, a workspace's erase, message-body retention — on real
Postgres (monthly partitions, RLS, the ledger trigger) with messages put in through the webhook pipeline."""

import json
from datetime import date, timedelta

import django_rq
import pytest
from django.db import connection
from django.utils import timezone
from rq import SimpleWorker

from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import platform_context, tenant_context
from aerostic.testsupport.webhooks import deliver_webhook
from compliance.consent import consent_record
from compliance.jobs import purge_expired_message_bodies
from compliance.models import ComplianceSettings, ConsentEvent, UserPreferenceEvent
from compliance.privacy import (
    TenantStillActive,
    contact_data_export,
    contact_erase,
    retention_purge,
    tenant_erase,
    tenant_rows_remaining,
    tenant_scoped_models,
)
from compliance.services import user_preference_record
from contacts.models import AttributeDefinition, Contact, ContactList, ContactListMember
from contacts.services import contact_create
from inbox.models import Conversation, Message
from inbox.partitions import message_partitions_ensure
from tenants.models import Tenant
from whatsapp.models import PhoneNumber, WebhookEvent
from whatsapp.personal_data import REDACTED_WEBHOOK_BODY

pytestmark = pytest.mark.django_db

NUMBER = "16505551234"
OTHER = "16505559999"
NAME = "Kerry Fisher"


def _envelope(phone, value: dict, field: str = "messages") -> dict:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": phone.display_phone_number, "phone_number_id": phone.phone_number_id},
        **value,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": phone.account.waba_id, "changes": [{"value": value, "field": field}]}],
    }


def _inbound(phone, sender: str, wamid: str, *, text: str = "", image: bool = False, days_ago: int = 0) -> None:
    ts = int((timezone.now() - timedelta(days=days_ago)).timestamp())
    message = {"from": sender, "id": wamid, "timestamp": str(ts), "type": "image" if image else "text"}
    if image:
        message["image"] = {"caption": text, "mime_type": "image/jpeg", "sha256": "abc", "id": f"media-{wamid}"}
    else:
        message["text"] = {"body": text}
    value = {"contacts": [{"profile": {"name": NAME}, "wa_id": sender}], "messages": [message]}
    assert deliver_webhook(_envelope(phone, value)).status == "processed"


def _phone(workspace, account):
    with tenant_context(workspace.tenant):
        return PhoneNumber.objects.select_related("account").get(account=account)


def _seed(workspace, account, *, prefix: str) -> Contact:
    """A contact with every kind of data an erase must reach, and a second customer it must not."""
    phone = _phone(workspace, account)
    with tenant_context(workspace.tenant):
        actor = workspace.admin.user
        AttributeDefinition.objects.create(key="plan", label="Plan")
        contact = contact_create(
            phone=f"+{NUMBER}", actor=actor, name=NAME, language="en_US", tags=["vip"], attributes={"plan": "gold"}
        )
    last_month = (timezone.now() - timedelta(days=40)).date()
    message_partitions_ensure(today=date(last_month.year, last_month.month, 1), months_ahead=2)
    _inbound(phone, NUMBER, f"wamid.{prefix}.old", text="My address is 1 Main St", days_ago=40)
    _inbound(phone, NUMBER, f"wamid.{prefix}.new", text="Here is my ID card", image=True)
    _inbound(phone, OTHER, f"wamid.{prefix}.other", text="Someone else entirely")
    with tenant_context(workspace.tenant):
        consent_record(contact=contact, kind="opt_in", source="agent", evidence=f"Said yes at +{NUMBER}", actor=actor)
        user_preference_record(
            phone=phone,
            preference={"wa_id": NUMBER, "category": "marketing_messages", "value": "stop", "timestamp": "1700000000"},
        )
        ContactListMember.objects.create(
            contact_list=ContactList.objects.create(name=f"{prefix} list"), contact=contact
        )
        ComplianceSettings.objects.get_or_create()
        # Billing reads pricing from the message rows: the erase must leave it.
        Message.objects.filter(wamid=f"wamid.{prefix}.new").update(
            pricing={"billable": True, "category": "service"}, pricing_category="service"
        )
    return contact


@pytest.fixture
def bravo_account(simulator, bravo):
    from whatsapp.connections.connect import sandbox_connect

    return sandbox_connect(tenant=bravo.tenant, actor=bravo.admin.user)


@pytest.fixture
def phone_of_alpha(connected, alpha):
    return _phone(alpha, connected)


@pytest.fixture
def contact(connected, alpha):
    return _seed(alpha, connected, prefix="alpha")


def _erase(contact, alpha):
    with tenant_context(alpha.tenant):
        return contact_erase(contact=contact, actor=alpha.admin.user)


def _rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _customer_messages(alpha) -> list[Message]:
    with tenant_context(alpha.tenant):
        return list(Message.objects.filter(wamid__in=["wamid.alpha.old", "wamid.alpha.new"]).order_by("created_at"))


# --- Contact erase.


def test_erase_clears_the_contact_and_leaves_a_tombstone(contact, alpha):
    _erase(contact, alpha)
    with tenant_context(alpha.tenant):
        row = _rows(
            "SELECT phone, phone_index, phone_hint, name, language, timezone, tags, attributes::text,"
            " erased_at IS NOT NULL FROM contacts_contact WHERE id = %s",
            [contact.pk],
        )
        erased = Contact.objects.get(pk=contact.pk)
    assert row == [("", "", "", "", "", "", [], "{}", True)]
    assert not erased.phone and erased.is_erased and str(erased) == f"contact {contact.pk}"
    assert not contact.phone and contact.name == ""  # the caller's instance holds nothing either


def test_erase_clears_message_bodies_and_media_in_every_partition(contact, alpha):
    _erase(contact, alpha)
    messages = _customer_messages(alpha)
    with tenant_context(alpha.tenant):
        partitions = _rows(
            "SELECT DISTINCT tableoid::regclass::text FROM inbox_message WHERE id = ANY(%s)", [[m.pk for m in messages]]
        )
    assert len(messages) == 2 and len(partitions) == 2
    for message in messages:
        assert message.body == ""
        assert set(message.payload) <= {"id", "timestamp", "type", "redacted"}
        assert NUMBER not in json.dumps(message.payload) and "media-" not in json.dumps(message.payload)
    assert [(m.type, m.direction, m.status) for m in messages] == [
        ("text", "in", "received"),
        ("image", "in", "received"),
    ]


def test_erase_keeps_billing_fields_and_the_consent_ledger(contact, alpha):
    _erase(contact, alpha)
    new = _customer_messages(alpha)[1]
    assert (new.pricing, new.pricing_category) == ({"billable": True, "category": "service"}, "service")
    with tenant_context(alpha.tenant):
        events = list(ConsentEvent.objects.filter(contact_id=contact.pk).values_list("kind", "source", "evidence"))
    assert events == [("opt_in", "agent", "")]


def test_the_ledger_is_append_only_again_after_the_erase(contact, alpha):
    from django.db import DatabaseError, transaction

    _erase(contact, alpha)
    with tenant_context(alpha.tenant), pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ConsentEvent.objects.filter(contact_id=contact.pk).update(evidence="rewritten")


def test_erase_clears_the_conversation_identity(contact, alpha):
    _erase(contact, alpha)
    with tenant_context(alpha.tenant):
        conversation = Conversation.objects.get(messages__wamid="wamid.alpha.old")
        raw = _rows("SELECT customer_wa_id, customer_name FROM inbox_conversation WHERE id = %s", [conversation.pk])
    assert raw == [("", "")]
    assert conversation.customer_index.startswith("erased:") and not conversation.customer_user_id


def test_erase_removes_preferences_memberships_and_raw_webhook_bodies(contact, alpha):
    _erase(contact, alpha)
    with tenant_context(alpha.tenant):
        assert not UserPreferenceEvent.objects.exists()
        assert not ContactListMember.objects.exists()
        bodies = [
            (body.reveal(), status)
            for body, status in WebhookEvent.objects.order_by("id").values_list("body", "status")
        ]
    assert bodies[0] == bodies[1] == (REDACTED_WEBHOOK_BODY, "processed")
    assert OTHER in bodies[2][0]  # the other customer's event is theirs, untouched
    assert all(NUMBER not in body for body, _ in bodies)


def test_erase_finds_the_number_in_encrypted_bodies_wherever_it_stands(contact, alpha, phone_of_alpha):
    """A status naming the number as recipient, and a changed-number notice naming it in its text."""
    status = {"id": "wamid.alpha.status", "status": "sent", "timestamp": "1700000000", "recipient_id": NUMBER}
    deliver_webhook(_envelope(phone_of_alpha, {"statuses": [status]}))
    notice = {"body": f"User changed from {NUMBER} to {OTHER}1", "wa_id": f"{OTHER}1", "type": "user_changed_number"}
    message = {"from": f"{OTHER}1", "id": "wamid.alpha.sys", "timestamp": "1700000000", "type": "system"}
    deliver_webhook(_envelope(phone_of_alpha, {"messages": [{**message, "system": notice}]}))
    unrelated = {**status, "id": "wamid.alpha.status2", "recipient_id": f"{NUMBER}0"}  # a longer number
    deliver_webhook(_envelope(phone_of_alpha, {"statuses": [unrelated]}))

    _erase(contact, alpha)

    with tenant_context(alpha.tenant):
        bodies = [body.reveal() for body in WebhookEvent.objects.order_by("id").values_list("body", flat=True)]
    assert bodies[3] == bodies[4] == REDACTED_WEBHOOK_BODY
    assert f"{NUMBER}0" in bodies[5]
    assert sum(body == REDACTED_WEBHOOK_BODY for body in bodies) == 4


def test_erase_leaves_other_customers_alone(contact, alpha):
    _erase(contact, alpha)
    with tenant_context(alpha.tenant):
        other = Message.objects.get(wamid="wamid.alpha.other")
        conversation = Conversation.objects.get(pk=other.conversation_id)
    assert other.body == "Someone else entirely"
    assert conversation.customer_wa_id.reveal() == OTHER and conversation.customer_name == NAME


def test_erase_is_audited_without_personal_data_and_scrubs_earlier_trails(contact, alpha):
    from auditlog.models import LogEntry

    _erase(contact, alpha)
    with tenant_context(alpha.tenant):
        event = AuditEvent.objects.get(action="contact.erase")
        reprs = list(AuditEvent.objects.filter(target_id=str(contact.pk)).values_list("target_repr", flat=True))
    assert event.actor == alpha.admin.user and event.metadata["messages"] == 2
    assert event.metadata["webhook_events"] == 2 and event.metadata["conversations"] == 1
    assert NUMBER not in json.dumps(event.metadata)
    assert set(reprs) == {f"contact {contact.pk}"}
    trail = json.dumps(list(LogEntry.objects.filter(object_id=contact.pk).values("changes", "object_repr")))
    assert NAME not in trail and "gold" not in trail


def test_erasing_twice_changes_nothing(contact, alpha):
    first = _erase(contact, alpha)
    second = _erase(contact, alpha)
    assert second.erased_at == first.erased_at
    with tenant_context(alpha.tenant):
        assert AuditEvent.objects.filter(action="contact.erase").count() == 1


def test_a_new_message_after_the_erase_starts_afresh(contact, alpha, connected):
    _erase(contact, alpha)
    _inbound(_phone(alpha, connected), NUMBER, "wamid.alpha.again", text="Hi again")
    with tenant_context(alpha.tenant):
        again = Message.objects.get(wamid="wamid.alpha.again")
        assert again.conversation.customer_wa_id.reveal() == NUMBER
        assert Conversation.objects.count() == 3  # erased, other customer, and this new one


# --- Contact export.


def test_export_holds_the_contact_consent_lists_and_messages(contact, alpha):
    with tenant_context(alpha.tenant):
        data = contact_data_export(contact=contact, include_phone=True, actor=alpha.admin.user)
        audited = AuditEvent.objects.get(action="contact.export")
    assert json.loads(json.dumps(data)) == data
    assert data["contact"]["phone"] == f"+{NUMBER}" and data["contact"]["name"] == NAME
    assert data["contact"]["tags"] == ["vip"] and data["contact"]["attributes"] == {"plan": "gold"}
    assert [e["evidence"] for e in data["consent_history"]] == [f"Said yes at +{NUMBER}"]
    assert data["lists"] == ["alpha list"] and data["whatsapp_preferences"][0]["value"] == "stop"
    (conversation,) = data["conversations"]
    assert [(m["type"], m["direction"], m["body"]) for m in conversation["messages"]] == [
        ("text", "in", "My address is 1 Main St"),
        ("image", "in", ""),
    ]
    assert audited.metadata == {"conversations": 1, "messages": 2, "full_number": True}


def test_export_after_erase_holds_only_the_tombstone(contact, alpha):
    _erase(contact, alpha)
    with tenant_context(alpha.tenant):
        data = contact_data_export(contact=Contact.objects.get(pk=contact.pk), actor=alpha.admin.user)
    assert data["contact"]["phone"] == "" and data["contact"]["name"] == ""
    assert NUMBER not in json.dumps(data) and "Main St" not in json.dumps(data)


# --- Workspace erase.


def _counts(tenant_id: int) -> dict[str, int]:
    return tenant_rows_remaining(tenant_id)


@pytest.fixture
def two_workspaces(contact, alpha, bravo, bravo_account):
    _seed(bravo, bravo_account, prefix="bravo")
    return alpha, bravo


def test_an_active_workspace_is_not_erased(two_workspaces):
    alpha, _ = two_workspaces
    with pytest.raises(TenantStillActive):
        tenant_erase(tenant_id=alpha.tenant.pk)
    assert Tenant.objects.filter(pk=alpha.tenant.pk).exists()


def test_workspace_erase_leaves_no_row_and_the_other_workspace_untouched(two_workspaces):
    alpha, bravo = two_workspaces
    alpha_id = alpha.tenant.pk
    before = _counts(alpha_id)
    bravo_before = _counts(bravo.tenant.pk)
    populated = {
        "contacts_contact",
        "compliance_consentevent",
        "inbox_message",
        "inbox_conversation",
        "whatsapp_webhookevent",
        "whatsapp_accesstoken",
        "tenants_membership",
        "core_auditevent",
    }
    assert all(before[table] for table in populated), before

    Tenant.objects.filter(pk=alpha_id).update(status=Tenant.Status.CLOSED)
    result = tenant_erase(tenant_id=alpha_id, actor_id=None)

    assert set(_counts(alpha_id).values()) == {0}
    assert result["erased"] and set(result["remaining"].values()) == {0}
    assert result["deleted"]["inbox_message"] == before["inbox_message"] == 3
    assert not Tenant.objects.filter(pk=alpha_id).exists()
    assert _counts(bravo.tenant.pk) == bravo_before
    with tenant_context(bravo.tenant):
        assert ConsentEvent.objects.get().evidence == f"Said yes at +{NUMBER}"
    with platform_context("test: the platform trail"):
        trail = list(
            AuditEvent.all_tenants.filter(target_type="tenants.tenant", target_id=str(alpha_id)).values_list(
                "action", "tenant_id"
            )
        )
        completed = AuditEvent.all_tenants.get(action="tenant.erase_completed")
    assert trail == [("tenant.erase_completed", None), ("tenant.erase_started", None)]
    assert completed.metadata["tenant_name"] == "Alpha" and completed.metadata["deleted"]["contacts_contact"] == 2


def test_every_tenant_table_is_covered():
    tables = {model._meta.db_table for model in tenant_scoped_models()}
    assert {"compliance_consentevent", "inbox_message", "whatsapp_webhookevent", "contacts_contact"} <= tables
    order = [model._meta.db_table for model in tenant_scoped_models()]
    assert order.index("compliance_consentevent") < order.index("contacts_contact")
    assert order.index("contacts_contactlistmember") < order.index("contacts_contactlist")


def test_admin_action_confirms_closes_and_queues_the_erase(alpha, django_capture_on_commit_callbacks):
    from django.test import Client

    from accounts.models import User

    staff = User.objects.create_superuser(email="ops@platform.test", password="a-long-passphrase-1")
    client = Client()
    client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    form = {"action": "erase_workspace_data", "_selected_action": [alpha.tenant.pk]}

    page = client.post("/admin/tenants/tenant/", form)
    assert page.status_code == 200 and b"Yes, erase" in page.content
    assert Tenant.objects.get(pk=alpha.tenant.pk).is_active  # asking changes nothing

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/tenants/tenant/", {**form, "confirm": "yes"})
    assert response.status_code == 302
    tenant = Tenant.objects.get(pk=alpha.tenant.pk)
    assert tenant.status == Tenant.Status.CLOSED and not tenant.sending_enabled
    with platform_context("test"):
        assert AuditEvent.all_tenants.get(action="tenant.erase_requested").actor == staff

    queue = django_rq.get_queue("low")
    job = queue.jobs[0]
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    job.refresh()
    assert job.is_finished, job.latest_result().exc_string if job.latest_result() else job.get_status()
    assert not Tenant.objects.filter(pk=alpha.tenant.pk).exists()
    assert set(_counts(alpha.tenant.pk).values()) == {0}


# --- Retention.


def _bodies(workspace) -> dict[str, str]:
    with tenant_context(workspace.tenant):
        return dict(Message.objects.values_list("wamid", "body"))


def test_retention_clears_only_old_bodies_of_workspaces_that_set_it(two_workspaces):
    alpha, bravo = two_workspaces
    with tenant_context(alpha.tenant):
        ComplianceSettings.objects.update(message_retention_days=30)

    assert purge_expired_message_bodies() == 1

    assert _bodies(alpha) == {
        "wamid.alpha.old": "",
        "wamid.alpha.new": "",
        "wamid.alpha.other": "Someone else entirely",
    }
    assert _bodies(bravo)["wamid.bravo.old"] == "My address is 1 Main St"  # no retention set: kept
    with tenant_context(alpha.tenant):
        old = Message.objects.get(wamid="wamid.alpha.old")
        new = Message.objects.get(wamid="wamid.alpha.new")
    assert old.payload["redacted"] == "retention" and "text" not in old.payload
    assert new.payload["image"]["id"] == "media-wamid.alpha.new"  # recent: untouched
    assert retention_purge(tenant_id=alpha.tenant.pk) == 0  # nothing left to clear


def test_retention_without_a_setting_does_nothing(contact, alpha):
    assert retention_purge(tenant_id=alpha.tenant.pk, now=timezone.now() + timedelta(days=3650)) == 0
    assert _bodies(alpha)["wamid.alpha.old"] == "My address is 1 Main St"


def test_time_is_what_decides(contact, alpha):
    with tenant_context(alpha.tenant):
        ComplianceSettings.objects.update(message_retention_days=30)
    assert retention_purge(tenant_id=alpha.tenant.pk, now=timezone.now() + timedelta(days=31)) == 3
    assert set(_bodies(alpha).values()) == {""}


# --- Outbound messages (whatsapp) and campaign recipients: the apps above compliance register
# their own erase / expiry (compliance.privacy.register_personal_data).

INVOICE_LINK = "https://files.example/kerry-fisher-invoice.pdf"


def _outbound(workspace, phone, to: str, *, contact=None, state: str = "sent", days_ago: int = 0):
    """An outbound template message to `to`, with the person's values in it, in the given state."""
    from whatsapp import dispatch
    from whatsapp.models import OutboundMessage

    content = {
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "en_US"},
            "components": [
                {"type": "header", "parameters": [{"type": "document", "document": {"link": INVOICE_LINK}}]},
                {"type": "body", "parameters": [{"type": "text", "text": f"{NAME}, 1 Main St"}]},
            ],
        },
    }
    with tenant_context(workspace.tenant):
        message = dispatch.message_enqueue(
            phone=phone, to=to, content=content, category="UTILITY", origin="api", contact=contact
        )
        OutboundMessage.objects.filter(pk=message.pk).update(
            state=state,
            wamid=f"wamid.out.{message.pk}" if state != "queued" else "",
            sent_at=timezone.now() if state != "queued" else None,
            created_at=timezone.now() - timedelta(days=days_ago),
        )
        return OutboundMessage.objects.get(pk=message.pk)


def _outbound_text(workspace) -> str:
    """Everything the outbound table holds for the workspace, as the database stores it."""
    with tenant_context(workspace.tenant):
        rows = _rows(
            "SELECT recipient, recipient_index, content::text, error_title, error_detail, hold_reason"
            " FROM whatsapp_outboundmessage WHERE tenant_id = %s",
            [workspace.tenant.pk],
        )
    return json.dumps(rows)


def test_erase_blanks_the_persons_outbound_messages_and_keeps_their_state(contact, alpha, connected):
    from whatsapp.models import OutboundMessage
    from whatsapp.sending.failures import EXPLANATIONS

    phone = _phone(alpha, connected)
    linked = _outbound(alpha, phone, NUMBER, contact=contact)
    unlinked = _outbound(alpha, phone, f"+{NUMBER}", state="failed")  # by number only, no contact link
    waiting = _outbound(alpha, phone, NUMBER, contact=contact, state="queued")
    other = _outbound(alpha, phone, OTHER)
    with tenant_context(alpha.tenant):
        # Meta's own words about a failure can quote what was sent (a media link here).
        OutboundMessage.objects.filter(pk=unlinked.pk).update(
            error_code=131053,
            error_title=f"Media upload error: {INVOICE_LINK}",
            error_detail=f"Media upload error ({INVOICE_LINK}) [Meta error 131053]",
        )
    before = _outbound_text(alpha)
    assert INVOICE_LINK in before and NAME in before

    _erase(contact, alpha)

    with tenant_context(alpha.tenant):
        rows = {row.pk: row for row in OutboundMessage.objects.all()}
    for erased in (linked, unlinked, waiting):
        row = rows[erased.pk]
        assert not row.recipient and row.recipient_index == "" and row.content == {}
        assert row.error_title == "" and row.hold_reason == ""
        assert (row.category, row.origin, row.created_at) == ("UTILITY", "api", erased.created_at)
    assert (rows[linked.pk].state, rows[linked.pk].wamid, rows[linked.pk].sent_at) == (
        "sent",
        linked.wamid,
        linked.sent_at,
    )
    assert (rows[unlinked.pk].state, rows[unlinked.pk].error_code) == ("failed", 131053)
    assert rows[unlinked.pk].error_detail == EXPLANATIONS[131053]  # ours, not Meta's quote
    assert rows[waiting.pk].state == "skipped"  # no number left: it can never go
    assert rows[other.pk].recipient.reveal() == OTHER and rows[other.pk].content == other.content
    after = _outbound_text(alpha)
    # Only the other customer's message still has them.
    assert after.count(INVOICE_LINK) == 1 and after.count("1 Main St") == 1
    with tenant_context(alpha.tenant):
        event = AuditEvent.objects.get(action="contact.erase")
    assert event.metadata["outbound_messages"] == 3


def test_erase_replaces_metas_failure_text_on_the_persons_campaign_recipients(contact, alpha, connected, simulator):
    from campaigns.models import CampaignMessage
    from campaigns.tests.support import approved_template, draft, launch
    from whatsapp.sending.failures import EXPLANATIONS

    phone = _phone(alpha, connected)
    template = approved_template(simulator, alpha, connected)
    with tenant_context(alpha.tenant):
        audience_list = ContactList.objects.create(name="Campaign audience")
        ContactListMember.objects.create(contact_list=audience_list, contact=contact)
        consent_record(contact=contact, kind="opt_in", source="agent", evidence="yes", actor=alpha.admin.user)
    mapping = {"body": {"1": {"source": "field", "value": "first_name"}, "2": {"source": "constant", "value": "A-1"}}}
    campaign = launch(alpha, draft(alpha, phone, template, audience_list, mapping=mapping))
    with tenant_context(alpha.tenant):
        recipient = CampaignMessage.objects.get(campaign=campaign, contact=contact)
        CampaignMessage.objects.filter(pk=recipient.pk).update(
            state="failed", error_code=131053, error_detail=f"Media upload error ({INVOICE_LINK}) [Meta error 131053]"
        )

    _erase(contact, alpha)

    with tenant_context(alpha.tenant):
        recipient = CampaignMessage.objects.get(pk=recipient.pk)
    assert (recipient.state, recipient.error_code) == ("failed", 131053)
    assert recipient.error_detail == EXPLANATIONS[131053]


def test_retention_clears_old_outbound_content_but_not_what_is_still_to_be_sent(contact, alpha, connected):
    from whatsapp.models import OutboundMessage

    phone = _phone(alpha, connected)
    old = _outbound(alpha, phone, NUMBER, contact=contact, days_ago=40)
    old_waiting = _outbound(alpha, phone, NUMBER, contact=contact, state="queued", days_ago=40)
    recent = _outbound(alpha, phone, OTHER, days_ago=2)
    with tenant_context(alpha.tenant):
        ComplianceSettings.objects.update(message_retention_days=30)

    purge_expired_message_bodies()

    with tenant_context(alpha.tenant):
        rows = {row.pk: row for row in OutboundMessage.objects.all()}
    assert rows[old.pk].content == {} and rows[old.pk].state == "sent"
    assert rows[old.pk].recipient.reveal() == NUMBER  # retention is about content; erase takes the number
    assert rows[old_waiting.pk].content == old_waiting.content  # the dispatcher still needs it
    assert rows[recent.pk].content == recent.content
