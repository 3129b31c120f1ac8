"""Pause, resume and cancel of a launched campaign (by a person, audited), and the pauses that follow
a template Meta stopped or a number that stopped (registered in `CampaignsConfig.ready()`). Resume
follows a reconnected number to its new row and templates."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from aerostic.core import audit
from aerostic.core.errors import Conflict
from campaigns.engine.writes import pause_campaign
from campaigns.models import Campaign, CampaignMessage
from campaigns.status import campaign_status_save, campaigns_status_update
from whatsapp.message_templates.selectors import is_sendable
from whatsapp.models import MessageTemplate, PhoneNumber
from whatsapp.selectors import sending_problem

Status = Campaign.Status


def _transition(campaign: Campaign, allowed: tuple[str, ...], to: str, reason: str = "") -> Campaign:
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.status not in allowed:
        raise Conflict(f"A {locked.get_status_display().lower()} campaign cannot be {_verb(to)}.")
    return campaign_status_save(locked, to=to, reason=reason, update_fields=[])


_VERBS: dict[str, str] = {Status.PAUSED: "paused", Status.RUNNING: "resumed", Status.CANCELLED: "cancelled"}


def _verb(status: str) -> str:
    return _VERBS.get(status, status)


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
    if started and locked.started_at is None:
        locked.started_at = timezone.now()
    campaign_status_save(locked, to=Status.RUNNING if started else Status.SCHEDULED, update_fields=["started_at"])
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
        campaigns_status_update(
            Campaign.objects.filter(pk__in=ids, status__in=(Status.RUNNING, Status.SCHEDULED)),
            to=Status.PAUSED,
            reason=reason,
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
    ids = list(
        Campaign.objects.filter(phone_number=phone, status__in=(Status.RUNNING, Status.SCHEDULED)).values_list(
            "pk", flat=True
        )
    )
    for campaign_id in ids:
        pause_campaign(campaign_id, reason)
    return len(ids)
