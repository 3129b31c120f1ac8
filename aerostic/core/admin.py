"""Platform console: the audit trail, alerts and the workspaces' alert channels (read-only; staff
acknowledge and resolve alerts through the services, audited)."""

from django.contrib import admin

from aerostic.core.admin_site import ServiceAdmin, TenantScopedReadOnlyAdmin
from aerostic.core.alert_channels import webhook_hint
from aerostic.core.alerts import alert_acknowledge, alert_resolve
from aerostic.core.models import Alert, AlertChannel, AuditEvent


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
    list_display = ("updated_at", "level", "title", "tenant", "acknowledged_at", "resolved_at", "notice")
    list_filter = (
        "level",
        ("resolved_at", admin.EmptyFieldListFilter),
        ("acknowledged_at", admin.EmptyFieldListFilter),
        "tenant",
    )
    list_select_related = ("tenant",)
    search_fields = ("title", "key")
    _what = ("tenant", "key", "level", "title", "detail", "created_at", "updated_at")
    _handled = ("acknowledged_at", "acknowledged_by", "resolved_at", "resolved_by")
    _notices = ("notified_at", "recovery_notified_at", "notice_attempts", "notice_error", "notice_claimed_at")
    fieldsets = ((None, {"fields": _what}), ("Handled", {"fields": _handled}), ("Notices", {"fields": _notices}))
    readonly_fields = _what + _handled + _notices
    actions = ["acknowledge", "resolve"]

    @admin.display(description="notice")
    def notice(self, obj: Alert) -> str:
        """Where its notices stand: failing (why), owed, told."""
        if obj.notice_error:
            return f"failing: {obj.notice_error}"
        if obj.resolved_at:
            return "recovery told" if obj.recovery_notified_at else ("owed" if obj.notified_at else "—")
        return "told" if obj.notified_at else "owed"

    @admin.action(description="Acknowledge")
    def acknowledge(self, request, queryset):
        acknowledged = sum(
            alert_acknowledge(alert=alert, actor=request.user, request=request)
            for alert in queryset.filter(resolved_at=None, acknowledged_at=None)
        )
        self.message_user(request, f"{acknowledged} acknowledged.")

    @admin.action(description="Mark resolved")
    def resolve(self, request, queryset):
        resolved = sum(
            alert_resolve(alert=alert, actor=request.user, request=request)
            for alert in queryset.filter(resolved_at=None)
        )
        self.message_user(request, f"{resolved} resolved.")


@admin.register(AlertChannel)
class AlertChannelAdmin(TenantScopedReadOnlyAdmin):
    """A workspace's channels, changed by the workspace itself (portal, API). The webhook URL is a
    secret: excluded from the page, shown only as its host."""

    list_display = ("name", "tenant", "kind", "min_level", "enabled", "last_delivered_at", "last_error")
    list_filter = ("kind", "enabled", "tenant")
    list_select_related = ("tenant",)
    search_fields = ("name", "emails")
    exclude = ("slack_webhook_url",)
    readonly_fields = (
        "tenant",
        "name",
        "kind",
        "emails",
        "webhook",
        "min_level",
        "enabled",
        "created_at",
        "last_delivered_at",
        "last_error",
    )

    @admin.display(description="webhook")
    def webhook(self, obj: AlertChannel) -> str:
        return webhook_hint(obj) or "—"
