"""Platform console: the audit trail (read-only)."""

from django.contrib import admin

from aerostic.core.admin_site import TenantScopedAdmin
from aerostic.core.models import AuditEvent


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
