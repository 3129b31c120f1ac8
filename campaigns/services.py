"""Writes of campaigns: drafts, the launch (checks, audience snapshot, batch jobs), pause, resume,
cancel. Every change a person makes is audited; the batch engine lives in campaigns/engine/."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from aerostic.core import audit
from aerostic.core.errors import Conflict
from campaigns import costing
from campaigns.mapping import CampaignInvalid, clean_mapping
from campaigns.models import Campaign, CampaignMessage, CampaignVariant
from contacts.models import Contact, ContactList, ContactListMember, Segment
from tenants.context import require_tenant_id
from whatsapp.message_templates.selectors import is_sendable
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
    phone = PhoneNumber.objects.filter(pk=_int(phone_number_id), is_active=True).select_related("account").first()
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
        attribute_keys = _attribute_keys()
        total = 0
        for index, raw in enumerate(raw_variants):
            label = LABELS[index]
            raw = raw if isinstance(raw, dict) else {}
            template = MessageTemplate.objects.filter(pk=_int(raw.get("template_id"))).select_related("account").first()
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


def _attribute_keys() -> set[str]:
    from contacts.models import AttributeDefinition

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


# --- the launch


def audience_contacts(campaign: Campaign) -> Any:
    """The contacts in the campaign's lists and segments now (erased ones never)."""
    from contacts.selectors import segment_contacts

    matches = Q(pk__in=ContactListMember.objects.filter(contact_list_id__in=campaign.list_ids).values("contact_id"))
    for segment in Segment.objects.filter(pk__in=campaign.segment_ids):
        matches |= Q(pk__in=segment_contacts(segment).values("pk"))
    if not campaign.list_ids and not campaign.segment_ids:
        return Contact.objects.none()
    return Contact.objects.filter(erased_at__isnull=True).filter(matches)


@dataclass
class LaunchCheck:
    """What stands between a draft and its launch: problems refuse it, warnings are shown."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    audience: int = 0
    by_country: dict[str, int] = field(default_factory=dict)
    estimate: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def launch_check(campaign: Campaign) -> LaunchCheck:
    from compliance.selectors import sending_allowed
    from whatsapp import ratelimits

    check = LaunchCheck()
    if campaign.status != Status.DRAFT:
        check.problems.append("This campaign was already launched.")
        return check
    decision = sending_allowed(campaign.tenant_id)
    if not decision.allowed:
        check.problems.append(decision.reason)
    phone = campaign.phone_number
    if not phone.is_active or phone.account.status == "disconnected":
        check.problems.append("The campaign's WhatsApp number is not connected.")
    variants = list(campaign.variants.select_related("template__account"))
    if not variants:
        check.problems.append("Choose a template.")
    attribute_keys = _attribute_keys()
    for variant in variants:
        template = variant.template
        if not is_sendable(template):
            check.problems.append(
                f"Variant {variant.label}: the template {template.name} ({template.language}) is "
                f"{template.get_status_display().lower()}, not approved."
            )
        try:
            clean_mapping(template, variant.mapping, attribute_keys=attribute_keys)
        except CampaignInvalid as invalid:
            check.problems.append(f"Variant {variant.label}: the variable mapping is incomplete ({invalid.message}).")
    if variants and sum(variant.percentage for variant in variants) != 100:
        check.problems.append("The variants' percentages do not add up to 100.")
    check.by_country = audience_by_country(campaign)
    check.audience = sum(check.by_country.values())
    if check.audience == 0:
        check.problems.append("The audience is empty: choose lists or segments with contacts.")
    tenant = campaign.tenant
    remaining = _campaign_day_remaining(tenant)
    if check.audience and remaining is not None and check.audience > remaining:
        check.problems.append(
            f"The audience ({check.audience}) is more than the workspace may still send today "
            f"({remaining} of {tenant.campaign_sends_per_day} campaign messages a day): narrow it or raise the limit."
        )
    limit = ratelimits.MESSAGING_LIMITS.get(phone.messaging_limit_tier or "TIER_250", 250)
    if limit is not None and check.audience:
        portfolio = phone.account.business_id or phone.account.waba_id
        try:
            headroom = max(0, limit - ratelimits.users_reached(portfolio))
        except ratelimits.RateLimitUnavailable:
            headroom = limit
        if check.audience > headroom:
            check.warnings.append(
                f"The audience ({check.audience}) is above what the number's messaging limit allows in the next "
                f"24 hours ({headroom} of {limit} people): the rest is sent as the limit frees up."
            )
    check.estimate = cost_estimate(campaign, check.by_country, variants)
    allowed, reason = costing.launch_allowed(campaign.tenant, check.estimate)
    if not allowed:
        check.problems.append(reason)
    return check


def audience_by_country(campaign: Campaign) -> dict[str, int]:
    """Recipients by country ("?" when unknown), largest first: the audience size and the estimate."""
    from django.db.models import Count

    rows = audience_contacts(campaign).order_by().values("country").annotate(n=Count("pk")).order_by("-n")
    return {(row["country"] or "?"): row["n"] for row in rows}


def _campaign_day_remaining(tenant: Any) -> int | None:
    from whatsapp import ratelimits

    try:
        used = ratelimits.tenant_campaign_day_used(tenant.pk)
    except ratelimits.RateLimitUnavailable:
        return None
    return max(0, tenant.campaign_sends_per_day - used)


def cost_estimate(campaign: Campaign, by_country: dict[str, int], variants: list[CampaignVariant]) -> dict[str, Any]:
    """Recipients by country × the rate card in force (billing, through `campaigns.costing`): without
    a card for the workspace's currency the amount is "unknown", said so, never guessed."""
    return costing.campaign_estimate(campaign=campaign, by_country=by_country, variants=variants)


@transaction.atomic
def campaign_launch(*, campaign: Campaign, actor: Any, request: Any = None) -> Campaign:
    """Checks, snapshots the audience (skipped recipients counted by reason) and starts the batch
    jobs — or waits for `send_at`. The row lock makes a double-click launch once: the second
    request finds the campaign launched and is refused."""
    from campaigns import engine

    locked = Campaign.objects.select_for_update().select_related("phone_number__account", "tenant").get(pk=campaign.pk)
    if locked.status != Status.DRAFT:
        raise Conflict("This campaign was already launched.")
    check = launch_check(locked)
    if not check.ok:
        raise CampaignInvalid({"launch": " ".join(check.problems)})
    total, skipped = engine.snapshot(locked)
    if total - sum(skipped.values()) == 0:
        transaction.set_rollback(True)
        reasons = "; ".join(f"{count} × {reason}" for reason, count in skipped.items())
        raise CampaignInvalid({"launch": f"Every recipient would be skipped: {reasons}"})
    now = timezone.now()
    scheduled = locked.send_at is not None and locked.send_at > now + timedelta(seconds=5)
    locked.status = Status.SCHEDULED if scheduled else Status.RUNNING
    locked.status_reason = ""
    locked.recipients_total, locked.skip_reasons, locked.estimate = total, skipped, check.estimate
    locked.launched_at, locked.launched_by = now, actor if getattr(actor, "is_authenticated", False) else None
    if not scheduled:
        locked.started_at = now
    locked.save()
    audit.record(
        "campaign.launch",
        actor=actor,
        tenant=locked.tenant_id,
        target=locked,
        request=request,
        metadata={"recipients": total, "skipped": sum(skipped.values()), "scheduled": scheduled},
    )
    if not scheduled:
        engine.enqueue_batches(locked)
    return locked


# --- pause, resume, cancel


def _transition(campaign: Campaign, allowed: tuple[str, ...], to: str, reason: str = "") -> Campaign:
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.status not in allowed:
        raise Conflict(f"A {locked.get_status_display().lower()} campaign cannot be {_verb(to)}.")
    locked.status, locked.status_reason = to, reason[:255]
    if to in (Status.COMPLETED, Status.CANCELLED, Status.FAILED):
        locked.finished_at = timezone.now()
    locked.save(update_fields=["status", "status_reason", "finished_at", "updated_at"])
    return locked


def _verb(status: str) -> str:
    return {Status.PAUSED: "paused", Status.RUNNING: "resumed", Status.CANCELLED: "cancelled"}.get(status, status)


@transaction.atomic
def campaign_pause(*, campaign: Campaign, actor: Any, reason: str = "", request: Any = None) -> Campaign:
    """Batch jobs see it before their next send (they check between chunks of at most half a second)."""
    locked = _transition(campaign, (Status.RUNNING, Status.SCHEDULED), Status.PAUSED, reason or "Paused by a person.")
    audit.record("campaign.pause", actor=actor, tenant=locked.tenant_id, target=locked, request=request)
    return locked


@transaction.atomic
def campaign_resume(*, campaign: Campaign, actor: Any, request: Any = None) -> Campaign:
    """Continues exactly where it stopped: only recipients still queued are sent."""
    from campaigns import engine

    locked = Campaign.objects.select_for_update().select_related("phone_number__account").get(pk=campaign.pk)
    if locked.status != Status.PAUSED:
        raise Conflict(f"A {locked.get_status_display().lower()} campaign cannot be resumed.")
    moved_from = _follow_reconnected_number(locked)
    problems = [
        f"Variant {variant.label}: the template is {variant.template.get_status_display().lower()}."
        for variant in locked.variants.select_related("template__account")
        if not is_sendable(variant.template)
    ]
    if problems:
        raise Conflict(" ".join(problems) + " Wait for Meta to lift the pause, or cancel the campaign.")
    started = locked.started_at is not None or locked.send_at is None or locked.send_at <= timezone.now()
    locked.status = Status.RUNNING if started else Status.SCHEDULED
    locked.status_reason = ""
    if started and locked.started_at is None:
        locked.started_at = timezone.now()
    locked.save(update_fields=["status", "status_reason", "started_at", "updated_at"])
    audit.record(
        "campaign.resume",
        actor=actor,
        tenant=locked.tenant_id,
        target=locked,
        request=request,
        metadata={"moved_from_number": moved_from} if moved_from else None,
    )
    if locked.status == Status.RUNNING:
        engine.enqueue_batches(locked)
    return locked


def _follow_reconnected_number(campaign: Campaign) -> int | None:
    """A campaign paused because its number stopped resumes only once the number may send again. A
    reconnection stores the WABA and its numbers as new rows (whatsapp.connections.connect.account_connect):
    the campaign moves to the active row of the same Meta number and its variants to the same
    templates (name and language) of the reconnected account. Returns the old number's id if moved."""
    from whatsapp.selectors import sending_problem

    problem = sending_problem(campaign.phone_number)
    if problem is None:
        return None
    old = campaign.phone_number
    new = (
        PhoneNumber.objects.select_related("account")
        .filter(phone_number_id=old.phone_number_id, is_active=True)
        .exclude(pk=old.pk)
        .first()
    )
    if new is None or sending_problem(new) is not None:
        raise Conflict(f"{problem} Reconnect the number, then resume the campaign (or cancel it).")
    variants = list(campaign.variants.select_related("template"))
    for variant in variants:
        template = (
            MessageTemplate.objects.filter(
                account=new.account, name=variant.template.name, language=variant.template.language
            )
            .exclude(status=MessageTemplate.Status.DELETED)
            .first()
        )
        if template is None:
            raise Conflict(
                f"Variant {variant.label}: the template {variant.template.name} ({variant.template.language}) is not "
                "in the reconnected account yet: sync its templates, then resume."
            )
        variant.template = template
    for variant in variants:
        variant.save(update_fields=["template"])
    campaign.phone_number = new
    campaign.save(update_fields=["phone_number", "updated_at"])
    return old.pk


@transaction.atomic
def campaign_cancel(*, campaign: Campaign, actor: Any, request: Any = None) -> Campaign:
    """Stops it for good: recipients not sent yet become `cancelled` (sends in flight finish)."""
    allowed = (Status.SCHEDULED, Status.RUNNING, Status.PAUSED)
    locked = _transition(campaign, allowed, Status.CANCELLED, "Cancelled by a person.")
    cancelled = CampaignMessage.objects.filter(campaign=locked, state=CampaignMessage.State.QUEUED).update(
        state=CampaignMessage.State.CANCELLED, next_attempt_at=None, hold_reason="", updated_at=timezone.now()
    )
    audit.record(
        "campaign.cancel",
        actor=actor,
        tenant=locked.tenant_id,
        target=locked,
        request=request,
        metadata={"not_sent": cancelled},
    )
    return locked


def campaigns_pause_for_template(*, template: MessageTemplate, reason: str) -> int:
    """Meta paused or disabled a template: running and scheduled campaigns using it pause with the reason."""
    ids = list(
        Campaign.objects.filter(status__in=(Status.RUNNING, Status.SCHEDULED), variants__template=template).values_list(
            "pk", flat=True
        )
    )
    if ids:
        Campaign.objects.filter(pk__in=ids, status__in=(Status.RUNNING, Status.SCHEDULED)).update(
            status=Status.PAUSED, status_reason=reason[:255], updated_at=timezone.now()
        )
        for campaign_id in ids:
            audit.record(
                "campaign.pause",
                tenant=template.tenant_id,
                metadata={"campaign": campaign_id, "reason": reason[:255], "by": "template status"},
            )
    return len(ids)


def campaigns_pause_for_number(*, phone: PhoneNumber, reason: str) -> int:
    """The number was disconnected or deactivated (whatsapp's `fanout.number_stopped`, registered in
    CampaignsConfig.ready): its running and scheduled campaigns pause with the reason, in the same
    transaction. Their queued recipients stay queued; a person resumes once the number is back."""
    from campaigns.engine.writes import pause_campaign

    ids = list(
        Campaign.objects.filter(phone_number=phone, status__in=(Status.RUNNING, Status.SCHEDULED)).values_list(
            "pk", flat=True
        )
    )
    for campaign_id in ids:
        pause_campaign(campaign_id, reason)
    return len(ids)
