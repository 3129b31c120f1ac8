"""Platform console: WhatsApp accounts, numbers (with breaker state) and tokens (never their value)."""

from django.contrib import admin

from aerostic.core.admin_site import TenantScopedAdmin
from whatsapp.graph.breaker import CircuitBreaker
from whatsapp.models import AccessToken, PhoneNumber, WhatsAppAccount


class PhoneNumberInline(admin.TabularInline):
    model = PhoneNumber
    extra = 0
    can_delete = False
    fields = (
        "display_phone_number",
        "verified_name",
        "quality_rating",
        "messaging_limit_tier",
        "is_registered",
        "is_active",
        "health",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return PhoneNumber.all_tenants.all()

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WhatsAppAccount)
class WhatsAppAccountAdmin(TenantScopedAdmin):
    list_display = ("name", "waba_id", "tenant", "mode", "status", "webhooks_subscribed", "connected_at", "breaker")
    list_filter = ("status", "mode", "tenant")
    search_fields = ("waba_id", "name", "business_id")
    readonly_fields = (
        "tenant",
        "waba_id",
        "business_id",
        "connected_by",
        "connected_at",
        "disconnected_at",
        "last_checked_at",
        "breaker",
    )
    inlines = [PhoneNumberInline]

    @admin.display(description="Circuit breaker")
    def breaker(self, obj):
        state = CircuitBreaker(f"waba:{obj.waba_id}").state()
        return f"{state.state} ({state.failures} recent failures)"


@admin.register(PhoneNumber)
class PhoneNumberAdmin(TenantScopedAdmin):
    list_display = (
        "display_phone_number",
        "verified_name",
        "tenant",
        "quality_rating",
        "messaging_limit_tier",
        "is_registered",
        "is_active",
        "health",
    )
    list_filter = ("quality_rating", "health", "is_active", "tenant")
    search_fields = ("display_phone_number", "verified_name", "phone_number_id")
    readonly_fields = ("tenant", "account", "phone_number_id")


@admin.register(AccessToken)
class AccessTokenAdmin(TenantScopedAdmin):
    list_display = (
        "account",
        "tenant",
        "status",
        "token_type",
        "expires_at",
        "key_id",
        "is_current",
        "last_checked_at",
    )
    list_filter = ("status", "is_current")
    exclude = ("token",)
    readonly_fields = (
        "tenant",
        "account",
        "token_type",
        "scopes",
        "expires_at",
        "key_id",
        "is_current",
        "created_at",
        "last_checked_at",
        "erased_at",
    )

    def has_add_permission(self, request):
        return False
