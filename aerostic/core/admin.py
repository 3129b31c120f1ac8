"""Platform console: the audit trail and alerts (read-only; staff resolve alerts through the service)."""

from django.contrib import admin

from aerostic.core.admin_site import ServiceAdmin, TenantScopedReadOnlyAdmin
from aerostic.core.alerts import alert_resolve_by_staff
from aerostic.core.models import Alert, AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(TenantScopedReadOnlyAdmin):
    list_display = ("created_at", "action", "tenant", "actor_email", "target_repr", "ip_address")
    list_filter = ("action", "tenant")
    search_fields = ("action", "actor_email", "target_repr")
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in AuditEvent._meta.fields]


@admin.register(Alert)
class AlertAdmin(TenantScopedReadOnlyAdmin, ServiceAdmin):
    list_display = ("updated_at", "level", "title", "tenant", "resolved_at")
    list_filter = ("level", ("resolved_at", admin.EmptyFieldListFilter), "tenant")
    search_fields = ("title", "key")
    readonly_fields = ("tenant", "key", "level", "title", "detail", "created_at", "updated_at", "resolved_at")
    actions = ["resolve"]

    @admin.action(description="Mark resolved")
    def resolve(self, request, queryset):
        resolved = sum(
            alert_resolve_by_staff(alert=alert, actor=request.user, request=request)
            for alert in queryset.filter(resolved_at=None)
        )
        self.message_user(request, f"{resolved} resolved.")
