"""GDPR / LGPD for one contact: erase their data, or export it (a subject access request).

What an erase keeps on purpose: a tombstone Contact row (`erased_at`), the consent ledger's rows
(kind, source, times; their free-text evidence is cleared), and every message row with its type,
direction, status, timestamps and pricing, so billing totals and delivery statistics still add up.
Everything that names, reaches or quotes the person goes. What the apps above compliance keep is
theirs to clear and export (compliance.privacy.registry).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Value
from django.utils import timezone

from aerostic.core import audit
from aerostic.core.models import AuditEvent
from aerostic.core.values import digits
from compliance.consent import ledger_unlocked
from compliance.models import ConsentEvent, UserPreferenceEvent
from compliance.privacy.registry import ErasedPerson, personal_data_handlers
from contacts.models import Contact, ContactListMember

# A column really empty, not an encrypted empty string: EncryptedTextField would seal "" into a
# ciphertext (a truthy SealedValue); Value("") is written as is and reads back as a falsy one.
_EMPTY = Value("")


def _redact_auditlog_of_contact(contact: Contact) -> int:
    """django-auditlog kept the contact's earlier names, tags and attributes in its change diffs."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Contact), object_id=contact.pk
    ).update(changes={}, changes_text="", serialized_data=None, object_repr=f"contact {contact.pk}")


@transaction.atomic
def contact_erase(*, contact: Contact, actor: Any, request: Any = None) -> Contact:
    """Erases everything that identifies the contact, in one transaction; a no-op when already erased.

    Cleared here: the contact's number, name, language, time zone, tags and attributes (a tombstone
    row stays); their WhatsApp marketing-preference events; list memberships; consent evidence text;
    contact names in our audit trail and in django-auditlog's diffs. The apps above this one clear
    their own copies through the handlers they registered with `register_personal_data` (the
    inbox's message bodies and conversations, whatsapp's outbound messages and raw webhook bodies
    naming the number, campaigns' recipients); their counts go into the audit event.
    """
    locked = Contact.objects.select_for_update().get(pk=contact.pk)
    if locked.is_erased:
        contact.refresh_from_db()
        return locked
    tenant_id = locked.tenant_id
    number = digits(locked.phone.reveal()) if locked.phone else ""
    index = locked.phone_index  # the key of their conversations and events too ("" once erased)

    preferences = UserPreferenceEvent.objects.filter(customer_index=index).delete()[0] if index else 0
    memberships = ContactListMember.objects.filter(contact=locked).delete()[0]
    with ledger_unlocked():
        consent_events = ConsentEvent.objects.filter(contact=locked).exclude(evidence="").update(evidence="")
    AuditEvent.objects.filter(target_type=Contact._meta.label_lower, target_id=str(locked.pk)).update(
        target_repr=f"contact {locked.pk}"
    )
    _redact_auditlog_of_contact(locked)
    person = ErasedPerson(tenant_id=tenant_id, contact_id=locked.pk, wa_id=number, customer_index=index)
    elsewhere: dict[str, int] = {}
    for name, handler in personal_data_handlers():
        counts = handler.erase(person=person)
        elsewhere.update(counts if isinstance(counts, Mapping) else {name: counts})

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
            "preference_events": preferences,
            "list_memberships": memberships,
            "consent_events": consent_events,
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
    The apps above this one add what they keep (their registered `export`: the inbox's
    conversations and messages).
    The full number only with `include_phone` (the caller holds "See full phone numbers"); otherwise
    the masked hint, as everywhere else."""
    index = contact.phone_index  # the key of their conversations and events too ("" once erased)
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
    }
    counts: dict[str, int] = {}
    for _name, handler in personal_data_handlers():
        if handler.export is not None:
            exported = handler.export(contact=contact, customer_index=index)
            data.update(exported.sections)
            counts.update(exported.counts)
    audit.record(
        "contact.export",
        actor=actor,
        tenant=contact.tenant_id,
        target=contact,
        request=request,
        metadata={**counts, "full_number": include_phone},
    )
    return data
