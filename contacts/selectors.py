"""Reads of contacts shared by the portal, the API and campaigns: search, filters, lists, segments.

Search by name is a case-insensitive substring; search by number goes through the blind index, so
only a full number finds a contact (the stored number is encrypted and cannot be scanned).
A segment is a saved filter evaluated when used (`segment_contacts`); campaigns snapshot it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from aerostic.core.tenant_context import require_tenant_id
from contacts import phones
from contacts.models import AttributeDefinition, ConsentState, Contact, ContactImport, ContactList, Segment
from tenants.models import Tenant

SEGMENT_FILTER_KEYS = ("tags_any", "tags_all", "consent", "country", "last_inbound_days", "attributes", "list_id")


def default_country() -> str:
    """The workspace's country for numbers written without a country code."""
    return Tenant.objects.filter(pk=require_tenant_id()).values_list("default_country", flat=True).first() or ""


def contact_list(
    *,
    search: str = "",
    tag: str = "",
    consent: str = "",
    country: str = "",
    list_id: int | None = None,
    segment: Segment | None = None,
    include_erased: bool = False,
) -> QuerySet[Contact]:
    """Contacts of the current tenant, newest first, filtered as asked."""
    rows = Contact.objects.all() if include_erased else Contact.objects.filter(erased_at__isnull=True)
    if segment is not None:
        rows = rows.filter(pk__in=segment_contacts(segment).values("pk"))
    search = (search or "").strip()
    if search:
        index = (
            phones.index_for_search(search, tenant=require_tenant_id(), default_country=default_country())
            if _looks_like_number(search)
            else None
        )
        rows = rows.filter(phone_index=index) if index else rows.filter(name__icontains=search)
    if tag:
        rows = rows.filter(tags__contains=[tag.strip().lower()])
    if consent in ConsentState.values:
        rows = rows.filter(consent_state=consent)
    if country:
        rows = rows.filter(country=country.upper())
    if list_id:
        rows = rows.filter(list_memberships__contact_list_id=list_id)
    return rows.order_by("-created_at", "-id")


def _looks_like_number(text: str) -> bool:
    digits = sum(ch.isdigit() for ch in text)
    return digits >= 6 and all(ch.isdigit() or ch in "+-() ." for ch in text)


def contact_for_number(raw: Any, *, default_country: str = "") -> Contact | None:
    """The workspace's contact with this number (any way of writing it), or None."""
    try:
        index = phones.normalize(raw, default_country=default_country).index_for(tenant=require_tenant_id())
    except phones.InvalidPhoneNumber:
        return None
    return Contact.objects.filter(phone_index=index).first()


def contact_get(contact_id: int) -> Contact:
    return Contact.objects.get(pk=contact_id)


def contact_lists_of(contact: Contact) -> list[ContactList]:
    return list(ContactList.objects.filter(members__contact=contact).order_by("name"))


def list_all() -> QuerySet[ContactList]:
    return ContactList.objects.annotate(size=Count("members")).order_by("name")


def list_get(list_id: int) -> ContactList:
    return ContactList.objects.get(pk=list_id)


def segment_all() -> QuerySet[Segment]:
    return Segment.objects.order_by("name")


def segment_get(segment_id: int) -> Segment:
    return Segment.objects.get(pk=segment_id)


def segment_contacts(segment: Segment | dict[str, Any], *, at: Any = None) -> QuerySet[Contact]:
    """The contacts a saved filter matches now. Filters: `tags_any` / `tags_all` (lists),
    `consent` (a ConsentState), `country` (ISO region or a list), `last_inbound_days` (N),
    `attributes` ({key: value} equality), `list_id` (members of a static list)."""
    filters = segment.filters if isinstance(segment, Segment) else segment
    rows = Contact.objects.filter(erased_at__isnull=True)
    if filters.get("tags_any"):
        rows = rows.filter(tags__overlap=[str(tag).lower() for tag in filters["tags_any"]])
    if filters.get("tags_all"):
        rows = rows.filter(tags__contains=[str(tag).lower() for tag in filters["tags_all"]])
    if filters.get("consent") in ConsentState.values:
        rows = rows.filter(consent_state=filters["consent"])
    country = filters.get("country")
    if country:
        countries = [country] if isinstance(country, str) else list(country)
        rows = rows.filter(country__in=[str(code).upper() for code in countries])
    if filters.get("last_inbound_days"):
        since = (at or timezone.now()) - timedelta(days=int(filters["last_inbound_days"]))
        rows = rows.filter(last_inbound_at__gte=since)
    for key, value in (filters.get("attributes") or {}).items():
        rows = rows.filter(**{f"attributes__{key}": value})
    if filters.get("list_id"):
        rows = rows.filter(list_memberships__contact_list_id=int(filters["list_id"]))
    return rows.order_by("id")


def attribute_definitions() -> QuerySet[AttributeDefinition]:
    return AttributeDefinition.objects.order_by("key")


def import_list() -> QuerySet[ContactImport]:
    return ContactImport.objects.defer("content", "error_report").order_by("-created_at")


def import_get(import_id: int) -> ContactImport:
    return ContactImport.objects.get(pk=import_id)


def consent_counts() -> dict[str, int]:
    counts = dict(
        Contact.objects.filter(erased_at__isnull=True)
        .values_list("consent_state")
        .annotate(n=Count("id"))
        .values_list("consent_state", "n")
    )
    return {state: counts.get(state, 0) for state in ConsentState.values}
