"""Platform console: the audit trail (read-only)."""

from django.contrib import admin

from aerostic.core.admin_site import TenantScopedAdmin
from aerostic.core.models import Alert, AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(TenantScopedAdmin):
    list_display = ("created_at", "action", "tenant", "actor_email", "target_repr", "ip_address")
    list_filter = ("action", "tenant")
    search_fields = ("action", "actor_email", "target_repr")
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Alert)
class AlertAdmin(TenantScopedAdmin):
    list_display = ("updated_at", "level", "title", "tenant", "resolved_at")
    list_filter = ("level", ("resolved_at", admin.EmptyFieldListFilter), "tenant")
    search_fields = ("title", "key")
    readonly_fields = ("tenant", "key", "level", "title", "detail", "created_at", "updated_at")
    actions = ["resolve"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Mark resolved")
    def resolve(self, request, queryset):
        from django.utils import timezone

        self.message_user(request, f"{queryset.filter(resolved_at=None).update(resolved_at=timezone.now())} resolved.")
