"""Writes of contacts: create, edit, find-or-create from WhatsApp, reveal a number (audited).

Every function runs inside the tenant's context (the scoped manager and RLS see to it) and takes
the acting person, whose change is audited in the same transaction. Phone numbers always pass
through `phones.normalize`, so one person is one contact however the number was typed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from aerostic.core import audit
from aerostic.core.errors import Conflict
from contacts import phones
from contacts.models import Contact
from contacts.selectors import default_country
from contacts.services.cleaning import ContactInvalid, clean_attributes, clean_tags
from tenants.context import require_tenant_id


def _clean_timezone(value: str) -> str:
    from zoneinfo import available_timezones

    value = (value or "").strip()
    if value and value not in available_timezones():
        raise ContactInvalid({"timezone": f"{value!r} is not a time zone (e.g. Asia/Kolkata)."})
    return value


def _number_fields(number: phones.NormalizedNumber, *, tenant: int) -> dict[str, Any]:
    """What a contact keeps of its number: ciphertext (sealed on assignment), the workspace's lookup
    index, masked hint, and what follows from it (country, calling code, the time zone when unambiguous)."""
    return {
        "phone": number.e164,
        "phone_index": number.index_for(tenant=tenant),
        "phone_hint": number.hint,
        "country": number.country,
        "calling_code": number.calling_code,
        "timezone": number.timezone,
    }


def _apply_number(contact: Contact, raw_phone: Any) -> None:
    try:
        number = phones.normalize(raw_phone, default_country=default_country())
    except phones.InvalidPhoneNumber as error:
        raise ContactInvalid({"phone": str(error)}) from None
    for field, value in _number_fields(number, tenant=contact.tenant_id).items():
        if field != "timezone" or not contact.timezone:  # a time zone set by hand stays
            setattr(contact, field, value)


def _get_or_create_by_number(number: phones.NormalizedNumber, **defaults: Any) -> tuple[Contact, bool]:
    """The workspace's contact with this number, or a new one with `defaults`; safe against a
    parallel worker creating the same one (the unique index decides)."""
    tenant_id = require_tenant_id()
    index = number.index_for(tenant=tenant_id)
    contact = Contact.objects.filter(phone_index=index).first()
    if contact is not None:
        return contact, False
    try:
        with transaction.atomic():
            fields = _number_fields(number, tenant=tenant_id)
            return Contact.objects.create(tenant_id=tenant_id, **fields, **defaults), True
    except IntegrityError:
        return Contact.objects.get(phone_index=index), False


@transaction.atomic
def contact_create(
    *,
    phone: Any,
    actor: Any,
    name: str = "",
    language: str = "",
    timezone_name: str = "",
    tags: Any = None,
    attributes: Any = None,
    source: str = Contact.Source.MANUAL,
    request: Any = None,
) -> Contact:
    contact = Contact(
        tenant_id=require_tenant_id(),
        name=(name or "").strip()[:200],
        language=(language or "").strip()[:16],
        timezone=_clean_timezone(timezone_name),
        tags=clean_tags(tags),
        attributes={k: v for k, v in clean_attributes(attributes).items() if v is not None},
        source=source,
    )
    _apply_number(contact, phone)
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError:
        raise Conflict("A contact with this phone number already exists.") from None
    audit.record(
        "contact.create",
        actor=actor,
        tenant=contact.tenant_id,
        target=contact,
        request=request,
        metadata={"source": source},
    )
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, actor: Any, request: Any = None, **changes: Any) -> Contact:
    """Changes the given fields only (phone, name, language, timezone_name, tags, attributes).
    A person's edit goes through `compliance.consent.contact_edit`: a new number resets consent."""
    if contact.is_erased:
        raise Conflict("This contact was erased.")
    changed: list[str] = []
    if "phone" in changes:
        _apply_number(contact, changes["phone"])
        changed.append("phone")
    if "name" in changes:
        contact.name = (changes["name"] or "").strip()[:200]
        changed.append("name")
    if "language" in changes:
        contact.language = (changes["language"] or "").strip()[:16]
        changed.append("language")
    if "timezone_name" in changes:
        contact.timezone = _clean_timezone(changes["timezone_name"])
        changed.append("timezone")
    if "tags" in changes:
        contact.tags = clean_tags(changes["tags"])
        changed.append("tags")
    if "attributes" in changes:
        merged = {**contact.attributes, **clean_attributes(changes["attributes"])}
        contact.attributes = {key: value for key, value in merged.items() if value is not None}
        changed.append("attributes")
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError:
        raise Conflict("Another contact already has this phone number.") from None
    audit.record(
        "contact.update",
        actor=actor,
        tenant=contact.tenant_id,
        target=contact,
        request=request,
        metadata={"fields": changed},
    )
    return contact


def contact_for_customer(*, wa_id: Any, profile_name: str = "", at: datetime | None = None) -> Contact | None:
    """The contact a customer's WhatsApp message belongs to, created on their first message
    (source "inbound", no consent recorded: writing to a business is not a marketing opt-in).
    None when the id is not a valid number. Webhook processing calls it inside the tenant context."""
    try:
        number = phones.normalize(str(wa_id or ""))
    except phones.InvalidPhoneNumber:
        return None
    at = at or timezone.now()
    contact, created = _get_or_create_by_number(
        number, name=(profile_name or "").strip()[:200], source=Contact.Source.INBOUND, last_inbound_at=at
    )
    if created:
        return contact
    updates: dict[str, Any] = {}
    if contact.last_inbound_at is None or contact.last_inbound_at < at:
        updates["last_inbound_at"] = at
    if profile_name and not contact.name:
        updates["name"] = profile_name.strip()[:200]
    if updates:
        Contact.objects.filter(pk=contact.pk).update(**updates)
        for field, value in updates.items():
            setattr(contact, field, value)
    return contact


def contact_from_business_app(*, phone: Any, name: str = "") -> str:
    """A contact the business keeps in the WhatsApp Business app (`smb_app_state_sync`): created or
    its name refreshed. Returns "added", "updated" or "ignored" (no valid number)."""
    try:
        number = phones.normalize(str(phone or ""))
    except phones.InvalidPhoneNumber:
        return "ignored"
    name = (name or "").strip()[:200]
    contact, created = _get_or_create_by_number(number, name=name, source=Contact.Source.BUSINESS_APP)
    if created:
        return "added"
    if name and contact.name != name and not contact.is_erased:
        Contact.objects.filter(pk=contact.pk).update(name=name, updated_at=timezone.now())
    return "updated"


def contact_phone_reveal(*, contact: Contact, actor: Any, request: Any = None) -> str:
    """The full number, for a member allowed to see it; every reveal is audited."""
    if contact.is_erased or not contact.phone:
        raise Conflict("This contact's number was erased.")
    audit.record("contact.reveal_phone", actor=actor, tenant=contact.tenant_id, target=contact, request=request)
    return contact.phone.reveal()
