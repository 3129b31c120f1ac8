"""Compliance state: the global kill-switch (the per-tenant one is `Tenant.sending_enabled`), the
append-only consent ledger, Meta's `user_preferences` signals and each workspace's sending rules."""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from aerostic.core.fields import EncryptedTextField
from aerostic.core.tenant_scoped import TenantScopedModel


def _marketing_only() -> list[str]:
    return ["MARKETING"]


class PlatformSwitch(models.Model):
    """A single row: when sending is off here, no tenant sends anything."""

    SINGLETON_ID = 1

    sending_enabled = models.BooleanField(default=True)
    reason = models.CharField(max_length=255, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "global kill-switch"
        verbose_name_plural = "global kill-switch"
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="platform_switch_singleton")]

    def __str__(self) -> str:
        return "Sending on" if self.sending_enabled else f"Sending off: {self.reason or 'no reason given'}"


class UserPreferenceEvent(TenantScopedModel):
    """A customer told WhatsApp itself to stop (or resume) marketing messages from this business
    (`user_preferences` webhook). Kept once per (customer, category, value, time); the consent
    ledger turns unapplied rows into opt-out / opt-in events."""

    phone_number = models.ForeignKey("whatsapp.PhoneNumber", on_delete=models.PROTECT, related_name="+")
    customer_wa_id = EncryptedTextField(blank=True)
    customer_index = models.CharField(max_length=64)
    category = models.CharField(max_length=64, help_text="Meta's category, e.g. marketing_messages")
    value = models.CharField(max_length=16, help_text="stop or resume")
    detail = models.CharField(max_length=255, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True, help_text="When the consent ledger took it in")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "customer_index", "category", "value", "occurred_at"], name="user_preference_once"
            )
        ]
        indexes = [models.Index(fields=["tenant", "applied_at"], name="user_preference_unapplied")]

    def __str__(self) -> str:
        return f"{self.category}: {self.value} at {self.occurred_at:%Y-%m-%d %H:%M}"


class ConsentEvent(TenantScopedModel):
    """One line of the consent ledger: append-only (no service updates or deletes it; a database
    trigger refuses both outside a GDPR erase). A contact's state is its latest event."""

    class Kind(models.TextChoices):
        OPT_IN = "opt_in", "Opted in"
        OPT_OUT = "opt_out", "Opted out"
        # The number changed: what the old number's owner said does not speak for the new one
        RESET = "reset", "Reset (number changed)"

    # What a person or an import may record; a reset only follows a number change
    RECORDABLE_KINDS = [(Kind.OPT_IN.value, Kind.OPT_IN.label), (Kind.OPT_OUT.value, Kind.OPT_OUT.label)]

    class Source(models.TextChoices):
        IMPORT = "import", "CSV import"
        FORM = "form", "Sign-up form"
        KEYWORD = "keyword", "Keyword sent on WhatsApp"
        API = "api", "API"
        AGENT = "agent", "Team member"
        META_PREFERENCE = "meta_preference", "WhatsApp marketing preference"
        META_ERROR = "meta_error", "Meta refused: user stopped marketing"

    contact = models.ForeignKey("contacts.Contact", on_delete=models.PROTECT, related_name="consent_events")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    channel = models.CharField(max_length=16, default="whatsapp")
    source = models.CharField(max_length=16, choices=Source.choices)
    evidence = models.TextField(blank=True, help_text="What proves it: the keyword, the form, the import basis…")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    dedupe_key = models.CharField(
        max_length=128,
        blank=True,
        help_text="Same key, same event: a re-run import or re-delivered webhook adds nothing",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "contact", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="consent_event_once",
            )
        ]
        indexes = [models.Index(fields=["tenant", "contact", "-occurred_at"], name="consent_event_contact_latest")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_source_display()}) at {self.occurred_at:%Y-%m-%d %H:%M}"


class ComplianceSettings(TenantScopedModel):
    """A workspace's sending rules: opt-out keywords and replies, quiet hours, frequency cap, retention."""

    extra_opt_out_words = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    extra_opt_in_words = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    opt_out_reply = models.TextField(
        blank=True, default="You will no longer receive messages from us. Reply START to subscribe again."
    )
    opt_in_reply = models.TextField(blank=True, default="Welcome back! You will receive our messages again.")
    block_utility_when_opted_out = models.BooleanField(default=True)
    quiet_hours_enabled = models.BooleanField(default=True)
    quiet_hours_start = models.TimeField(default=time(21, 0))
    quiet_hours_end = models.TimeField(default=time(9, 0))
    quiet_hours_categories = ArrayField(models.CharField(max_length=16), default=_marketing_only, blank=True)
    marketing_cap_messages = models.PositiveSmallIntegerField(
        default=2, help_text="Marketing messages per contact per period (0: no cap)"
    )
    marketing_cap_days = models.PositiveSmallIntegerField(default=7)
    message_retention_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Clear message bodies older than this (empty: keep)"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "compliance settings"
        constraints = [models.UniqueConstraint(fields=["tenant"], name="compliance_settings_one_per_tenant")]

    def __str__(self) -> str:
        return f"Compliance settings of tenant {self.tenant_id}"


def _register_auditlog() -> None:
    from auditlog.registry import auditlog

    auditlog.register(PlatformSwitch)
    auditlog.register(ComplianceSettings)


_register_auditlog()
