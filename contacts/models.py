"""Contacts of a workspace: who the business may message, with their number kept encrypted.

A phone number is stored as AES-GCM ciphertext plus a keyed blind index of its E.164 form
(DESIGN §5): lookups and the one-contact-per-number rule use the index, lists show a masked
number, and the plaintext is revealed only to members allowed to see it (audited). Consent lives
in the compliance app's append-only ledger; `consent_state` here is that ledger's latest word,
kept in the same transaction as the event that changed it, so audiences can filter on it.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models

from aerostic.core.fields import EncryptedTextField
from aerostic.core.tenant_scoped import TenantScopedModel


class ConsentState(models.TextChoices):
    UNKNOWN = "unknown", "No consent recorded"
    OPTED_IN = "opted_in", "Opted in"
    OPTED_OUT = "opted_out", "Opted out"


class Contact(TenantScopedModel):
    class Source(models.TextChoices):
        MANUAL = "manual", "Added by hand"
        IMPORT = "import", "CSV import"
        API = "api", "API"
        INBOUND = "inbound", "Wrote to us on WhatsApp"
        BUSINESS_APP = "business_app", "WhatsApp Business app"

    phone = EncryptedTextField(blank=True, help_text="E.164, encrypted; empty once erased")
    phone_index = models.CharField(max_length=64, blank=True, help_text="Blind index of the E.164 number")
    phone_hint = models.CharField(max_length=32, blank=True, help_text="Masked number for lists, e.g. +91 98••••21")
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 region of the number (pricing market)")
    calling_code = models.PositiveSmallIntegerField(null=True, blank=True)
    name = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=16, blank=True, help_text="Preferred template language, e.g. en_US")
    timezone = models.CharField(max_length=64, blank=True, help_text="IANA zone; from the number when unambiguous")
    tags = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    consent_state = models.CharField(max_length=16, choices=ConsentState.choices, default=ConsentState.UNKNOWN)
    consent_changed_at = models.DateTimeField(null=True, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    erased_at = models.DateTimeField(null=True, blank=True, help_text="GDPR erase: a tombstone remains")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "phone_index"],
                condition=~models.Q(phone_index=""),
                name="contact_one_per_number",
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="contact_tenant_created"),
            models.Index(fields=["tenant", "name"], name="contact_tenant_name"),
            models.Index(fields=["tenant", "consent_state"], name="contact_tenant_consent"),
            GinIndex(fields=["tags"], name="contact_tags"),
        ]

    def __str__(self) -> str:
        return self.name or self.phone_hint or f"contact {self.pk}"

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    @property
    def is_opted_in(self) -> bool:
        return self.consent_state == ConsentState.OPTED_IN


class AttributeDefinition(TenantScopedModel):
    """A custom contact field, typed, so campaign variables and segment filters know what it holds."""

    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        NUMBER = "number", "Number"
        DATE = "date", "Date"
        BOOLEAN = "boolean", "Yes / no"

    key = models.SlugField(max_length=64, help_text="Column name in imports and the key in attributes")
    label = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TEXT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "key"], name="attribute_key_once")]
        ordering = ["key"]

    def __str__(self) -> str:
        return self.label or self.key


class ContactList(TenantScopedModel):
    """A static list: contacts added by hand, by import or through the API."""

    name = models.CharField(max_length=120)
    description = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="contact_list_name_once")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ContactListMember(TenantScopedModel):
    contact_list = models.ForeignKey(ContactList, on_delete=models.CASCADE, related_name="members")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="list_memberships")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact_list", "contact"], name="contact_list_member_once")]
        indexes = [models.Index(fields=["tenant", "contact"], name="contact_list_member_contact")]


class Segment(TenantScopedModel):
    """A saved filter, evaluated when used: tags, attributes, consent, country, recent inbound."""

    name = models.CharField(max_length=120)
    filters = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="segment_name_once")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ContactImport(TenantScopedModel):
    """One CSV upload and its run. The file is kept encrypted only until the run ends."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded: map the columns"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    class OnExisting(models.TextChoices):
        UPDATE = "update", "Update existing contacts"
        SKIP = "skip", "Skip existing contacts"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    filename = models.CharField(max_length=255)
    size_bytes = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, help_text="Of the uploaded bytes: the same file again is recognised")
    content = EncryptedTextField(blank=True, help_text="The file (base64), encrypted; cleared after the run")
    encoding = models.CharField(max_length=32, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    header = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(
        default=dict, blank=True, help_text="column → phone / name / tags / language / attr:<key>"
    )
    on_existing = models.CharField(max_length=8, choices=OnExisting.choices, default=OnExisting.UPDATE)
    default_country = models.CharField(max_length=2, blank=True)
    tags_to_add = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    contact_list = models.ForeignKey(ContactList, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    consent_column = models.CharField(max_length=255, blank=True, help_text="Column saying yes / no per row")
    consent_declared = models.BooleanField(default=False, help_text="The uploader stated consent was collected")
    consent_source = models.CharField(max_length=255, blank=True, help_text="Where and how consent was collected")
    consent_collected_at = models.DateTimeField(null=True, blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    invalid_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    error_report = EncryptedTextField(blank=True, help_text="CSV of rejected rows with the reason, encrypted")
    failure = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "-created_at"], name="contact_import_tenant_created")]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == self.Status.COMPLETED else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))


def _register_auditlog() -> None:
    from auditlog.registry import auditlog

    # Audit who changed what, never the number itself (encrypted fields are excluded).
    auditlog.register(Contact, exclude_fields=["phone", "phone_index", "updated_at"])
    auditlog.register(AttributeDefinition)
    auditlog.register(ContactList)
    auditlog.register(Segment)


_register_auditlog()
