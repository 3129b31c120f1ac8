"""WhatsApp connections: the Business Account (WABA), its phone numbers and the encrypted token."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from aerostic.core.fields import EncryptedTextField
from aerostic.core.tenant_scoped import TenantScopedModel


class WhatsAppAccount(TenantScopedModel):
    class Mode(models.TextChoices):
        REAL = "real", "Meta Cloud API"
        SANDBOX = "sandbox", "Sandbox (simulator)"

    class Status(models.TextChoices):
        CONNECTED = "connected", "Connected"
        NEEDS_ATTENTION = "needs_attention", "Needs attention"
        DISCONNECTED = "disconnected", "Disconnected"

    waba_id = models.CharField("WABA id", max_length=64)
    business_id = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=200, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    timezone_id = models.CharField(max_length=16, blank=True)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.REAL)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CONNECTED)
    status_detail = models.CharField(max_length=255, blank=True)
    webhooks_subscribed = models.BooleanField(default=False)
    connected_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    connected_at = models.DateTimeField(auto_now_add=True)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # A WABA belongs to one workspace at a time (the index sees every tenant, RLS or not).
            models.UniqueConstraint(
                fields=["waba_id"], condition=~Q(status="disconnected"), name="whatsapp_account_active_waba_unique"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "status"], name="wa_account_tenant_status")]

    def __str__(self) -> str:
        return f"{self.name or 'WABA'} ({self.waba_id})"

    @property
    def is_active(self) -> bool:
        return self.status != self.Status.DISCONNECTED


class PhoneNumber(TenantScopedModel):
    class Health(models.TextChoices):
        OK = "ok", "Healthy"
        WARNING = "warning", "Warning"
        ERROR = "error", "Not sending"

    account = models.ForeignKey(WhatsAppAccount, on_delete=models.CASCADE, related_name="phone_numbers")
    phone_number_id = models.CharField(max_length=64)
    display_phone_number = models.CharField(max_length=32)
    verified_name = models.CharField(max_length=200, blank=True)
    quality_rating = models.CharField(max_length=16, blank=True, help_text="GREEN, YELLOW, RED or UNKNOWN")
    messaging_limit_tier = models.CharField(max_length=32, blank=True, help_text="e.g. TIER_1K, TIER_UNLIMITED")
    throughput_level = models.CharField(max_length=32, blank=True)
    send_rate_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="Messages per second at most, set by staff; empty: Meta's throughput level"
    )
    name_status = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=32, blank=True, help_text="Meta's status of the number")
    is_registered = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    health = models.CharField(max_length=10, choices=Health.choices, default=Health.OK)
    health_detail = models.CharField(max_length=255, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["phone_number_id"], condition=Q(is_active=True), name="whatsapp_phone_active_unique"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "account"], name="wa_phone_tenant_account")]

    def __str__(self) -> str:
        return f"{self.verified_name or 'Number'} {self.display_phone_number}"


class AccessToken(TenantScopedModel):
    """The system-user / business token of a WABA, encrypted at rest. Decrypted only in the Graph client."""

    class Status(models.TextChoices):
        VALID = "valid", "Valid"
        EXPIRING = "expiring", "Expiring soon"
        EXPIRED = "expired", "Expired"
        INVALID = "invalid", "Invalid"
        SCOPE_MISSING = "scope_missing", "Missing permissions"
        ERASED = "erased", "Erased"

    account = models.ForeignKey(WhatsAppAccount, on_delete=models.CASCADE, related_name="tokens")
    token = EncryptedTextField(null=True)
    token_type = models.CharField(max_length=32, blank=True)
    scopes = models.JSONField(default=list, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.VALID)
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(is_current=True), name="whatsapp_one_current_token"
            ),
        ]

    def __str__(self) -> str:
        return f"Token of {self.account_id} ({self.status})"

    @property
    def key_id(self) -> str:
        return self.token.key_id if self.token else ""


class OutboundMessage(TenantScopedModel):
    """One message to send, from any origin (API, inbox reply, keyword confirmation).
    The send path's ledger (whatsapp/sending/ledger.py) is the only code that moves it: queued →
    sending (an atomic claim) → sent / failed / unknown, or skipped when a rule refused it. Never sent twice:
    only a `queued` row can be claimed, and a send whose answer was lost becomes `unknown` and
    is resolved from Meta's status webhooks (`biz_opaque_callback_data` carries its id)."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Not sent (a rule refused it)"
        UNKNOWN = "unknown", "Unknown (the answer was lost)"

    class Origin(models.TextChoices):
        API = "api", "API"
        INBOX = "inbox", "Inbox reply"
        KEYWORD_REPLY = "keyword_reply", "Opt-out / opt-in confirmation"
        CAMPAIGN = "campaign", "Campaign"
        AI = "ai", "AI auto-reply"

    class Category(models.TextChoices):
        MARKETING = "MARKETING", "Marketing"
        UTILITY = "UTILITY", "Utility"
        AUTHENTICATION = "AUTHENTICATION", "Authentication"
        SERVICE = "SERVICE", "Service (free-form reply)"

    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.PROTECT, related_name="outbound_messages")
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="outbound_messages"
    )
    recipient = EncryptedTextField(help_text="The recipient's WhatsApp id (digits), encrypted")
    recipient_index = models.CharField(max_length=64, help_text="Blind index of the recipient (as conversations)")
    category = models.CharField(max_length=16, choices=Category.choices)
    content = models.JSONField(help_text="The Graph message object without `to` (customer data: never logged)")
    template = models.ForeignKey(
        "whatsapp.MessageTemplate", on_delete=models.SET_NULL, null=True, blank=True, related_name="outbound_messages"
    )
    origin = models.CharField(max_length=16, choices=Origin.choices)
    authentication_requested = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    hold_reason = models.CharField(max_length=255, blank=True, help_text="Why it waits (limits, quiet hours, pause)")
    wamid = models.CharField(max_length=255, blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_title = models.CharField(max_length=255, blank=True)
    error_detail = models.CharField(max_length=500, blank=True, help_text="What it means, in plain words")
    idempotency_key = models.CharField(max_length=128, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="outbound_once_per_key",
            )
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="outbound_due"),
            models.Index(fields=["tenant", "-created_at"], name="outbound_tenant_created"),
            models.Index(fields=["wamid"], name="outbound_wamid"),
            # A number's stream reads its queued messages oldest first (whatsapp/dispatch.py).
            models.Index(
                fields=["phone_number", "id"], name="outbound_queued_by_number", condition=models.Q(state="queued")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_origin_display()} message {self.pk} ({self.state})"


def _register_auditlog() -> None:
    from auditlog.registry import auditlog

    auditlog.register(WhatsAppAccount)
    auditlog.register(PhoneNumber)
    auditlog.register(AccessToken, exclude_fields=["token"])


_register_auditlog()


class OnboardingSession(TenantScopedModel):
    """One Embedded Signup attempt. The tracking code links the browser to it; Meta's callback
    (webhook) is matched to it by the WABA (or owner business) it learnt from the browser's session
    info or the code exchange."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        MATCHED = "matched", "Matched to a WABA"
        COMPLETED = "completed", "Completed"
        EXPIRED = "expired", "Expired"

    tracking_code = models.CharField(max_length=64, unique=True)
    started_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    waba_id = models.CharField(max_length=64, blank=True)
    business_id = models.CharField(max_length=64, blank=True, help_text="The WABA's owner business portfolio")
    phone_number_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["tenant", "status"], name="wa_onboarding_tenant_status")]

    def __str__(self) -> str:
        return f"Onboarding {self.tracking_code[:8]}… ({self.status})"


class OrphanConnection(models.Model):
    """A WABA whose sign-up callback matched no workspace ("phantom" connection). Platform staff see
    it in Django admin and assign it to a tenant. Platform-level: no tenant column, no tenant access."""

    waba_id = models.CharField(max_length=64)
    owner_business_id = models.CharField(max_length=64, blank=True)
    phone_number_ids = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=80, help_text="The webhook field or flow that reported it")
    received_at = models.DateTimeField(auto_now_add=True)
    assigned_tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assigned_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["waba_id"], condition=Q(assigned_tenant__isnull=True), name="orphan_one_open_per_waba"
            ),
        ]

    def __str__(self) -> str:
        return f"Orphan WABA {self.waba_id}"


class WebhookEvent(TenantScopedModel):
    """One POST from Meta, stored raw before anything else happens (the event store).

    The tenant is empty until processing routes the event by phone number / WABA; such rows are
    visible to platform code only. A body holds customer numbers and messages: it is encrypted at
    rest (the intake seals it before its raw INSERT), revealed only by processing, the contact
    erase and Django admin's audited detail page; never log it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        DEAD = "dead", "Dead"

    # Nullable (an event for no known number): Django lets a model override its abstract parent's
    # field, mypy does not let a subclass widen an attribute's type.
    tenant = models.ForeignKey(  # type: ignore[assignment]
        "tenants.Tenant",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="whatsapp_webhookevent_set",
        editable=False,
    )
    body = EncryptedTextField(help_text="The raw JSON Meta sent, encrypted")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    fields = models.JSONField(default=list, blank=True, help_text="The `field` of every change in the event")
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    outcome = models.JSONField(default=dict, blank=True, help_text="What processing did with each change")
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "received_at"], name="wa_webhook_status_received"),
            models.Index(fields=["tenant", "received_at"], name="wa_webhook_tenant_received"),
        ]

    def __str__(self) -> str:
        return f"Webhook {self.pk} ({self.status})"


class MessageTemplate(TenantScopedModel):
    """One template in one language of a WABA (Meta keys templates by name + language).

    DRAFT lives only here; every other status is Meta's, set by the status webhook, a refresh or a
    sync. The category Meta applies may differ from the one asked for (re-categorisation) and may
    change later (`template_category_update`): `category` is always the one in force,
    `pending_category` / `pending_category_at` an announced change, `category_history` the trail.
    """

    class Category(models.TextChoices):
        MARKETING = "MARKETING", "Marketing"
        UTILITY = "UTILITY", "Utility"
        AUTHENTICATION = "AUTHENTICATION", "Authentication"

    class Status(models.TextChoices):
        DRAFT = "DRAFT", "Draft"
        PENDING = "PENDING", "In review"
        APPROVED = "APPROVED", "Approved"
        REJECTED = "REJECTED", "Rejected"
        PAUSED = "PAUSED", "Paused"
        DISABLED = "DISABLED", "Disabled"
        FLAGGED = "FLAGGED", "Flagged"
        IN_APPEAL = "IN_APPEAL", "In appeal"
        REINSTATED = "REINSTATED", "Reinstated"
        PENDING_DELETION = "PENDING_DELETION", "Pending deletion"
        DELETED = "DELETED", "Deleted"
        LIMIT_EXCEEDED = "LIMIT_EXCEEDED", "Limit exceeded"
        ARCHIVED = "ARCHIVED", "Archived"

    class ParameterFormat(models.TextChoices):
        POSITIONAL = "POSITIONAL", "Numbered ({{1}})"
        NAMED = "NAMED", "Named ({{first_name}})"

    account = models.ForeignKey(WhatsAppAccount, on_delete=models.CASCADE, related_name="templates")
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=16)
    category = models.CharField(max_length=16, choices=Category.choices)
    requested_category = models.CharField(
        max_length=16, choices=Category.choices, blank=True, help_text="What the business asked for"
    )
    pending_category = models.CharField(max_length=16, choices=Category.choices, blank=True)
    pending_category_at = models.DateTimeField(null=True, blank=True, help_text="When Meta applies it")
    category_history = models.JSONField(default=list, blank=True)
    parameter_format = models.CharField(
        max_length=12, choices=ParameterFormat.choices, default=ParameterFormat.POSITIONAL
    )
    components = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    rejected_reason = models.CharField(max_length=255, blank=True)
    quality_score = models.CharField(max_length=16, blank=True, help_text="GREEN, YELLOW, RED or UNKNOWN")
    meta_template_id = models.CharField(max_length=64, blank=True)
    paused_count = models.PositiveSmallIntegerField(default=0)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "name", "language"],
                condition=~Q(status="DELETED"),
                name="template_one_per_name_and_language",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "status"], name="template_tenant_status"),
            models.Index(fields=["meta_template_id"], name="template_meta_id"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


def _register_template_auditlog() -> None:
    from auditlog.registry import auditlog

    auditlog.register(MessageTemplate, exclude_fields=["updated_at", "last_synced_at"])


_register_template_auditlog()
