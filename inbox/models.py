"""The message store: conversations and messages (Message is range-partitioned by month in Postgres).

A customer's WhatsApp id is a phone number: stored encrypted with a keyed blind index for lookups
(DESIGN §5), the same as its contact's `phone_index`; an inbound message links its conversation to
the customer's `contacts.Contact`. Users who adopted a WhatsApp username may reach us without a
phone number (`from` empty, `from_user_id` set): their conversation is keyed by Meta's
business-scoped user id instead, with no contact.
"""

from __future__ import annotations

from django.db import models

from aerostic.core.fields import EncryptedTextField
from aerostic.core.tenant_scoped import TenantScopedModel


class Conversation(TenantScopedModel):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    phone_number = models.ForeignKey("whatsapp.PhoneNumber", on_delete=models.PROTECT, related_name="conversations")
    customer_wa_id = EncryptedTextField()
    customer_index = models.CharField(
        max_length=64, help_text="Blind index of the customer's WhatsApp id (or of their user id when hidden)"
    )
    customer_user_id = models.CharField(
        max_length=128, blank=True, help_text="Meta's business-scoped user id (users with a username)"
    )
    customer_name = models.CharField(max_length=200, blank=True)
    contact = models.ForeignKey(
        "contacts.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        help_text="The customer's contact; empty for users who hide their number behind a username",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    window_expires_at = models.DateTimeField(null=True, blank=True, help_text="Last inbound + 24 h")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "phone_number", "customer_index"], name="conversation_one_per_customer_and_number"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "-last_message_at"], name="conversation_tenant_last")]

    def __str__(self) -> str:
        return f"Conversation {self.pk} with {self.customer_name or 'customer'}"


class Message(TenantScopedModel):
    """One message, either way. Partitioned by month on created_at (see migration 0002); the primary
    key in Postgres is (id, created_at), and wamid uniqueness lives in MessageKey."""

    class Direction(models.TextChoices):
        INBOUND = "in", "Inbound"
        OUTBOUND = "out", "Outbound"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        READ = "read", "Read"
        FAILED = "failed", "Failed"
        DELETED = "deleted", "Deleted"
        UNKNOWN = "unknown", "Unknown"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages", db_constraint=False
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    type = models.CharField(max_length=32)
    wamid = models.CharField(max_length=255, db_index=True)
    body = models.TextField(blank=True, help_text="Text of a text message; never logged")
    payload = models.JSONField(
        default=dict, blank=True, help_text="Meta's message object without numbers or ids of people (inbox.payloads)"
    )
    sealed_payload = EncryptedTextField(
        null=True,
        blank=True,
        help_text="Parts naming other people (shared contact cards, system notices), encrypted JSON",
    )
    status = models.CharField(max_length=12, choices=Status.choices)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_title = models.CharField(max_length=255, blank=True)
    pricing_category = models.CharField(max_length=32, blank=True)
    pricing = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=False)

    class Meta:
        indexes = [models.Index(fields=["conversation", "created_at"], name="message_conversation_created")]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.type} {self.wamid}"


class MessageKey(TenantScopedModel):
    """Unpartitioned: makes wamid unique across all partitions (Postgres needs the partition key in
    every unique constraint of a partitioned table) and finds a message's partition by its time."""

    wamid = models.CharField(max_length=255, unique=True)
    message_id = models.BigIntegerField()
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.wamid


class MessageStatusEvent(TenantScopedModel):
    """Each status Meta reported, once: unique on (wamid, status). A status for a message not stored
    yet waits here (applied = False) and is applied when the message appears."""

    wamid = models.CharField(max_length=255)
    status = models.CharField(max_length=12)
    occurred_at = models.DateTimeField()
    recipient_index = models.CharField(max_length=64, blank=True)
    errors = models.JSONField(default=list, blank=True)
    pricing = models.JSONField(default=dict, blank=True)
    conversation_info = models.JSONField(default=dict, blank=True)
    applied = models.BooleanField(default=False)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["wamid", "status"], name="status_event_once")]
        indexes = [models.Index(fields=["tenant", "applied"], name="status_event_tenant_applied")]

    def __str__(self) -> str:
        return f"{self.wamid} {self.status}"
