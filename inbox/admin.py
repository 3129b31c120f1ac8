"""Platform console: conversations and messages (read-only; bodies are customer data), and the
team inbox's rows across every workspace. Teams, labels, quick replies, inbox settings and
availability change only through inbox.settings_services, in the row's workspace scope and audited
with the staff member as the actor; they are created in the portal (a row needs its workspace).
Activity, mentions and media files are read-only; notes' texts and media files are not shown."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count

from aerostic.core.admin_site import TenantScopedAdmin, TenantScopedReadOnlyAdmin, WorkspaceRowAdmin
from aerostic.core.tenant_context import tenant_context
from inbox import settings_services
from inbox.ai import admin as ai_admin  # noqa: F401 - registers the AI auto-reply's pages
from inbox.models import (
    AgentStatus,
    Conversation,
    ConversationEvent,
    InboxSettings,
    Label,
    MediaFile,
    Mention,
    Message,
    MessageStatusEvent,
    QuickReply,
    Team,
    TeamMember,
)


class UnreadFilter(admin.SimpleListFilter):
    title = "unread"
    parameter_name = "unread"

    def lookups(self, request, model_admin):
        return (("yes", "With unread messages"), ("no", "All read"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(unread_count__gt=0)
        if self.value() == "no":
            return queryset.filter(unread_count=0)
        return queryset


@admin.register(Conversation)
class ConversationAdmin(TenantScopedAdmin):
    """Read-only: assignment, team and state change in the portal, where each change is an event."""

    list_display = (
        "id",
        "tenant",
        "customer_name",
        "phone_number",
        "status",
        "assignee",
        "team",
        "unread_count",
        "last_message_at",
        "window_expires_at",
    )
    list_filter = (
        "status",
        ("assignee", admin.RelatedOnlyFieldListFilter),
        ("team", admin.RelatedOnlyFieldListFilter),
        UnreadFilter,
        "tenant",
    )
    list_select_related = ("tenant", "phone_number", "assignee", "team")
    exclude = ("customer_wa_id", "customer_index")
    readonly_fields = (
        "tenant",
        "phone_number",
        "customer_name",
        "customer_user_id",
        "contact",
        "status",
        "snoozed_until",
        "assignee",
        "team",
        "unread_count",
        "last_message_at",
        "last_inbound_at",
        "window_expires_at",
        "created_at",
    )

    def has_add_permission(self, request):
        return False


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


class TeamMemberInline(admin.TabularInline):
    model = TeamMember
    extra = 0
    fields = ("user",)
    raw_id_fields = ("user",)

    def get_queryset(self, request):
        return TeamMember.all_tenants.select_related("user")


@admin.register(Team)
class TeamAdmin(WorkspaceRowAdmin):
    list_display = ("name", "tenant", "members", "last_assigned", "created_at")
    list_filter = ("tenant",)
    list_select_related = ("tenant", "last_assigned")
    search_fields = ("name",)
    fields = ("tenant", "name", "last_assigned", "created_at")
    readonly_fields = ("tenant", "last_assigned", "created_at")
    inlines = [TeamMemberInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(description="members", ordering="member_count")
    def members(self, obj):
        return obj.member_count

    def save_model(self, request, obj, form, change):
        if "name" in form.changed_data:
            with tenant_context(obj.tenant_id):
                settings_services.team_rename(
                    team=Team.objects.get(pk=obj.pk),
                    name=form.cleaned_data["name"],
                    actor=request.user,
                    request=request,
                )
            obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        formset.save(commit=False)
        team = form.instance
        with tenant_context(team.tenant_id):
            stored = Team.objects.get(pk=team.pk)
            if any("user" in fields for _, fields in formset.changed_objects):
                raise ValidationError("A member cannot become someone else: remove them and add the other person.")
            for member in formset.deleted_objects:
                settings_services.team_member_remove(
                    team=stored, user_id=member.user_id, actor=request.user, request=request
                )
            for member in formset.new_objects:
                settings_services.team_member_add(
                    team=stored, user_id=member.user_id, actor=request.user, request=request
                )

    def delete_model(self, request, obj):
        with tenant_context(obj.tenant_id):
            settings_services.team_delete(team=Team.objects.get(pk=obj.pk), actor=request.user, request=request)


@admin.register(Label)
class LabelAdmin(WorkspaceRowAdmin):
    list_display = ("name", "color", "tenant", "created_at")
    list_filter = ("color", "tenant")
    list_select_related = ("tenant",)
    search_fields = ("name",)
    fields = ("tenant", "name", "color", "created_at")
    readonly_fields = ("tenant", "created_at")

    def save_model(self, request, obj, form, change):
        with tenant_context(obj.tenant_id):
            settings_services.label_update(
                label=Label.objects.get(pk=obj.pk),
                name=form.cleaned_data["name"],
                color=form.cleaned_data["color"],
                actor=request.user,
                request=request,
            )
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        with tenant_context(obj.tenant_id):
            settings_services.label_delete(label=Label.objects.get(pk=obj.pk), actor=request.user, request=request)


@admin.register(QuickReply)
class QuickReplyAdmin(WorkspaceRowAdmin):
    list_display = ("shortcut", "title", "tenant", "created_by", "updated_at")
    list_filter = ("tenant",)
    list_select_related = ("tenant", "created_by")
    search_fields = ("shortcut", "title")
    fields = ("tenant", "shortcut", "title", "body", "created_by", "updated_at")
    readonly_fields = ("tenant", "created_by", "updated_at")

    def save_model(self, request, obj, form, change):
        with tenant_context(obj.tenant_id):
            settings_services.quick_reply_update(
                quick_reply=QuickReply.objects.get(pk=obj.pk),
                shortcut=form.cleaned_data["shortcut"],
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                actor=request.user,
                request=request,
            )
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        with tenant_context(obj.tenant_id):
            settings_services.quick_reply_delete(
                quick_reply=QuickReply.objects.get(pk=obj.pk), actor=request.user, request=request
            )


@admin.register(InboxSettings)
class InboxSettingsAdmin(WorkspaceRowAdmin):
    list_display = ("tenant", "send_read_receipts", "updated_at")
    list_filter = ("send_read_receipts",)
    list_select_related = ("tenant",)
    fields = ("tenant", "send_read_receipts", "updated_at")
    readonly_fields = ("tenant", "updated_at")

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        with tenant_context(obj.tenant_id):
            settings_services.inbox_settings_update(
                send_read_receipts=form.cleaned_data["send_read_receipts"], actor=request.user, request=request
            )
        obj.refresh_from_db()


@admin.register(AgentStatus)
class AgentStatusAdmin(WorkspaceRowAdmin):
    list_display = ("user", "tenant", "available", "updated_at")
    list_filter = ("available", "tenant")
    list_select_related = ("tenant", "user")
    search_fields = ("user__email",)
    fields = ("tenant", "user", "available", "updated_at")
    readonly_fields = ("tenant", "user", "updated_at")

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        with tenant_context(obj.tenant_id):
            settings_services.availability_change(
                user=obj.user, available=form.cleaned_data["available"], actor=request.user, request=request
            )
        obj.refresh_from_db()


@admin.register(ConversationEvent)
class ConversationEventAdmin(TenantScopedReadOnlyAdmin):
    """The conversations' activity trail; a note's text is the team's private data and stays out."""

    list_display = ("id", "created_at", "kind", "conversation", "actor", "tenant")
    list_filter = ("kind", "tenant")
    list_select_related = ("tenant", "actor", "conversation")
    fields = ("tenant", "conversation", "kind", "actor", "data", "created_at")
    readonly_fields = fields
    date_hierarchy = "created_at"


@admin.register(Mention)
class MentionAdmin(TenantScopedReadOnlyAdmin):
    list_display = ("id", "user", "conversation", "event", "seen_at", "tenant")
    list_filter = (("seen_at", admin.EmptyFieldListFilter), "tenant")
    list_select_related = ("tenant", "user", "event", "conversation")
    fields = ("tenant", "event", "conversation", "user", "seen_at")
    readonly_fields = fields


@admin.register(MediaFile)
class MediaFileAdmin(TenantScopedReadOnlyAdmin):
    """Customers' files: served to the workspace's members only (inbox:media), never linked here."""

    list_display = ("media_id", "mime_type", "size", "tenant", "created_at")
    list_filter = ("mime_type", "tenant")
    list_select_related = ("tenant",)
    search_fields = ("media_id",)
    fields = ("tenant", "media_id", "mime_type", "size", "sha256", "filename", "stored_as", "created_at")
    readonly_fields = fields

    @admin.display(description="stored as")
    def stored_as(self, obj):
        return obj.file.name  # the storage path as text: no link to the file
