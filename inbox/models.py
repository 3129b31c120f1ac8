"""The message store: conversations and messages (Message is range-partitioned by month in Postgres).

A customer's WhatsApp id is a phone number: stored encrypted with a keyed blind index for lookups
(DESIGN §5), the same as its contact's `phone_index`; an inbound message links its conversation to
the customer's `contacts.Contact`. Users who adopted a WhatsApp username may reach us without a
phone number (`from` empty, `from_user_id` set): their conversation is keyed by Meta's
business-scoped user id instead, with no contact.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from aerostic.core.fields import EncryptedTextField
from aerostic.core.tenant_scoped import TenantScopedModel


class Conversation(TenantScopedModel):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PENDING = "pending", "Pending"  # waiting on the customer or a third party
        SNOOZED = "snoozed", "Snoozed"  # until snoozed_until, or the customer's next message
        RESOLVED = "resolved", "Resolved"

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
    snoozed_until = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey("inbox.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    labels = models.ManyToManyField("inbox.Label", through="inbox.ConversationLabel", related_name="+", blank=True)
    unread_count = models.PositiveIntegerField(
        default=0, db_default=0, help_text="Customer messages no agent has opened yet"
    )
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    window_expires_at = models.DateTimeField(null=True, blank=True, help_text="Last inbound + 24 h")
    # The AI stays silent from an agent's takeover until a release or the conversation is resolved.
    ai_paused_at = models.DateTimeField(null=True, blank=True)
    ai_paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "phone_number", "customer_index"], name="conversation_one_per_customer_and_number"
            ),
        ]
        # The list's views, each in keyset order (inbox.selectors.conversation_page).
        indexes = [
            models.Index(fields=["tenant", "-last_message_at", "-id"], name="conversation_tenant_last"),
            models.Index(fields=["tenant", "status", "-last_message_at", "-id"], name="conversation_status_last"),
            models.Index(
                fields=["tenant", "assignee", "status", "-last_message_at", "-id"], name="conversation_assignee_last"
            ),
            models.Index(fields=["tenant", "team", "status", "-last_message_at", "-id"], name="conversation_team_last"),
            # A search by full number (its blind index), whatever the business number.
            models.Index(fields=["tenant", "customer_index"], name="conversation_by_customer"),
            models.Index(
                fields=["tenant", "snoozed_until"],
                name="conversation_snoozed",
                condition=models.Q(status="snoozed"),
            ),
        ]

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


class Team(TenantScopedModel):
    """Agents who share conversations; round-robin assignment walks its available members."""

    name = models.CharField(max_length=80)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="inbox.TeamMember", related_name="+")
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Round-robin: the member who got the last conversation",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="team_name_unique")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TeamMember(TenantScopedModel):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="team_member_once")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.team_id}"


class AgentStatus(TenantScopedModel):
    """An agent's availability in a workspace; without a row the agent is available."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    available = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="agent_status_once")]

    def __str__(self) -> str:
        return f"{self.user_id}: {'available' if self.available else 'away'}"


class Label(TenantScopedModel):
    class Color(models.TextChoices):
        GREY = "grey", "Grey"
        BLUE = "blue", "Blue"
        GREEN = "green", "Green"
        AMBER = "amber", "Amber"
        RED = "red", "Red"
        PURPLE = "purple", "Purple"

    name = models.CharField(max_length=50)
    color = models.CharField(max_length=10, choices=Color.choices, default=Color.GREY)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="label_name_unique")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ConversationLabel(TenantScopedModel):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "label"], name="conversation_label_once")]
        indexes = [models.Index(fields=["tenant", "label", "conversation"], name="conversation_label_by_label")]

    def __str__(self) -> str:
        return f"{self.label_id} on {self.conversation_id}"


class ConversationEvent(TenantScopedModel):
    """The activity trail of a conversation, shown in its timeline: who assigned, resolved, labelled,
    and agents' private notes (never shown to the customer)."""

    class Kind(models.TextChoices):
        NOTE = "note", "Note"
        ASSIGNED = "assigned", "Assigned"
        UNASSIGNED = "unassigned", "Unassigned"
        TEAM = "team", "Team changed"
        RESOLVED = "resolved", "Resolved"
        REOPENED = "reopened", "Reopened"
        PENDING = "pending", "Marked pending"
        SNOOZED = "snoozed", "Snoozed"
        LABELLED = "labelled", "Label added"
        UNLABELLED = "unlabelled", "Label removed"
        AI_REPLIED = "ai_replied", "AI replied"
        AI_HANDOVER = "ai_handover", "AI handed over"
        TAKEN_OVER = "taken_over", "Taken over from the AI"
        RELEASED = "released", "Released to the AI"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField(blank=True, help_text="A note's text; never logged")
    data = models.JSONField(default=dict, blank=True, help_text="What changed: names of the assignee, team, label")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["conversation", "created_at"], name="conversation_event_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.conversation_id}"


class Mention(TenantScopedModel):
    """A teammate named in a note (@name); unseen mentions count in the navigation."""

    event = models.ForeignKey(ConversationEvent, on_delete=models.CASCADE, related_name="mentions")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="mention_once")]
        indexes = [models.Index(fields=["tenant", "user", "seen_at"], name="mention_unseen")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.event_id}"


class QuickReply(TenantScopedModel):
    """A canned response, typed as /shortcut in the composer."""

    shortcut = models.SlugField(max_length=40, help_text="Typed after a slash: /hours")
    title = models.CharField(max_length=80)
    body = models.TextField(max_length=4096)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "shortcut"], name="quick_reply_shortcut_unique")]
        ordering = ["shortcut"]
        verbose_name_plural = "quick replies"

    def __str__(self) -> str:
        return f"/{self.shortcut}"


class InboxSettings(TenantScopedModel):
    """A workspace's inbox settings (one row, created on first save)."""

    send_read_receipts = models.BooleanField(
        default=True, help_text="Mark customers' messages as read (blue ticks) when an agent opens the conversation"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="inbox_settings_once")]
        verbose_name_plural = "inbox settings"

    def __str__(self) -> str:
        return f"Inbox settings of {self.tenant_id}"


class MediaFile(TenantScopedModel):
    """A message's media kept in Django's storage: an inbound one fetched from Meta on first view
    (checked against Meta's sha256), an outbound one as uploaded. Keyed by Meta's media id."""

    media_id = models.CharField(max_length=64)
    file = models.FileField(upload_to="inbox-media/%Y/%m/", max_length=255)
    mime_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    filename = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "media_id"], name="media_file_once")]

    def __str__(self) -> str:
        return f"{self.media_id} ({self.mime_type})"


class SearchTerm(TenantScopedModel):
    """A word of a conversation's messages or a prefix of its customer's name, as a keyed hash
    (inbox.search_terms): the search index. Postgres may use an index for `=` on a bigint under
    row-level security (a leakproof operator), never for full-text `@@`. `seen_at`: when the word
    was last written (retention deletes the terms older than its cutoff)."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    term = models.BigIntegerField()
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "term"], name="search_term_once")]
        indexes = [models.Index(fields=["tenant", "term"], name="search_term_by_term")]

    def __str__(self) -> str:
        return f"{self.term} in {self.conversation_id}"


from inbox.ai.models import AINumber, AIReply, AISettings, KnowledgeAnswer  # noqa: E402,F401  (the app's models)
