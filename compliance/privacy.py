"""GDPR / LGPD: erase or export one contact's data, erase a whole workspace, clear old message bodies.

What an erase keeps on purpose: a tombstone Contact row (`erased_at`), the consent ledger's rows
(kind, source, times; their free-text evidence is cleared), and every message row with its type,
direction, status, timestamps and pricing, so billing totals and delivery statistics still add up.
Everything that names, reaches or quotes the person goes.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction
from django.db.models import Q, Value
from django.utils import timezone

from aerostic.core import audit, crypto
from aerostic.core.errors import Conflict
from aerostic.core.models import AuditEvent
from aerostic.core.values import digits
from compliance.models import ComplianceSettings, ConsentEvent, UserPreferenceEvent
from contacts.models import Contact, ContactListMember
from inbox.models import Conversation, Message, MessageStatusEvent
from inbox.services import customer_index
from tenants.context import platform_context, tenant_context
from tenants.models import Tenant, TenantScopedModel
from whatsapp.models import WebhookEvent

# What a redacted raw webhook body becomes (encrypted like any body): still valid JSON, naming nobody.
REDACTED_WEBHOOK_BODY = json.dumps({"redacted": "contact erased"})
# An erased conversation's customer_index: unique (the one-conversation-per-customer rule still
# holds), not derived from anything, so it links to no one.
ERASED_INDEX_PREFIX = "erased:"
# A column really empty, not an encrypted empty string: EncryptedTextField would seal "" into a
# ciphertext (a truthy SealedValue); Value("") is written as is and reads back as a falsy one.
_EMPTY = Value("")
ERASE_JOB_TIMEOUT = 60 * 60


class TenantStillActive(Conflict):
    """A workspace is erased only once it is closed (or when the caller forces it)."""


class TenantEraseIncomplete(RuntimeError):
    """Rows of the workspace were still there after the deletes: the erase was rolled back."""


# --- Copies kept by the apps above this one (DESIGN.md §1: the higher layer registers a handler).


@dataclass(frozen=True)
class ErasedPerson:
    """Whom a contact erase is about, as the other apps' handlers find their rows."""

    tenant_id: int
    contact_id: int
    wa_id: str  # digits; "" when the contact had no number left
    customer_index: str  # the workspace's blind index of wa_id (conversations, outbound messages); "" when none


@dataclass(frozen=True)
class PersonalDataHandler:
    erase: Callable[..., int]  # erase(*, person: ErasedPerson) -> rows changed
    expire: Callable[..., int] | None  # expire(*, tenant_id: int, before: datetime) -> rows changed


_PERSONAL_DATA: dict[str, PersonalDataHandler] = {}


def register_personal_data(name: str, *, erase: Callable[..., int], expire: Callable[..., int] | None = None) -> None:
    """Called from the AppConfig.ready() of an app that keeps its own copy of what a person wrote or
    was sent (whatsapp's outbound messages, campaigns' recipients). `erase` runs inside
    `contact_erase`'s transaction, `expire` inside `retention_purge`'s (tenant context set); each
    returns how many rows it changed, recorded under `name` in the erase's audit event."""
    _PERSONAL_DATA[name] = PersonalDataHandler(erase=erase, expire=expire)


# --- Messages: bodies and media references go, the billing-relevant columns stay.

# The payload keeps Meta's id, time and type; text, captions, media ids, contact cards (sealed),
# locations and replies all go. `redacted` marks the row so a second pass skips it.
_REDACT_MESSAGES_SQL = (
    "UPDATE inbox_message SET body = '', sealed_payload = NULL, payload = jsonb_strip_nulls(jsonb_build_object("
    "'id', payload->'id', 'timestamp', payload->'timestamp', 'type', payload->'type', 'redacted', %s::text))"
    " WHERE tenant_id = %s AND payload->>'redacted' IS NULL AND {condition}"
)


def _redact_messages(*, tenant_id: int, reason: str, condition: str, params: list[Any]) -> int:
    """Clears body and payload of the tenant's messages matching `condition` (every partition: the
    UPDATE goes through the parent table). Returns how many rows changed."""
    with connection.cursor() as cursor:
        cursor.execute(_REDACT_MESSAGES_SQL.format(condition=condition), [reason, tenant_id, *params])
        return cursor.rowcount


@contextmanager
def _erasing() -> Iterator[None]:
    """Lets this transaction change or delete consent ledger rows (the trigger checks the setting)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.erasing', 'on', true)")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('app.erasing', '', true)")


def _contact_customer_index(contact: Contact) -> str:
    """The inbox's key for this contact's WhatsApp id ("" once the number is gone)."""
    number = digits(contact.phone.reveal()) if contact.phone else ""
    return customer_index(tenant=contact.tenant_id, wa_id=number) if number else ""


def _conversations_of(contact: Contact, index: str) -> models.QuerySet[Conversation]:
    """Linked by the contact FK, or (conversations older than the link) by the customer index."""
    match = Q(contact=contact)
    if index:
        match |= Q(customer_index=index)
    return Conversation.objects.filter(match)


def _redact_auditlog_of_contact(contact: Contact) -> int:
    """django-auditlog kept the contact's earlier names, tags and attributes in its change diffs."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Contact), object_id=contact.pk
    ).update(changes={}, changes_text="", serialized_data=None, object_repr=f"contact {contact.pk}")


def _webhook_events_naming(number: str) -> list[int]:
    """Ids of this workspace's raw webhook events that name the number. Bodies are encrypted, so
    no query can search them: each is decrypted, a batch at a time. A bounded scan all the same
    (one workspace's events, kept WEBHOOK_RETENTION_DAYS), and erasures are rare: correctness
    over speed. The number counts wherever it stands alone between non-digits: quoted in `from`,
    `wa_id` or `recipient_id`, and inside text such as a changed-number notice."""
    pattern = re.compile(rf"(?<![0-9]){re.escape(number)}(?![0-9])")
    found: list[int] = []
    last_id = 0
    while True:
        batch = list(WebhookEvent.objects.filter(pk__gt=last_id).order_by("pk").only("pk", "body")[:500])
        if not batch:
            return found
        for event in batch:
            try:
                text = event.body.reveal()
            except crypto.DecryptionError:
                continue  # no key opens it: nobody can read it either, and it ages out
            if pattern.search(text):
                found.append(event.pk)
        last_id = batch[-1].pk


# --- One contact.


@transaction.atomic
def contact_erase(*, contact: Contact, actor: Any, request: Any = None) -> Contact:
    """Erases everything that identifies the contact, in one transaction; a no-op when already erased.

    The apps above this one clear their own copies through the handlers they registered with
    `register_personal_data` (outbound messages' recipient and content, Meta's error texts on
    campaign recipients).

    Cleared: the contact's number, name, language, time zone, tags and attributes (a tombstone row
    stays); message bodies and payloads of their conversations in every monthly partition; the
    conversations' WhatsApp id, name and index; status events' recipient index; their WhatsApp
    marketing-preference events; list memberships; consent evidence text; contact names in our
    audit trail and in django-auditlog's diffs; and this workspace's raw webhook bodies naming
    their number. Raw webhook bodies age out anyway (whatsapp.jobs.purge_webhook_events, after
    WEBHOOK_RETENTION_DAYS); the ones not yet routed to a workspace are left to that job.
    """
    locked = Contact.objects.select_for_update().get(pk=contact.pk)
    if locked.is_erased:
        contact.refresh_from_db()
        return locked
    tenant_id = locked.tenant_id
    number = digits(locked.phone.reveal()) if locked.phone else ""
    index = customer_index(tenant=tenant_id, wa_id=number) if number else ""

    conversation_ids = list(_conversations_of(locked, index).values_list("pk", flat=True))
    messages = 0
    if conversation_ids:
        messages = _redact_messages(
            tenant_id=tenant_id, reason="erased", condition="conversation_id = ANY(%s)", params=[conversation_ids]
        )
    for conversation_id in conversation_ids:
        Conversation.objects.filter(pk=conversation_id).update(
            customer_wa_id=_EMPTY,
            customer_index=f"{ERASED_INDEX_PREFIX}{uuid.uuid4().hex}",
            customer_user_id="",
            customer_name="",
        )
    status_events = MessageStatusEvent.objects.filter(recipient_index=index).update(recipient_index="") if index else 0
    preferences = UserPreferenceEvent.objects.filter(customer_index=index).delete()[0] if index else 0
    memberships = ContactListMember.objects.filter(contact=locked).delete()[0]
    with _erasing():
        consent_events = ConsentEvent.objects.filter(contact=locked).exclude(evidence="").update(evidence="")
    naming = _webhook_events_naming(number) if number else []
    webhook_events = WebhookEvent.objects.filter(pk__in=naming).update(body=REDACTED_WEBHOOK_BODY) if naming else 0
    AuditEvent.objects.filter(target_type=Contact._meta.label_lower, target_id=str(locked.pk)).update(
        target_repr=f"contact {locked.pk}"
    )
    _redact_auditlog_of_contact(locked)
    person = ErasedPerson(tenant_id=tenant_id, contact_id=locked.pk, wa_id=number, customer_index=index)
    elsewhere = {name: handler.erase(person=person) for name, handler in _PERSONAL_DATA.items()}

    now = timezone.now()
    # A queryset update, not save(): django-auditlog would otherwise write the old values into a diff.
    Contact.objects.filter(pk=locked.pk).update(
        phone=_EMPTY,
        phone_index="",
        phone_hint="",
        name="",
        language="",
        timezone="",
        tags=[],
        attributes={},
        erased_at=now,
        updated_at=now,
    )
    locked.refresh_from_db()
    contact.refresh_from_db()
    audit.record(
        "contact.erase",
        actor=actor,
        tenant=tenant_id,
        target=locked,
        request=request,
        metadata={
            "conversations": len(conversation_ids),
            "messages": messages,
            "status_events": status_events,
            "preference_events": preferences,
            "list_memberships": memberships,
            "consent_events": consent_events,
            "webhook_events": webhook_events,
            **elsewhere,
        },
    )
    return locked


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@transaction.atomic
def contact_data_export(
    contact: Contact, *, include_phone: bool = False, actor: Any = None, request: Any = None
) -> dict[str, Any]:
    """Everything kept about one contact, as JSON-ready data (a subject access request); audited.
    The full number only with `include_phone` (the caller holds "See full phone numbers"); otherwise
    the masked hint, as everywhere else."""
    index = _contact_customer_index(contact)
    conversations = list(_conversations_of(contact, index).select_related("phone_number").order_by("created_at"))
    messages_by_conversation: dict[int, list[dict[str, Any]]] = {c.pk: [] for c in conversations}
    messages = Message.objects.filter(conversation_id__in=list(messages_by_conversation)).order_by("created_at", "id")
    for message in messages:
        messages_by_conversation[message.conversation_id].append(
            {
                "direction": message.direction,
                "type": message.type,
                "body": message.body,
                "status": message.status,
                "created_at": _iso(message.created_at),
                "sent_at": _iso(message.sent_at),
                "delivered_at": _iso(message.delivered_at),
                "read_at": _iso(message.read_at),
                "failed_at": _iso(message.failed_at),
            }
        )
    data = {
        "exported_at": _iso(timezone.now()),
        "contact": {
            "id": contact.pk,
            "phone": (contact.phone.reveal() if include_phone else contact.phone_hint) if contact.phone else "",
            "name": contact.name,
            "country": contact.country,
            "language": contact.language,
            "timezone": contact.timezone,
            "tags": list(contact.tags),
            "attributes": dict(contact.attributes),
            "source": contact.source,
            "consent_state": contact.consent_state,
            "consent_changed_at": _iso(contact.consent_changed_at),
            "last_inbound_at": _iso(contact.last_inbound_at),
            "created_at": _iso(contact.created_at),
            "erased_at": _iso(contact.erased_at),
        },
        "consent_history": [
            {
                "kind": event.kind,
                "source": event.source,
                "channel": event.channel,
                "evidence": event.evidence,
                "occurred_at": _iso(event.occurred_at),
                "recorded_at": _iso(event.recorded_at),
            }
            for event in ConsentEvent.objects.filter(contact=contact).order_by("occurred_at", "id")
        ],
        "whatsapp_preferences": [
            {"category": event.category, "value": event.value, "occurred_at": _iso(event.occurred_at)}
            for event in (
                UserPreferenceEvent.objects.filter(customer_index=index).order_by("occurred_at") if index else []
            )
        ],
        "lists": sorted(ContactListMember.objects.filter(contact=contact).values_list("contact_list__name", flat=True)),
        "conversations": [
            {
                "business_number": conversation.phone_number.display_phone_number,
                "status": conversation.status,
                "created_at": _iso(conversation.created_at),
                "last_message_at": _iso(conversation.last_message_at),
                "messages": messages_by_conversation[conversation.pk],
            }
            for conversation in conversations
        ],
    }
    audit.record(
        "contact.export",
        actor=actor,
        tenant=contact.tenant_id,
        target=contact,
        request=request,
        metadata={
            "conversations": len(conversations),
            "messages": sum(map(len, messages_by_conversation.values())),
            "full_number": include_phone,
        },
    )
    return data


# --- A whole workspace.


def tenant_scoped_models() -> list[type[TenantScopedModel]]:
    """Every concrete tenant-owned model, children before the models they point to, so each
    DELETE finds nothing left referring to its rows (FK checks are deferred anyway, PROTECT is
    Django's, not the database's: this order is for readability and for future strict FKs)."""
    remaining = [
        model
        for model in apps.get_models()
        if issubclass(model, TenantScopedModel) and not model._meta.abstract and not model._meta.proxy
    ]
    ordered: list[type[TenantScopedModel]] = []
    while remaining:
        referenced = {
            field.related_model
            for model in remaining
            for field in model._meta.concrete_fields
            if field.is_relation and field.related_model is not model and field.name != "tenant"
        }
        leaves = [model for model in remaining if model not in referenced] or remaining[:1]  # a cycle: any
        ordered.extend(leaves)
        remaining = [model for model in remaining if model not in leaves]
    return ordered


def _delete_auditlog_entries(model: type[models.Model], tenant_id: int) -> int:
    """django-auditlog's diffs of this workspace's rows (names, e-mail addresses) go with the rows."""
    from auditlog.models import LogEntry
    from auditlog.registry import auditlog
    from django.contrib.contenttypes.models import ContentType

    if not auditlog.contains(model):
        return 0
    pks = model.all_tenants.filter(tenant_id=tenant_id).values("pk")  # type: ignore[attr-defined]
    return LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model), object_id__in=pks).delete()[0]


def _delete_tenant_rows(tenant_id: int) -> tuple[dict[str, int], int]:
    """Raw DELETEs (no signals: auditlog would write each deleted contact's name into a new diff)."""
    deleted: dict[str, int] = {}
    log_entries = 0
    with connection.cursor() as cursor, _erasing():
        for model in tenant_scoped_models():
            table = model._meta.db_table
            log_entries += _delete_auditlog_entries(model, tenant_id)
            for m2m in model._meta.local_many_to_many:
                through = m2m.remote_field.through
                if through._meta.auto_created:
                    column = m2m.m2m_column_name()
                    cursor.execute(
                        f'DELETE FROM "{through._meta.db_table}" WHERE "{column}" IN '  # noqa: S608  (our tables)
                        f'(SELECT id FROM "{table}" WHERE tenant_id = %s)',
                        [tenant_id],
                    )
            # inbox_message is partitioned: deleting through the parent reaches every partition.
            cursor.execute(f'DELETE FROM "{table}" WHERE tenant_id = %s', [tenant_id])  # noqa: S608
            deleted[table] = cursor.rowcount
    return deleted, log_entries


def tenant_rows_remaining(tenant_id: int) -> dict[str, int]:
    """Rows per tenant table, counted in the platform scope so RLS cannot hide a leftover."""
    counts: dict[str, int] = {}
    with platform_context("gdpr: verify a workspace erase"), connection.cursor() as cursor:
        for model in tenant_scoped_models():
            table = model._meta.db_table
            cursor.execute(f'SELECT count(*) FROM "{table}" WHERE tenant_id = %s', [tenant_id])  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def tenant_erase(*, tenant_id: int, actor_id: int | None = None, force: bool = False) -> dict[str, Any]:
    """Deletes every row of every tenant table of the workspace, then the workspace itself.

    Refuses an active workspace unless `force`: the erase request (Django admin) closes it and
    stops its sending first, so members and webhooks stop adding data before the job runs. The
    deletes run in the tenant's own scope (RLS makes touching another workspace impossible), in one
    transaction holding the Tenant row FOR UPDATE: a concurrent insert referencing the workspace
    waits, then fails, instead of leaving a row behind. Zero rows must remain in every tenant table
    (counted in the platform scope) or everything rolls back. Tenant.Status has no "erased", so the
    Tenant row is deleted; platform-wide audit events (`tenant.erase_started` / `_completed`) keep
    its id and name. User accounts are platform-wide and stay (a person may belong elsewhere).
    """
    from accounts.models import User

    with platform_context("gdpr: workspace erase"):
        tenant = Tenant.objects.filter(pk=tenant_id).first()
        if tenant is None:
            return {"tenant_id": tenant_id, "erased": False, "reason": "no such workspace"}
        if tenant.is_active and not force:
            raise TenantStillActive(f"Workspace {tenant_id} is active: close it before erasing it.")
        actor = User.objects.filter(pk=actor_id).first() if actor_id else None
        identity = {"tenant_id": tenant.pk, "tenant_name": tenant.name}
        # Its own transaction: a failed erase still leaves the attempt in the trail.
        audit.record("tenant.erase_started", actor=actor, target=tenant, metadata={**identity, "forced": force})

    with transaction.atomic():
        with platform_context("gdpr: workspace erase"):
            Tenant.objects.select_for_update().get(pk=tenant_id)
        with tenant_context(tenant_id):
            deleted, log_entries = _delete_tenant_rows(tenant_id)
        remaining = tenant_rows_remaining(tenant_id)
        if any(remaining.values()):
            left = {table: count for table, count in remaining.items() if count}
            raise TenantEraseIncomplete(f"Workspace {tenant_id} still has rows in {left}; nothing was erased.")
        with platform_context("gdpr: workspace erase"):
            Tenant.objects.filter(pk=tenant_id).delete()
            audit.record(
                "tenant.erase_completed",
                actor=actor,
                target=tenant,
                metadata={**identity, "deleted": deleted, "remaining": remaining, "auditlog_entries": log_entries},
            )
    return {**identity, "erased": True, "deleted": deleted, "remaining": remaining}


@transaction.atomic
def tenant_erase_request(*, tenant: Tenant, actor: Any, request: Any = None) -> None:
    """Closes the workspace, stops its sending and queues `compliance.jobs.erase_tenant` after commit."""
    from aerostic import queues
    from aerostic.core.jobs import enqueue_on_commit
    from compliance.jobs import erase_tenant

    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    locked.status = Tenant.Status.CLOSED
    locked.sending_enabled = False
    locked.sending_disabled_reason = "Workspace erase requested"
    locked.save(update_fields=["status", "sending_enabled", "sending_disabled_reason", "updated_at"])
    audit.record(
        "tenant.erase_requested",
        actor=actor,
        target=locked,
        request=request,
        metadata={"tenant_id": locked.pk, "tenant_name": locked.name},
    )
    enqueue_on_commit(
        erase_tenant,
        queue=queues.LOW,
        tenant_id=locked.pk,
        actor_id=getattr(actor, "pk", None),
        job_timeout=ERASE_JOB_TIMEOUT,  # read by RQ, not passed to the job
    )


# --- Retention.


def retention_purge(*, tenant_id: int, now: datetime | None = None) -> int:
    """Clears bodies and media references of the tenant's messages older than its
    `message_retention_days` (none set: nothing), and what the registered apps keep of message
    content (outbound messages' content and template values). Returns how many rows were cleared."""
    now = now or timezone.now()
    with tenant_context(tenant_id), transaction.atomic():
        days = ComplianceSettings.objects.values_list("message_retention_days", flat=True).first()
        if days is None:
            return 0
        cutoff = now - timedelta(days=days)
        # created_at is the partition key: whole months past the cutoff are pruned from the plan.
        cleared = _redact_messages(
            tenant_id=tenant_id, reason="retention", condition="created_at < %s", params=[cutoff]
        )
        for handler in _PERSONAL_DATA.values():
            if handler.expire is not None:
                cleared += handler.expire(tenant_id=tenant_id, before=cutoff)
        return cleared
