"""Broadcast campaigns: an approved template (up to three A/B variants) sent to a snapshot of an
audience, one `CampaignMessage` per recipient, by batch jobs on the `campaigns` queue
(campaigns/engine/). Every send goes through the one send path (whatsapp/sending/)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from aerostic.core.tenant_scoped import TenantScopedModel
from whatsapp.models import MessageTemplate, PhoneNumber


class Campaign(TenantScopedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    name = models.CharField(max_length=200)
    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.PROTECT, related_name="campaigns")
    list_ids = ArrayField(models.BigIntegerField(), default=list, blank=True, help_text="Contact lists")
    segment_ids = ArrayField(models.BigIntegerField(), default=list, blank=True, help_text="Saved segments")
    send_at = models.DateTimeField(null=True, blank=True, help_text="Empty: as soon as it is launched")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    status_reason = models.CharField(max_length=255, blank=True, help_text="Why it is paused, held or failed")
    recipients_total = models.PositiveIntegerField(default=0, help_text="Snapshotted at launch, skipped included")
    skip_reasons = models.JSONField(default=dict, blank=True, help_text="reason → recipients skipped at launch")
    estimate = models.JSONField(default=dict, blank=True, help_text="Cost estimate shown before launch")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    launched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    launched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="campaign_tenant_created"),
            models.Index(fields=["status", "send_at"], name="campaign_status_send_at"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.COMPLETED, self.Status.CANCELLED, self.Status.FAILED)


class CampaignVariant(TenantScopedModel):
    """One template (a name in one language) with its variable mapping; A/B tests have 2–3 of them.

    `mapping` follows the template's values shape (whatsapp/message_templates/rendering.py):
    {"body": {"1": SOURCE}, "header": {"1": SOURCE} or {"image": SOURCE}, "buttons": {"0": SOURCE}},
    SOURCE being {"source": "field", "value": "first_name", "fallback": "there"},
    {"source": "attribute", "value": "<attribute key>", "fallback": ""} or
    {"source": "constant", "value": "text" or, for a media header, {"link": "https://..."}}."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="variants")
    label = models.CharField(max_length=1, help_text="A, B or C")
    template = models.ForeignKey(MessageTemplate, on_delete=models.PROTECT, related_name="campaign_variants")
    percentage = models.PositiveSmallIntegerField(default=100)
    mapping = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["label"]
        constraints = [models.UniqueConstraint(fields=["campaign", "label"], name="campaign_variant_label_once")]

    def __str__(self) -> str:
        return f"{self.label}: {self.template.name} ({self.template.language})"


class CampaignMessage(TenantScopedModel):
    """One recipient of a campaign. Moved by the send path's ledger (whatsapp/sending/ledger.py): queued →
    sending (an atomic claim, committed before Meta is called) → sent → delivered → read, or failed /
    skipped / unknown / cancelled. Unique per campaign and contact: nobody gets a campaign twice."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        READ = "read", "Read"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        UNKNOWN = "unknown", "Unknown (the answer was lost)"
        CANCELLED = "cancelled", "Cancelled"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="messages")
    variant = models.ForeignKey(CampaignVariant, on_delete=models.CASCADE, related_name="messages")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="campaign_messages")
    batch = models.PositiveIntegerField(default=0, help_text="Which batch job sends it")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    hold_reason = models.CharField(max_length=255, blank=True)
    wamid = models.CharField(max_length=255, blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_detail = models.CharField(max_length=500, blank=True, help_text="Why it was skipped or failed")
    cost_estimate_minor = models.BigIntegerField(null=True, blank=True, help_text="Minor units of the card's currency")
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "contact"], name="campaign_message_once_per_contact")
        ]
        indexes = [
            models.Index(fields=["campaign", "batch", "state"], name="campaign_message_batch"),
            models.Index(fields=["campaign", "state"], name="campaign_message_state"),
            models.Index(fields=["wamid"], name="campaign_message_wamid", condition=~models.Q(wamid="")),
        ]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id} → contact {self.contact_id} ({self.state})"


def _register_auditlog() -> None:
    from auditlog.registry import auditlog

    auditlog.register(Campaign, exclude_fields=["updated_at", "estimate"])
    auditlog.register(CampaignVariant)


_register_auditlog()
