"""Platform console: campaigns (read-only, with their live stats; staff may pause or cancel one
through the services, in the campaign's workspace scope, audited) and their recipients (read-only,
numbers masked)."""

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from aerostic.core.admin_site import TenantScopedAdmin
from aerostic.core.errors import DomainError
from aerostic.core.tenant_context import tenant_context
from campaigns import selectors, services
from campaigns.models import Campaign, CampaignMessage, CampaignVariant


class CampaignVariantInline(admin.TabularInline):
    model = CampaignVariant
    extra = 0
    can_delete = False
    fields = ("label", "template", "percentage", "mapping")
    readonly_fields = fields

    def get_queryset(self, request):
        return CampaignVariant.all_tenants.select_related("template")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Campaign)
class CampaignAdmin(TenantScopedAdmin):
    list_display = ("name", "tenant", "status", "recipients", "launched_at")
    list_filter = ("status", "tenant")
    list_select_related = ("tenant",)
    search_fields = ("name",)
    ordering = ("-created_at",)
    fields = (
        "tenant",
        "name",
        "status",
        "status_reason",
        "phone_number",
        "list_ids",
        "segment_ids",
        "send_at",
        "stats_summary",
        "recipients_total",
        "skip_reasons",
        "estimate",
        "created_by",
        "launched_by",
        "created_at",
        "launched_at",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields
    inlines = [CampaignVariantInline]
    actions = ["pause", "cancel"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # drafts change in the portal; staff only pause or cancel (the actions)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="recipients", ordering="recipients_total")
    def recipients(self, obj):
        return obj.recipients_total

    @admin.display(description="Stats")
    def stats_summary(self, obj):
        if obj.pk is None:
            return "-"
        with tenant_context(obj.tenant_id):
            stats = selectors.campaign_stats(obj)
        rates = ", ".join(
            f"{label} {value}%"
            for label, value in (
                ("delivered", stats.delivery_rate),
                ("read", stats.read_rate),
                ("failed", stats.failure_rate),
            )
            if value is not None
        )
        counts = format_html_join(", ", "{} {}", ((count, state) for state, count in stats.counts.items() if count))
        return format_html(
            "{} of {} done ({}%){}{}<br>{}",
            stats.done,
            stats.total,
            stats.progress_percent,
            " · " if rates else "",
            rates,
            counts or "no recipients yet",
        )

    @admin.action(description="Pause the selected campaigns")
    def pause(self, request, queryset):
        self._each(
            request,
            queryset,
            "paused",
            lambda campaign: services.campaign_pause(
                campaign=campaign, actor=request.user, reason="Paused by platform staff.", request=request
            ),
        )

    @admin.action(description="Cancel the selected campaigns (recipients not sent yet are not sent)")
    def cancel(self, request, queryset):
        self._each(
            request,
            queryset,
            "cancelled",
            lambda campaign: services.campaign_cancel(campaign=campaign, actor=request.user, request=request),
        )

    def _each(self, request, queryset, done, change):
        """The service for each campaign, in its own workspace's scope; refusals are listed, not fatal."""
        changed = 0
        for campaign in queryset.order_by("pk"):
            try:
                with tenant_context(campaign.tenant_id):
                    change(campaign)
            except DomainError as problem:
                self.message_user(request, f"{campaign}: {problem.message}", level=messages.ERROR)
            else:
                changed += 1
        if changed:
            self.message_user(request, f"{changed} campaign(s) {done}.")


@admin.register(CampaignMessage)
class CampaignMessageAdmin(TenantScopedAdmin):
    """One row per recipient; the number shows masked (the contact's phone_hint), never in full."""

    list_display = (
        "id",
        "campaign",
        "tenant",
        "contact_hint",
        "variant_label",
        "state",
        "attempts",
        "error_code",
        "sent_at",
    )
    list_filter = ("state", "campaign")
    list_select_related = ("campaign", "tenant", "contact", "variant")
    fields = (
        "tenant",
        "campaign",
        "variant_label",
        "contact",
        "contact_hint",
        "batch",
        "state",
        "attempts",
        "next_attempt_at",
        "hold_reason",
        "wamid",
        "error_code",
        "error_detail",
        "cost_estimate_minor",
        "claimed_at",
        "sent_at",
        "delivered_at",
        "read_at",
        "failed_at",
        "updated_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="number")
    def contact_hint(self, obj):
        return obj.contact.phone_hint or "-"

    @admin.display(description="variant", ordering="variant__label")
    def variant_label(self, obj):
        return obj.variant.label
