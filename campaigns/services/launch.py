"""The launch of a campaign: its audience now, the checks that refuse or warn (kill-switch, audience,
daily limit, messaging tier, templates, cost and prepaid balance through `campaigns.costing`), and
the launch itself (snapshot, then the batch jobs or the wait for `send_at`), audited."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from aerostic.core import audit
from aerostic.core.errors import Conflict
from campaigns import costing
from campaigns.mapping import CampaignInvalid, clean_mapping
from campaigns.models import Campaign
from campaigns.services.drafts import known_attribute_keys
from campaigns.status import campaign_status_save
from compliance.selectors import sending_allowed
from contacts.models import Contact, ContactListMember, Segment
from contacts.selectors import segment_contacts
from whatsapp.message_templates.selectors import is_sendable
from whatsapp.sending import limits

Status = Campaign.Status


def audience_contacts(campaign: Campaign) -> Any:
    """The contacts in the campaign's lists and segments now (erased ones never)."""
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
    attribute_keys = known_attribute_keys()
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
    limit = limits.MESSAGING_LIMITS.get(phone.messaging_limit_tier or "TIER_250", 250)
    if limit is not None and check.audience:
        portfolio = phone.account.business_id or phone.account.waba_id
        try:
            headroom = max(0, limit - limits.users_reached(portfolio))
        except limits.RateLimitUnavailable:
            headroom = limit
        if check.audience > headroom:
            check.warnings.append(
                f"The audience ({check.audience}) is above what the number's messaging limit allows in the next "
                f"24 hours ({headroom} of {limit} people): the rest is sent as the limit frees up."
            )
    # Recipients by country × the rate card in force (billing fills campaigns.costing).
    check.estimate = costing.campaign_estimate(campaign=campaign, by_country=check.by_country, variants=variants)
    allowed, reason = costing.launch_allowed(campaign.tenant, check.estimate)
    if not allowed:
        check.problems.append(reason)
    return check


def audience_by_country(campaign: Campaign) -> dict[str, int]:
    """Recipients by country ("?" when unknown), largest first: the audience size and the estimate."""
    rows = audience_contacts(campaign).order_by().values("country").annotate(n=Count("pk")).order_by("-n")
    return {(row["country"] or "?"): row["n"] for row in rows}


def _campaign_day_remaining(tenant: Any) -> int | None:
    try:
        used = limits.tenant_campaign_day_used(tenant.pk)
    except limits.RateLimitUnavailable:
        return None
    return max(0, tenant.campaign_sends_per_day - used)


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
    locked.recipients_total, locked.skip_reasons, locked.estimate = total, skipped, check.estimate
    locked.launched_at, locked.launched_by = now, actor if getattr(actor, "is_authenticated", False) else None
    if not scheduled:
        locked.started_at = now
    campaign_status_save(locked, to=Status.SCHEDULED if scheduled else Status.RUNNING)
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
