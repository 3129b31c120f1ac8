"""Platform console: the global kill-switch; customers' WhatsApp marketing preferences."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from aerostic.core.admin_site import TenantScopedAdmin
from compliance.models import PlatformSwitch, UserPreferenceEvent
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
