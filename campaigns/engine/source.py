"""A campaign batch as a source of the one send path (whatsapp/sending/): which recipients are
due, how each becomes a rendered template message, and what a stop means for a campaign (it
pauses with the reason, its recipients stay queued; a kill-switch holds it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aerostic.core.values import digits
from campaigns.engine.constants import CALLBACK_PREFIX, HELD
from campaigns.engine.writes import note_hold, pause_campaign
from campaigns.mapping import values_for
from campaigns.models import Campaign, CampaignMessage
from contacts.phones import customer_index
from whatsapp.message_templates.rendering import TemplateParameterError, template_fill, template_message
from whatsapp.sending.chain import Source
from whatsapp.sending.ledger import Ledger, register_ledger
from whatsapp.sending.rules import SendRequest
from whatsapp.sending.sender import BREAKER_OPEN

State = CampaignMessage.State
Status = Campaign.Status

CAMPAIGN = register_ledger(
    Ledger(model=CampaignMessage, callback_prefix=CALLBACK_PREFIX, reference="campaign-message", has_failed_at=True)
)
NO_NUMBER = "No WhatsApp number (the contact was erased or has none)."


def batch_keys(campaign_id: int, batch: int) -> tuple[str, str]:
    """(the live job's lock, the mark of a job waiting in the queue)."""
    prefix = f"aerostic:campaign:{campaign_id}:batch:{batch}"
    return f"{prefix}:job", f"{prefix}:queued"


class CampaignSource(Source):
    ledger = CAMPAIGN
    requeue_refused = True  # Meta refused the template or the number: the campaign pauses, nobody fails
    related = ("contact",)

    def __init__(self, campaign: Campaign, batch: int) -> None:
        self.campaign, self.batch = campaign, batch
        self.per_day = campaign.tenant.campaign_sends_per_day
        self.variants = {variant.pk: variant for variant in campaign.variants.select_related("template__account")}
        self.lock_key, self.queued_key = batch_keys(campaign.pk, batch)
        self._noted_hold = False

    def queued(self) -> Any:
        return CampaignMessage.objects.filter(campaign_id=self.campaign.pk, batch=self.batch, state=State.QUEUED)

    def gate(self) -> str | None:
        status, reason = Campaign.objects.filter(pk=self.campaign.pk).values_list(
            "status", "status_reason"
        ).first() or (None, "")
        self._noted_hold = reason.startswith(HELD)
        return None if status == Status.RUNNING else f"campaign {status}"

    def request_for(self, row: CampaignMessage) -> SendRequest | str:
        contact = row.contact
        variant = self.variants[row.variant_id]
        template = variant.template
        phone_e164 = contact.phone.reveal() if contact.phone and not contact.is_erased else ""
        if not phone_e164:
            return NO_NUMBER
        values, missing = values_for(variant.mapping, contact, phone_e164)
        if values is None:
            return missing
        try:
            rendered = template_fill(
                components=template.components, parameter_format=template.parameter_format, values=values
            )
        except TemplateParameterError as error:
            return f"The contact's values do not fit the template: {error}"[:500]
        to = digits(phone_e164)
        return SendRequest(
            id=row.pk,
            to=to,
            index=customer_index(tenant=self.campaign.tenant_id, wa_id=to),
            content={
                "type": "template",
                "template": template_message(name=template.name, language=template.language, rendered=rendered),
            },
            category=template.category,
            contact=contact,
            template=template,
            attempts=row.attempts,
        )

    def switched_off(self, reason: str) -> None:
        note_hold(self.campaign.pk, f"{HELD} {reason}")  # the recipients stay due: woken when it is back

    def switched_on(self) -> None:
        if self._noted_hold:
            note_hold(self.campaign.pk, "")

    def stop(self, reason: str) -> None:
        # Disconnected or deactivated while running: a pause (the person resumes it once the number
        # is back), not a hold; the queued recipients stay queued.
        pause_campaign(self.campaign.pk, reason)

    def stop_rows(self, ids: list[int], reason: str, now: datetime) -> None:
        pause_campaign(self.campaign.pk, reason)  # the template's recipients stay queued for the resume

    def meta_stopped(self, reason: str) -> None:
        pause_campaign(self.campaign.pk, reason)

    def hold_due(self, until: datetime, reason: str) -> None:
        super().hold_due(until, reason)
        if reason == BREAKER_OPEN:
            note_hold(self.campaign.pk, f"{HELD} {reason}")  # cleared by the gate once sending again

    def job(self) -> tuple[Any, dict[str, Any]]:
        from campaigns.jobs import send_batch

        return send_batch, {"tenant_id": self.campaign.tenant_id, "campaign_id": self.campaign.pk, "batch": self.batch}

    def finished(self) -> None:
        from campaigns.engine.batches import finish_if_done

        finish_if_done(self.campaign.pk)
