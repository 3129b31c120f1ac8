"""Platform console: contacts (masked numbers, read-only: staff fix data through the portal or the
owner), lists, segments, attribute definitions and imports (never the uploaded file)."""

from django.contrib import admin

from aerostic.core.admin_site import TenantScopedReadOnlyAdmin
from contacts.models import AttributeDefinition, Contact, ContactImport, ContactList, Segment


@admin.register(Contact)
class ContactAdmin(TenantScopedReadOnlyAdmin):
    list_display = (
        "id",
        "tenant",
        "name",
        "phone_hint",
        "country",
        "consent_state",
        "source",
        "created_at",
        "erased_at",
    )
    list_filter = ("consent_state", "source", "tenant")
    search_fields = ("name",)
    exclude = ("phone", "phone_index")
    readonly_fields = (
        "tenant",
        "name",
        "phone_hint",
        "country",
        "calling_code",
        "language",
        "timezone",
        "tags",
        "attributes",
        "source",
        "consent_state",
        "consent_changed_at",
        "last_inbound_at",
        "created_at",
        "updated_at",
        "erased_at",
    )


@admin.register(ContactList)
class ContactListAdmin(TenantScopedReadOnlyAdmin):
    list_display = ("id", "tenant", "name", "created_at")
    list_filter = ("tenant",)


@admin.register(Segment)
class SegmentAdmin(TenantScopedReadOnlyAdmin):
    list_display = ("id", "tenant", "name", "updated_at")
    list_filter = ("tenant",)
    readonly_fields = ("tenant", "name", "filters", "created_at", "updated_at")


@admin.register(AttributeDefinition)
class AttributeDefinitionAdmin(TenantScopedReadOnlyAdmin):
    list_display = ("id", "tenant", "key", "label", "kind")
    list_filter = ("kind", "tenant")


@admin.register(ContactImport)
class ContactImportAdmin(TenantScopedReadOnlyAdmin):
    list_display = (
        "id",
        "tenant",
        "filename",
        "status",
        "total_rows",
        "created_count",
        "updated_count",
        "invalid_count",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "tenant")
    exclude = ("content", "error_report")
    readonly_fields = (
        "tenant",
        "filename",
        "status",
        "size_bytes",
        "sha256",
        "encoding",
        "delimiter",
        "header",
        "mapping",
        "on_existing",
        "default_country",
        "consent_column",
        "consent_declared",
        "consent_source",
        "consent_collected_at",
        "total_rows",
        "processed_rows",
        "created_count",
        "updated_count",
        "skipped_count",
        "invalid_count",
        "duplicate_count",
        "failure",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
    )
