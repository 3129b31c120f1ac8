"""Writes of contacts: create, edit, find-or-create from WhatsApp, reveal a number (audited).

Every function runs inside the tenant's context (the scoped manager and RLS see to it) and takes
the acting person, whose change is audited in the same transaction. Phone numbers always pass
through `phones.normalize`, so one person is one contact however the number was typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from aerostic.core import audit
from aerostic.core.errors import Conflict
from aerostic.core.sqlrows import bound_cursor
from aerostic.core.tenant_context import require_tenant_id
from contacts import phones
from contacts.models import Contact
from contacts.rows import ImportRow, insert_contacts
from contacts.selectors import default_country
from contacts.services.cleaning import ContactInvalid, clean_attributes, clean_tags


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


@dataclass(frozen=True)
class InboundSender:
    """A customer seen writing to the business: their WhatsApp id, the profile name Meta gave with
    the message, and when they wrote (now when not given)."""

    wa_id: Any
    profile_name: str = ""
    at: datetime | None = None


def contact_for_customer(*, wa_id: Any, profile_name: str = "", at: datetime | None = None) -> Contact | None:
    """The contact a customer's WhatsApp message belongs to, created on their first message
    (source "inbound", no consent recorded: writing to a business is not a marketing opt-in).
    None when the id is not a valid number. Webhook processing calls it inside the tenant context."""
    return contacts_for_customers(senders=[InboundSender(wa_id=wa_id, profile_name=profile_name, at=at)])[0]


@dataclass
class _Seen:
    """What a call saw of one number: its first non-blank profile name and its latest message."""

    number: phones.NormalizedNumber
    name: str
    at: datetime


def contacts_for_customers(*, senders: list[InboundSender]) -> list[Contact | None]:
    """contact_for_customer for each sender, in order (the same rows as one call after another: a
    new contact takes the first non-blank profile name, a contact without a name takes it too, and
    `last_inbound_at` only moves forward), in at most four statements whatever the number of
    senders: the contacts found, the missing ones inserted, those read back, one UPDATE. The
    contacts by position (the same object for the same number); None for an invalid number."""
    tenant_id = require_tenant_id()
    now = timezone.now()
    seen: dict[str, _Seen] = {}
    indexes: list[str | None] = []
    parsed: dict[str, tuple[phones.NormalizedNumber, str] | None] = {}  # a webhook repeats its senders
    for sender in senders:
        raw = str(sender.wa_id or "")
        if raw not in parsed:
            try:
                number = phones.normalize_wa_id(raw)
            except phones.InvalidPhoneNumber:
                parsed[raw] = None
            else:
                parsed[raw] = (number, number.index_for(tenant=tenant_id))
        found = parsed[raw]
        if found is None:
            indexes.append(None)
            continue
        number, index = found
        indexes.append(index)
        name, at = (sender.profile_name or "").strip()[:200], sender.at or now
        if index not in seen:
            seen[index] = _Seen(number=number, name=name, at=at)
            continue
        earlier = seen[index]
        earlier.name = earlier.name or name
        earlier.at = max(earlier.at, at)
    if not seen:
        return [None] * len(indexes)
    contacts = {contact.phone_index: contact for contact in Contact.objects.filter(phone_index__in=list(seen))}
    # Sorted: two jobs creating the same new contacts take their locks in the same order.
    missing = sorted(index for index in seen if index not in contacts)
    if missing:
        # A conflict is a contact a concurrent job created a moment ago: read back below and, like
        # any existing contact, brought up to date by the UPDATE.
        insert_contacts(
            [
                ImportRow.of(seen[index].number, tenant_id=tenant_id, number=0, name=seen[index].name)
                for index in missing
            ],
            source=Contact.Source.INBOUND,
            last_inbound_at={index: seen[index].at for index in missing},
        )
        contacts.update((contact.phone_index, contact) for contact in Contact.objects.filter(phone_index__in=missing))
    _contacts_seen(contacts, seen)
    return [contacts.get(index) if index else None for index in indexes]


# Monotonic in the statement: a concurrent job's newer message is never overwritten by an older
# one, and a name given meanwhile (by hand or by another message) is kept. Joined on the id alone
# (aerostic.core.sqlrows: rows by id from a list).
_CONTACTS_SEEN = (
    "UPDATE contacts_contact AS contact"
    " SET last_inbound_at = GREATEST(contact.last_inbound_at, seen.at),"
    " name = CASE WHEN contact.name = '' THEN seen.name ELSE contact.name END"
    " FROM unnest(%s::bigint[], %s::timestamptz[], %s::text[]) AS seen(id, at, name)"
    " WHERE contact.id = seen.id"
    " AND (contact.last_inbound_at IS NULL OR contact.last_inbound_at < seen.at"
    " OR (contact.name = '' AND seen.name <> ''))"
    " RETURNING contact.id, contact.last_inbound_at, contact.name"
)


def _contacts_seen(contacts: dict[str, Contact], seen: dict[str, _Seen]) -> None:
    """Moves each contact's `last_inbound_at` forward and names the nameless, in one statement;
    the objects take the stored values. Contacts already up to date (those just created) are left
    out, so a batch of known customers writing nothing new writes nothing."""
    stale = sorted(  # by id: concurrent jobs lock shared contacts in the same order
        (contact.pk, what.at, what.name)
        for index, what in seen.items()
        if (contact := contacts.get(index)) is not None
        and (contact.last_inbound_at is None or contact.last_inbound_at < what.at or (not contact.name and what.name))
    )
    if not stale:
        return
    ids, times, names = (list(column) for column in zip(*stale, strict=True))
    with bound_cursor() as cursor:
        cursor.execute(_CONTACTS_SEEN, [ids, times, names])
        stored = {pk: (at, name) for pk, at, name in cursor.fetchall()}
    for contact in contacts.values():
        if contact.pk in stored:
            contact.last_inbound_at, contact.name = stored[contact.pk]


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
