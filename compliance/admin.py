"""Platform console: the global kill-switch."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from compliance.models import PlatformSwitch
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
