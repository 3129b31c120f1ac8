"""Platform console for the AI auto-reply, across every workspace (registered by inbox.admin): the
settings and knowledge pairs change only through inbox.ai.services, in the row's workspace scope
and audited with the staff member as the actor; the chat model's key is never shown (only whether
one is stored). The numbers and the AI's decisions are read-only; nothing is added here (a row
needs its workspace: the portal creates them)."""

from django.contrib import admin
from django.db import models

from aerostic.core.admin_site import TenantScopedReadOnlyAdmin, WorkspaceRowAdmin
from aerostic.core.tenant_context import tenant_context
from inbox.ai import services
from inbox.ai.models import AINumber, AIReply, AISettings, KnowledgeAnswer

SETTINGS_FIELDS = (
    "enabled",
    "provider",
    "threshold",
    "daily_reply_cap",
    "blocked_words",
    "chat_base_url",
    "chat_model",
)


@admin.register(AISettings)
class AISettingsAdmin(WorkspaceRowAdmin):
    list_display = ("tenant", "enabled", "provider", "threshold", "daily_reply_cap", "chat_key_stored", "updated_at")
    list_filter = ("enabled", "provider")
    list_select_related = ("tenant",)
    fields = ("tenant", *SETTINGS_FIELDS, "chat_key_stored", "handover_team", "knowledge_version", "updated_at")
    readonly_fields = ("tenant", "chat_key_stored", "handover_team", "knowledge_version", "updated_at")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="chat key stored", boolean=True)
    def chat_key_stored(self, obj):
        return obj.has_chat_api_key

    def save_model(self, request, obj, form, change):
        changed = {field: form.cleaned_data[field] for field in SETTINGS_FIELDS if field in form.changed_data}
        with tenant_context(obj.tenant_id):
            services.ai_settings_update(actor=request.user, request=request, **changed)
        obj.refresh_from_db()


@admin.register(KnowledgeAnswer)
class KnowledgeAnswerAdmin(WorkspaceRowAdmin):
    list_display = ("question", "language", "enabled", "tenant", "updated_at")
    list_filter = ("enabled", "language", "tenant")
    list_select_related = ("tenant",)
    search_fields = ("question", "alternates")
    fields = ("tenant", "language", "question", "alternates", "answer", "enabled", "created_by", "updated_at")
    readonly_fields = ("tenant", "created_by", "updated_at")

    def save_model(self, request, obj, form, change):
        with tenant_context(obj.tenant_id):
            services.knowledge_save(
                pair=KnowledgeAnswer.objects.get(pk=obj.pk),
                **{field: form.cleaned_data[field] for field in ("language", "question", "alternates", "answer")},
                enabled=form.cleaned_data["enabled"],
                actor=request.user,
                request=request,
            )
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        with tenant_context(obj.tenant_id):
            services.knowledge_delete(pair=KnowledgeAnswer.objects.get(pk=obj.pk), actor=request.user, request=request)


@admin.register(AINumber)
class AINumberAdmin(TenantScopedReadOnlyAdmin):
    list_display = ("phone_number", "tenant")
    list_filter = ("tenant",)
    list_select_related = ("tenant", "phone_number")
    fields = ("tenant", "phone_number")
    readonly_fields = fields


@admin.register(AIReply)
class AIReplyAdmin(TenantScopedReadOnlyAdmin):
    """What the AI did with each customer message it looked at; the reply's text is in the message."""

    list_display = (
        "created_at",
        "conversation",
        "outcome",
        "rule",
        "confidence",
        "intent",
        "provider",
        "model",
        "tokens",
        "tenant",
    )
    list_filter = ("outcome", "rule", "provider", "tenant")
    list_select_related = ("tenant", "conversation")
    fields = (
        "tenant",
        "conversation",
        "wamid",
        "outcome",
        "rule",
        "reason",
        "confidence",
        "intent",
        "source",
        "source_question",
        "provider",
        "model",
        "prompt_tokens",
        "completion_tokens",
        "outbound",
        "created_at",
    )
    readonly_fields = fields
    date_hierarchy = "created_at"

    @admin.display(description="tokens")
    def tokens(self, obj):
        return obj.prompt_tokens + obj.completion_tokens
