"""Campaign drafts: create, edit (name, number, variants with their mappings, audience, send time)
and delete, each validated as a whole and audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from aerostic.core import audit
from aerostic.core.errors import Conflict
from aerostic.core.tenant_context import require_tenant_id
from campaigns.mapping import CampaignInvalid, clean_mapping
from campaigns.models import Campaign, CampaignVariant
from contacts.models import AttributeDefinition, ContactList, Segment
from whatsapp.models import MessageTemplate, PhoneNumber

Status = Campaign.Status
MAX_VARIANTS = 3
LABELS = "ABC"
MAX_NAME = 200


# --- drafts


@dataclass(frozen=True)
class VariantInput:
    template_id: int
    percentage: int
    mapping: dict[str, Any]


def _clean_draft(
    *,
    name: Any,
    phone_number_id: Any,
    variants: list[dict[str, Any]] | None,
    list_ids: Any,
    segment_ids: Any,
    send_at: Any,
) -> tuple[str, PhoneNumber, list[tuple[MessageTemplate, int, dict]], list[int], list[int], datetime | None]:
    problems: dict[str, str] = {}
    clean_name = " ".join(str(name or "").split())
    if not clean_name:
        problems["name"] = "A name is required."
    elif len(clean_name) > MAX_NAME:
        problems["name"] = f"At most {MAX_NAME} characters."
    phone = PhoneNumber.objects.filter(pk=_int(phone_number_id) or 0, is_active=True).select_related("account").first()
    if phone is None:
        problems["phone_number"] = "Choose one of this workspace's active WhatsApp numbers."
    lists = _ids(list_ids)
    segments = _ids(segment_ids)
    if lists is None or segments is None:
        problems["audience"] = "Lists and segments are lists of ids."
        lists, segments = lists or [], segments or []
    found_lists = set(ContactList.objects.filter(pk__in=lists).values_list("pk", flat=True))
    found_segments = set(Segment.objects.filter(pk__in=segments).values_list("pk", flat=True))
    if set(lists) - found_lists or set(segments) - found_segments:
        problems["audience"] = "Some of the chosen lists or segments do not exist in this workspace."
    if send_at is not None and not isinstance(send_at, datetime):
        problems["send_at"] = "A date and time, or empty to send at launch."
    cleaned_variants: list[tuple[MessageTemplate, int, dict]] = []
    raw_variants = variants if isinstance(variants, list) else []
    if not raw_variants:
        problems["variants"] = "Choose a template."
    elif len(raw_variants) > MAX_VARIANTS:
        problems["variants"] = f"At most {MAX_VARIANTS} variants (A/B/C)."
    else:
        attribute_keys = known_attribute_keys()
        total = 0
        for index, raw in enumerate(raw_variants):
            label = LABELS[index]
            raw = raw if isinstance(raw, dict) else {}
            template = (
                MessageTemplate.objects.filter(pk=_int(raw.get("template_id")) or 0).select_related("account").first()
            )
            if template is None or (phone is not None and template.account_id != phone.account_id):
                problems[f"variant_{label}.template"] = "Choose a template of this number's WhatsApp account."
                continue
            percentage = _int(raw.get("percentage", 100 if len(raw_variants) == 1 else 0))
            if percentage is None or not 1 <= percentage <= 100:
                problems[f"variant_{label}.percentage"] = "A percentage from 1 to 100."
                continue
            total += percentage
            try:
                mapping = clean_mapping(template, raw.get("mapping"), attribute_keys=attribute_keys, partial=True)
            except CampaignInvalid as invalid:
                mapping = {}
                for path, problem in invalid.problems.items():
                    problems[f"variant_{label}.mapping.{path}"] = problem
            cleaned_variants.append((template, percentage, mapping))
        if len(cleaned_variants) == len(raw_variants) and total != 100:
            problems["variants"] = f"The variants' percentages add up to {total}, not 100."
    if problems:
        raise CampaignInvalid(problems)
    assert phone is not None
    return clean_name, phone, cleaned_variants, lists, segments, send_at


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _ids(value: Any) -> list[int] | None:
    if value in (None, ""):
        return []
    if not isinstance(value, (list, tuple)):
        return None
    ids = [_int(item) for item in value]
    return None if any(item is None for item in ids) else sorted(set(ids))  # type: ignore[arg-type]


def known_attribute_keys() -> set[str]:
    """The keys of the workspace's contact attributes: what a variable mapping may name."""
    return set(AttributeDefinition.objects.values_list("key", flat=True))


@transaction.atomic
def campaign_create(
    *,
    name: Any,
    phone_number_id: Any,
    variants: list[dict[str, Any]],
    list_ids: Any = (),
    segment_ids: Any = (),
    send_at: datetime | None = None,
    actor: Any,
    request: Any = None,
) -> Campaign:
    """A draft. `variants`: [{"template_id", "percentage", "mapping"}], one per A/B variant."""
    name, phone, cleaned, lists, segments, send_at = _clean_draft(
        name=name,
        phone_number_id=phone_number_id,
        variants=variants,
        list_ids=list(list_ids),
        segment_ids=list(segment_ids),
        send_at=send_at,
    )
    campaign = Campaign.objects.create(
        tenant_id=require_tenant_id(),
        name=name,
        phone_number=phone,
        list_ids=lists,
        segment_ids=segments,
        send_at=send_at,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    _save_variants(campaign, cleaned)
    audit.record("campaign.create", actor=actor, tenant=campaign.tenant_id, target=campaign, request=request)
    return campaign


@transaction.atomic
def campaign_update(
    *,
    campaign: Campaign,
    name: Any,
    phone_number_id: Any,
    variants: list[dict[str, Any]],
    list_ids: Any = (),
    segment_ids: Any = (),
    send_at: datetime | None = None,
    actor: Any,
    request: Any = None,
) -> Campaign:
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not locked.is_editable:
        raise Conflict("Only a draft can be edited: this campaign was launched.")
    name, phone, cleaned, lists, segments, send_at = _clean_draft(
        name=name,
        phone_number_id=phone_number_id,
        variants=variants,
        list_ids=list(list_ids),
        segment_ids=list(segment_ids),
        send_at=send_at,
    )
    locked.name, locked.phone_number, locked.list_ids, locked.segment_ids, locked.send_at = (
        name,
        phone,
        lists,
        segments,
        send_at,
    )
    locked.save()
    locked.variants.all().delete()
    _save_variants(locked, cleaned)
    audit.record("campaign.update", actor=actor, tenant=locked.tenant_id, target=locked, request=request)
    return locked


def _save_variants(campaign: Campaign, cleaned: list[tuple[MessageTemplate, int, dict]]) -> None:
    CampaignVariant.objects.bulk_create(
        [
            CampaignVariant(
                tenant_id=campaign.tenant_id,
                campaign=campaign,
                label=LABELS[index],
                template=template,
                percentage=percentage,
                mapping=mapping,
            )
            for index, (template, percentage, mapping) in enumerate(cleaned)
        ]
    )


@transaction.atomic
def campaign_delete(*, campaign: Campaign, actor: Any, request: Any = None) -> None:
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.status not in (Status.DRAFT, Status.COMPLETED, Status.CANCELLED, Status.FAILED):
        raise Conflict("A scheduled, running or paused campaign cannot be deleted: cancel it first.")
    audit.record(
        "campaign.delete", actor=actor, tenant=locked.tenant_id, request=request, metadata={"campaign": locked.pk}
    )
    locked.delete()
