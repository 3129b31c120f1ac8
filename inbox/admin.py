"""Platform console: conversations and messages (read-only; bodies are customer data)."""

from django.contrib import admin

from aerostic.core.admin_site import TenantScopedAdmin
from inbox.models import Conversation, Message, MessageStatusEvent


@admin.register(Conversation)
class ConversationAdmin(TenantScopedAdmin):
    list_display = ("id", "tenant", "customer_name", "phone_number", "status", "last_message_at", "window_expires_at")
    list_filter = ("status", "tenant")
    exclude = ("customer_wa_id", "customer_index")
    readonly_fields = (
        "tenant",
        "phone_number",
        "customer_name",
        "status",
        "last_message_at",
        "last_inbound_at",
        "window_expires_at",
        "created_at",
    )


@admin.register(Message)
class MessageAdmin(TenantScopedAdmin):
    list_display = ("id", "tenant", "direction", "type", "status", "created_at", "error_code")
    list_filter = ("direction", "status", "type")
    exclude = ("body", "payload", "sealed_payload")
    readonly_fields = (
        "tenant",
        "conversation",
        "direction",
        "type",
        "wamid",
        "status",
        "sent_at",
        "delivered_at",
        "read_at",
        "failed_at",
        "error_code",
        "error_title",
        "pricing_category",
        "pricing",
        "created_at",
    )

    def has_add_permission(self, request):
        return False


@admin.register(MessageStatusEvent)
class MessageStatusEventAdmin(TenantScopedAdmin):
    list_display = ("wamid", "status", "tenant", "occurred_at", "applied")
    list_filter = ("status", "applied")
    readonly_fields = ("tenant", "wamid", "status", "occurred_at", "errors", "pricing", "conversation_info", "applied")
    exclude = ("recipient_index",)

    def has_add_permission(self, request):
        return False
