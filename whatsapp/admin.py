"""Platform console: WhatsApp accounts, numbers (with breaker state) and tokens (never their value)."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path

from aerostic.core.admin_site import ServiceAdmin, TenantScopedAdmin
from aerostic.core.crypto import DecryptionError
from aerostic.core.errors import DomainError
from aerostic.core.tenant_context import tenant_context
from tenants.models import Tenant
from whatsapp.connections.numbers import PHONE_STAFF_FIELDS, phone_number_staff_update
from whatsapp.connections.tokens import token_health_check, token_rotate
from whatsapp.graph.breaker import CircuitBreaker
from whatsapp.models import (
    AccessToken,
    MessageTemplate,
    OnboardingSession,
    OrphanConnection,
    OutboundMessage,
    PhoneNumber,
    WebhookEvent,
    WhatsAppAccount,
)


class RotateTokenForm(forms.Form):
    token = forms.CharField(widget=forms.PasswordInput(render_value=False), label="New system-user token")


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

    def get_urls(self):
        custom = [
            path(
                "<int:account_id>/rotate-token/",
                self.admin_site.admin_view(self.rotate_token_view),
                name="whatsapp_whatsappaccount_rotate_token",
            )
        ]
        return custom + super().get_urls()

    def rotate_token_view(self, request, account_id):
        account = get_object_or_404(WhatsAppAccount.all_tenants, pk=account_id)
        form = RotateTokenForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                token_rotate(account=account, new_token=form.cleaned_data["token"], actor=request.user, request=request)
            except DomainError as problem:
                form.add_error("token", problem.message)
            else:
                messages.success(request, f"Token of {account} rotated; the old one is erased.")
                return redirect("admin:whatsapp_whatsappaccount_change", account.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Rotate the token of {account}",
            "form": form,
            "account": account,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/whatsapp/rotate_token.html", context)

    @admin.display(description="Circuit breaker")
    def breaker(self, obj):
        state = CircuitBreaker(f"waba:{obj.waba_id}").state()
        return f"{state.state} ({state.failures} recent failures)"


@admin.register(PhoneNumber)
class PhoneNumberAdmin(TenantScopedAdmin, ServiceAdmin):
    list_display = (
        "display_phone_number",
        "verified_name",
        "tenant",
        "quality_rating",
        "messaging_limit_tier",
        "send_rate_limit",
        "is_registered",
        "is_active",
        "health",
    )
    list_filter = ("quality_rating", "health", "is_active", "tenant")
    search_fields = ("display_phone_number", "verified_name", "phone_number_id")
    # Staff set the tier, the send-rate cap and is_active through the service (checked, audited);
    # everything else mirrors Meta and is read-only here.
    fields = ("tenant", "account", "phone_number_id", "display_phone_number", "verified_name", *PHONE_STAFF_FIELDS)

    def get_readonly_fields(self, request, obj=None):
        return [name for name in self.fields if name not in PHONE_STAFF_FIELDS]

    def has_add_permission(self, request):
        return False  # numbers arrive by connecting an account

    def has_delete_permission(self, request, obj=None):
        return False  # switch it off (is_active) or disconnect the account

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in form.changed_data if name in PHONE_STAFF_FIELDS}
        if values:
            with tenant_context(obj.tenant_id):
                phone_number_staff_update(phone=obj, actor=request.user, request=request, **values)


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
    actions = ["check_now"]

    @admin.action(description="Check the selected tokens with Meta now")
    def check_now(self, request, queryset):
        results = [token_health_check(token_row=row) for row in queryset.filter(is_current=True).exclude(token=None)]
        self.message_user(request, f"Checked {len(results)} token(s): " + ", ".join(results))

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


@admin.register(OnboardingSession)
class OnboardingSessionAdmin(TenantScopedAdmin):
    list_display = ("tracking_code", "tenant", "status", "waba_id", "created_at", "expires_at")
    list_filter = ("status",)
    readonly_fields = ("tenant", "tracking_code", "started_by", "status", "waba_id", "created_at", "expires_at")

    def has_add_permission(self, request):
        return False


class AssignOrphanForm(forms.Form):
    tenant = forms.ModelChoiceField(queryset=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant"].queryset = Tenant.objects.filter(status=Tenant.Status.ACTIVE)


@admin.register(OrphanConnection)
class OrphanConnectionAdmin(admin.ModelAdmin):
    list_display = ("waba_id", "owner_business_id", "source", "received_at", "assigned_tenant", "assigned_at")
    list_filter = (("assigned_tenant", admin.EmptyFieldListFilter), "source")
    search_fields = ("waba_id", "owner_business_id")
    readonly_fields = (
        "waba_id",
        "owner_business_id",
        "phone_number_ids",
        "source",
        "received_at",
        "assigned_tenant",
        "assigned_by",
        "assigned_at",
        "assign_link",
    )

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        custom = [
            path(
                "<int:orphan_id>/assign/",
                self.admin_site.admin_view(self.assign_view),
                name="whatsapp_orphanconnection_assign",
            )
        ]
        return custom + super().get_urls()

    @admin.display(description="Assign")
    def assign_link(self, obj):
        from django.urls import reverse
        from django.utils.html import format_html

        if obj.pk is None or obj.assigned_tenant_id:
            return "-"
        return format_html(
            '<a href="{}">Assign to a workspace…</a>', reverse("admin:whatsapp_orphanconnection_assign", args=[obj.pk])
        )

    def assign_view(self, request, orphan_id):
        from whatsapp.connections.onboarding import orphan_assign

        orphan = get_object_or_404(OrphanConnection, pk=orphan_id)
        form = AssignOrphanForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                orphan_assign(orphan=orphan, tenant=form.cleaned_data["tenant"], actor=request.user, request=request)
            except DomainError as problem:
                form.add_error(None, problem.message)
            else:
                messages.success(request, f"WABA {orphan.waba_id} assigned; the workspace admins were alerted.")
                return redirect("admin:whatsapp_orphanconnection_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Assign WABA {orphan.waba_id}",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/whatsapp/assign_orphan.html", context)


class WebhookFieldFilter(admin.SimpleListFilter):
    title = "field"
    parameter_name = "field"

    def lookups(self, request, model_admin):
        from whatsapp.webhooks.handlers import NOT_YET_HANDLED, TENANT_HANDLERS

        return [(name, name) for name in sorted({*TENANT_HANDLERS, *NOT_YET_HANDLED})]

    def queryset(self, request, queryset):
        return queryset.filter(fields__contains=[self.value()]) if self.value() else queryset


@admin.register(WebhookEvent)
class WebhookEventAdmin(TenantScopedAdmin):
    """The event store and its dead letters. The body is encrypted at rest: the list never shows it;
    an event's own page decrypts it for staff, and each such view writes an audit event."""

    list_display = ("id", "received_at", "status", "field_list", "tenant", "attempts", "short_error")
    list_filter = ("status", WebhookFieldFilter, "tenant")
    date_hierarchy = "received_at"
    readonly_fields = (
        "tenant",
        "received_at",
        "status",
        "fields",
        "attempts",
        "last_error",
        "outcome",
        "processed_at",
    )
    exclude = ("body",)
    actions = ["replay"]
    change_form_template = "admin/whatsapp/webhookevent/change_form.html"

    def has_add_permission(self, request):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        from django.contrib.admin.utils import unquote

        from whatsapp.webhooks.events import webhook_body_reveal

        extra_context = dict(extra_context or {})
        event = self.get_object(request, unquote(object_id)) if request.method in ("GET", "HEAD") else None
        if event is not None and self.has_view_permission(request, event):
            try:
                extra_context["raw_body"] = webhook_body_reveal(event=event, actor=request.user, request=request)
            except DecryptionError as error:
                extra_context["raw_body_problem"] = str(error)
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="fields")
    def field_list(self, obj):
        return ", ".join(obj.fields)

    @admin.display(description="last error")
    def short_error(self, obj):
        return obj.last_error[:80]

    @admin.action(description="Replay (process again)")
    def replay(self, request, queryset):
        from whatsapp.webhooks.replay import webhook_replay

        count = webhook_replay(event_ids=list(queryset.values_list("pk", flat=True)), actor=request.user)
        self.message_user(request, f"{count} event(s) queued again.")


@admin.register(MessageTemplate)
class MessageTemplateAdmin(TenantScopedAdmin):
    """Read-only for staff: templates change through Meta (the portal's builder, sync, webhooks)."""

    list_display = ("name", "language", "tenant", "account", "category", "status", "quality_score", "updated_at")
    list_filter = ("status", "category", "language", "tenant")
    search_fields = ("name", "meta_template_id")
    readonly_fields = [field.name for field in MessageTemplate._meta.fields]
    actions = ["sync_from_meta"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD") and super().has_change_permission(request, obj)

    @admin.action(description="Sync the selected templates' accounts from Meta")
    def sync_from_meta(self, request, queryset):
        from whatsapp.message_templates.services import templates_sync

        accounts = {row.account_id: row.account for row in queryset.select_related("account")}
        for account in accounts.values():
            try:
                with tenant_context(account.tenant_id):
                    result = templates_sync(account=account, actor=request.user, request=request)
            except DomainError as problem:
                self.message_user(request, f"{account}: {problem.message}", level=messages.ERROR)
            else:
                self.message_user(
                    request, f"{account}: {result.created} new, {result.updated} updated, {result.deleted} deleted."
                )


@admin.register(OutboundMessage)
class OutboundMessageAdmin(TenantScopedAdmin):
    """Sends and what became of them (read-only; the recipient and the content are customer data)."""

    list_display = ("id", "tenant", "origin", "category", "state", "attempts", "error_code", "created_at", "sent_at")
    list_filter = ("state", "origin", "category", "tenant")
    exclude = ("recipient", "recipient_index", "content", "idempotency_key")
    readonly_fields = (
        "tenant",
        "phone_number",
        "contact",
        "category",
        "template",
        "origin",
        "authentication_requested",
        "state",
        "attempts",
        "next_attempt_at",
        "hold_reason",
        "wamid",
        "error_code",
        "error_title",
        "error_detail",
        "created_by",
        "created_at",
        "claimed_at",
        "sent_at",
        "updated_at",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
