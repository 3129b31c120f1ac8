"""Writes of lists, segments and attribute definitions, audited like every change a person makes."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from aerostic.core import audit
from aerostic.core.errors import Conflict
from aerostic.core.tenant_context import require_tenant_id
from contacts.models import AttributeDefinition, Contact, ContactList, ContactListMember, Segment
from contacts.services.cleaning import ContactInvalid, clean_tags, coerce_attribute


def _name(value: Any, field: str = "name") -> str:
    name = " ".join(str(value or "").split())
    if not name:
        raise ContactInvalid({field: "A name is required."})
    if len(name) > 120:
        raise ContactInvalid({field: "At most 120 characters."})
    return name


@transaction.atomic
def list_create(*, name: str, description: str = "", actor: Any, request: Any = None) -> ContactList:
    contact_list = ContactList(tenant_id=require_tenant_id(), name=_name(name), description=description[:255])
    try:
        with transaction.atomic():
            contact_list.save()
    except IntegrityError:
        raise Conflict("A list with this name already exists.") from None
    audit.record(
        "contact_list.create", actor=actor, tenant=contact_list.tenant_id, target=contact_list, request=request
    )
    return contact_list


@transaction.atomic
def list_members_add(*, contact_list: ContactList, contact_ids: list[int], actor: Any, request: Any = None) -> int:
    """Adds contacts of this tenant (unknown or erased ids are ignored); returns how many were new."""
    ids = list(Contact.objects.filter(pk__in=contact_ids, erased_at__isnull=True).values_list("pk", flat=True))
    before = ContactListMember.objects.filter(contact_list=contact_list).count()
    ContactListMember.objects.bulk_create(
        [ContactListMember(tenant_id=contact_list.tenant_id, contact_list=contact_list, contact_id=pk) for pk in ids],
        ignore_conflicts=True,
    )
    added = ContactListMember.objects.filter(contact_list=contact_list).count() - before
    audit.record(
        "contact_list.add",
        actor=actor,
        tenant=contact_list.tenant_id,
        target=contact_list,
        request=request,
        metadata={"added": added},
    )
    return added


@transaction.atomic
def list_members_remove(*, contact_list: ContactList, contact_ids: list[int], actor: Any, request: Any = None) -> int:
    removed, _ = ContactListMember.objects.filter(contact_list=contact_list, contact_id__in=contact_ids).delete()
    audit.record(
        "contact_list.remove",
        actor=actor,
        tenant=contact_list.tenant_id,
        target=contact_list,
        request=request,
        metadata={"removed": removed},
    )
    return removed


@transaction.atomic
def list_delete(*, contact_list: ContactList, actor: Any, request: Any = None) -> None:
    audit.record(
        "contact_list.delete", actor=actor, tenant=contact_list.tenant_id, target=contact_list, request=request
    )
    contact_list.delete()


def clean_segment_filters(raw: Any) -> dict[str, Any]:
    """A segment's filters, checked: known keys only, attribute keys that exist, sane values."""
    from contacts.models import ConsentState

    if not isinstance(raw, dict):
        raise ContactInvalid({"filters": "Filters are an object."})
    problems: dict[str, str] = {}
    filters: dict[str, Any] = {}
    for key in ("tags_any", "tags_all"):
        if raw.get(key):
            filters[key] = clean_tags(raw[key])
    if raw.get("consent"):
        if raw["consent"] not in ConsentState.values:
            problems["consent"] = f"One of {', '.join(ConsentState.values)}."
        else:
            filters["consent"] = raw["consent"]
    if raw.get("country"):
        countries = [raw["country"]] if isinstance(raw["country"], str) else list(raw["country"])
        codes = [str(code).strip().upper() for code in countries if str(code).strip()]
        if any(len(code) != 2 or not code.isalpha() for code in codes):
            problems["country"] = "Two-letter country codes, e.g. IN, BR."
        else:
            filters["country"] = codes
    if raw.get("last_inbound_days") not in (None, ""):
        try:
            days = int(raw["last_inbound_days"])
            if not 1 <= days <= 3650:
                raise ValueError
            filters["last_inbound_days"] = days
        except (TypeError, ValueError):
            problems["last_inbound_days"] = "A number of days between 1 and 3650."
    if raw.get("attributes"):
        if not isinstance(raw["attributes"], dict):
            problems["attributes"] = "Attributes are an object of key → value."
        else:
            definitions = {d.key: d for d in AttributeDefinition.objects.all()}
            cleaned: dict[str, Any] = {}
            for key, value in raw["attributes"].items():
                if key not in definitions:
                    problems[f"attributes.{key}"] = "No such attribute."
                    continue
                try:
                    cleaned[key] = coerce_attribute(definitions[key].kind, value)
                except ValueError as error:
                    problems[f"attributes.{key}"] = str(error)
            filters["attributes"] = cleaned
    if raw.get("list_id"):
        try:
            filters["list_id"] = ContactList.objects.get(pk=int(raw["list_id"])).pk
        except (TypeError, ValueError, ContactList.DoesNotExist):
            problems["list_id"] = "No such list."
    unknown = set(raw) - {"tags_any", "tags_all", "consent", "country", "last_inbound_days", "attributes", "list_id"}
    if unknown:
        problems["filters"] = f"Unknown filter(s): {', '.join(sorted(unknown))}."
    if problems:
        raise ContactInvalid(problems)
    return filters


@transaction.atomic
def segment_save(
    *, name: str, filters: Any, actor: Any, segment: Segment | None = None, request: Any = None
) -> Segment:
    segment = segment or Segment(tenant_id=require_tenant_id())
    segment.name = _name(name)
    segment.filters = clean_segment_filters(filters)
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError:
        raise Conflict("A segment with this name already exists.") from None
    audit.record("segment.save", actor=actor, tenant=segment.tenant_id, target=segment, request=request)
    return segment


@transaction.atomic
def segment_delete(*, segment: Segment, actor: Any, request: Any = None) -> None:
    audit.record("segment.delete", actor=actor, tenant=segment.tenant_id, target=segment, request=request)
    segment.delete()


@transaction.atomic
def attribute_define(*, key: str, label: str, kind: str, actor: Any, request: Any = None) -> AttributeDefinition:
    from django.utils.text import slugify

    slug = slugify(key or label).replace("-", "_")[:64]
    if not slug:
        raise ContactInvalid({"key": "A key is required (letters, digits, underscores)."})
    if slug in ("phone", "name", "tags", "language", "timezone", "country"):
        raise ContactInvalid({"key": f"{slug!r} is a built-in contact field."})
    if kind not in AttributeDefinition.Kind.values:
        raise ContactInvalid({"kind": f"One of {', '.join(AttributeDefinition.Kind.values)}."})
    definition = AttributeDefinition(
        tenant_id=require_tenant_id(), key=slug, label=_name(label or slug, "label"), kind=kind
    )
    try:
        with transaction.atomic():
            definition.save()
    except IntegrityError:
        raise Conflict("An attribute with this key already exists.") from None
    audit.record(
        "contact_attribute.create", actor=actor, tenant=definition.tenant_id, target=definition, request=request
    )
    return definition
