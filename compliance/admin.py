"""Platform console: the global kill-switch; customers' WhatsApp marketing preferences; the consent
ledger (read-only: it is append-only) and each workspace's compliance settings."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from aerostic.core.admin_site import ServiceAdmin, TenantScopedAdmin, TenantScopedReadOnlyAdmin
from aerostic.core.tenant_context import tenant_context
from compliance.models import ComplianceSettings, ConsentEvent, PlatformSwitch, UserPreferenceEvent
from compliance.services import compliance_settings_update, platform_sending_set


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
class UserPreferenceEventAdmin(TenantScopedReadOnlyAdmin):
    list_display = ("id", "tenant", "category", "value", "occurred_at", "applied_at")
    list_filter = ("value", "category", "tenant")
    exclude = ("customer_wa_id", "customer_index")
    readonly_fields = ("tenant", "phone_number", "category", "value", "detail", "occurred_at", "applied_at")


@admin.register(ConsentEvent)
class ConsentEventAdmin(TenantScopedReadOnlyAdmin):
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


@admin.register(ComplianceSettings)
class ComplianceSettingsAdmin(TenantScopedAdmin, ServiceAdmin):
    """Edits go through compliance_settings_update (its checks, its audit); a refusal shows as an
    error message and changes nothing."""

    list_display = ("tenant", "quiet_hours_enabled", "quiet_hours_start", "quiet_hours_end", "marketing_cap_messages")
    readonly_fields = ("tenant", "updated_at")

    def has_add_permission(self, request):
        return False  # made with the workspace

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in form.changed_data}
        if values:
            with tenant_context(obj.tenant_id):
                compliance_settings_update(actor=request.user, request=request, **values)
