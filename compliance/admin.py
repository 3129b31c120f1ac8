"""Platform console: the global kill-switch; customers' WhatsApp marketing preferences; the consent
ledger (read-only: it is append-only) and each workspace's compliance settings."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from aerostic.core.admin_site import TenantScopedAdmin
from compliance.models import ComplianceSettings, ConsentEvent, PlatformSwitch, UserPreferenceEvent
from compliance.services import platform_sending_set


@admin.register(PlatformSwitch)
class PlatformSwitchAdmin(admin.ModelAdmin):
    list_display = ("__str__", "sending_enabled", "reason", "changed_by", "changed_at")
    fields = ("sending_enabled", "reason", "changed_by", "changed_at")
    readonly_fields = ("changed_by", "changed_at")

    def has_add_permission(self, request):
        return False  # the single row is created by migration 0002

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            platform_sending_set(enabled=obj.sending_enabled, reason=obj.reason, actor=request.user, request=request)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), level=messages.ERROR)


@admin.register(UserPreferenceEvent)
class UserPreferenceEventAdmin(TenantScopedAdmin):
    list_display = ("id", "tenant", "category", "value", "occurred_at", "applied_at")
    list_filter = ("value", "category", "tenant")
    exclude = ("customer_wa_id", "customer_index")
    readonly_fields = ("tenant", "phone_number", "category", "value", "detail", "occurred_at", "applied_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ConsentEvent)
class ConsentEventAdmin(TenantScopedAdmin):
    list_display = ("id", "tenant", "contact", "kind", "source", "occurred_at", "recorded_at")
    list_filter = ("kind", "source", "tenant")
    readonly_fields = (
        "tenant",
        "contact",
        "kind",
        "channel",
        "source",
        "evidence",
        "actor",
        "occurred_at",
        "recorded_at",
    )
    exclude = ("dedupe_key",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ComplianceSettings)
class ComplianceSettingsAdmin(TenantScopedAdmin):
    list_display = ("tenant", "quiet_hours_enabled", "quiet_hours_start", "quiet_hours_end", "marketing_cap_messages")
    readonly_fields = ("tenant", "updated_at")
