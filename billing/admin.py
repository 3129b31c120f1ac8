"""Platform console for billing: rate cards with their rates and the market structures (read-only:
staff load them with `manage.py seed_pricing`), every workspace's billing profile (changed through
`billing_profile_update`, audited), the ledger across tenants (read-only: it is append-only), usage
counters, unpriced usage with its reason and a "Reprice now" action (`unpriced_usage_reprice`
per workspace), and the AI token prices (staff edit them; saved and removed through the audited
`ai_token_price_save` / `ai_token_price_delete`)."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect

from aerostic.core.admin_site import ReadOnlyAdmin, ServiceAdmin, TenantScopedAdmin
from aerostic.core.errors import DomainError
from aerostic.core.money import format_money
from billing.models import (
    AITokenPrice,
    BillingProfile,
    LedgerEntry,
    MarketAssignment,
    MarketStructure,
    Rate,
    RateCard,
    UnpricedUsage,
    UsageCounter,
)
from billing.services import (
    ai_token_price_delete,
    ai_token_price_save,
    billing_profile_update,
    unpriced_usage_reprice,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RateInline(ReadOnlyInline):
    model = Rate
    fields = ("market", "category", "price")
    readonly_fields = fields


@admin.register(RateCard)
class RateCardAdmin(ReadOnlyAdmin):
    list_display = ("currency", "pricing_model", "effective_from", "is_partial", "rates", "file_name", "loaded_at")
    list_filter = ("currency", "pricing_model", "is_partial")
    fields = (
        "currency",
        "pricing_model",
        "effective_from",
        "source",
        "retrieved",
        "rules",
        "is_partial",
        "file_name",
        "sha256",
        "loaded_at",
    )
    readonly_fields = fields
    inlines = [RateInline]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(rate_count=Count("rates"))

    @admin.display(description="rates", ordering="rate_count")
    def rates(self, obj):
        return obj.rate_count


class MarketAssignmentInline(ReadOnlyInline):
    model = MarketAssignment
    fields = ("country_code", "market")
    readonly_fields = fields


@admin.register(MarketStructure)
class MarketStructureAdmin(ReadOnlyAdmin):
    list_display = ("effective_from", "file_name", "loaded_at")
    fields = ("effective_from", "source", "retrieved", "file_name", "sha256", "loaded_at")
    readonly_fields = fields
    inlines = [MarketAssignmentInline]


@admin.register(MarketAssignment)
class MarketAssignmentAdmin(ReadOnlyAdmin):
    list_display = ("country_code", "market", "structure")
    list_filter = ("structure", "market")
    search_fields = ("country_code", "market")
    list_select_related = ("structure",)


@admin.register(BillingProfile)
class BillingProfileAdmin(TenantScopedAdmin):
    """Changes go through `billing_profile_update` (validated, audited, the currency locked once the
    ledger has entries); the balance moves only with ledger entries (credits, adjustments)."""

    list_display = ("tenant", "currency", "prepaid", "balance", "credit_limit", "cycle_day", "updated_at")
    list_filter = ("currency", "prepaid")
    list_select_related = ("tenant",)
    search_fields = ("tenant__name", "tenant__slug")
    fields = ("tenant", "currency", "prepaid", "credit_limit_micros", "cycle_day", "balance_micros", "updated_at")
    readonly_fields = ("tenant", "balance_micros", "updated_at")

    def has_add_permission(self, request):
        return False  # created on first use (billing_profile_ensure)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="balance", ordering="balance_micros")
    def balance(self, obj):
        return format_money(obj.balance_micros, obj.currency, places=2) if obj.prepaid else "—"

    @admin.display(description="credit limit", ordering="credit_limit_micros")
    def credit_limit(self, obj):
        return format_money(obj.credit_limit_micros, obj.currency, places=2)

    _service_fields = ("currency", "prepaid", "credit_limit_micros", "cycle_day")

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in self._service_fields}
        request.billing_refusal = None
        if not changes:
            return
        try:
            billing_profile_update(tenant=obj.tenant_id, actor=request.user, request=request, **changes)
        except DomainError as error:
            request.billing_refusal = error.message

    def response_change(self, request, obj):
        refusal = getattr(request, "billing_refusal", None)
        if refusal:  # nothing was saved: say why instead of the admin's "changed successfully"
            self.message_user(request, refusal, level=messages.ERROR)
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(TenantScopedAdmin, ReadOnlyAdmin):
    list_display = (
        "occurred_at",
        "tenant",
        "kind",
        "amount",
        "category",
        "market",
        "campaign",
        "reference",
        "billing_cycle",
    )
    list_filter = ("tenant", "kind", "category", "billing_cycle", "pricing_model", "pricing_type")
    list_select_related = ("tenant", "campaign")
    search_fields = ("reference", "wamid")
    date_hierarchy = "occurred_at"
    ordering = ("-occurred_at", "-id")
    readonly_fields = (
        "tenant",
        "kind",
        "amount_micros",
        "currency",
        "reference",
        "wamid",
        "category",
        "market",
        "country",
        "pricing_model",
        "pricing_type",
        "rate",
        "billing_cycle",
        "occurred_at",
        "campaign",
        "phone_number",
        "description",
        "created_by",
        "created_at",
    )
    fields = readonly_fields

    @admin.display(description="amount", ordering="amount_micros")
    def amount(self, obj):
        return format_money(obj.amount_micros, obj.currency)


@admin.register(UnpricedUsage)
class UnpricedUsageAdmin(TenantScopedAdmin, ReadOnlyAdmin):
    list_display = ("occurred_at", "tenant", "wamid", "status", "reason", "detail", "country", "resolved_at")
    list_filter = ("reason", ("resolved_at", admin.EmptyFieldListFilter), "tenant")
    list_select_related = ("tenant",)
    search_fields = ("reference", "wamid")
    ordering = ("-occurred_at", "-id")
    readonly_fields = (
        "tenant",
        "reference",
        "wamid",
        "status",
        "reason",
        "detail",
        "pricing",
        "conversation",
        "country",
        "campaign",
        "phone_number",
        "occurred_at",
        "created_at",
        "resolved_at",
    )
    fields = readonly_fields
    actions = ["reprice"]

    @admin.action(description="Reprice now (the selected rows' workspaces, all their open rows)")
    def reprice(self, request, queryset):
        """Per workspace, through the service: each open row is metered again (charged at most once)."""
        tenant_ids = sorted(set(queryset.values_list("tenant_id", flat=True)))
        for tenant_id in tenant_ids:
            try:
                outcomes = unpriced_usage_reprice(tenant=tenant_id, actor=request.user, request=request)
            except DomainError as problem:
                self.message_user(request, f"Workspace {tenant_id}: {problem.message}", level=messages.ERROR)
                continue
            summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items())) or "nothing open"
            self.message_user(request, f"Workspace {tenant_id}: {summary}.")


@admin.register(UsageCounter)
class UsageCounterAdmin(TenantScopedAdmin, ReadOnlyAdmin):
    list_display = ("billing_cycle", "tenant", "kind", "category", "count", "free_count", "amount_micros", "updated_at")
    list_filter = ("kind", "billing_cycle", "tenant")
    list_select_related = ("tenant",)
    readonly_fields = (
        "tenant",
        "billing_cycle",
        "kind",
        "category",
        "count",
        "free_count",
        "amount_micros",
        "updated_at",
    )
    fields = readonly_fields


@admin.register(AITokenPrice)
class AITokenPriceAdmin(ServiceAdmin):
    """The price of the AI auto-reply's tokens per provider and model ("*": the provider's default).
    A price change is best a new row with a later "effective from": the old one keeps telling what
    earlier replies were charged."""

    list_display = (
        "provider",
        "model",
        "currency",
        "prompt_per_1k",
        "completion_per_1k",
        "effective_from",
        "updated_at",
    )
    list_filter = ("provider", "currency")
    search_fields = ("provider", "model", "source")
    ordering = ("provider", "model", "currency", "-effective_from")
    fields = (
        "provider",
        "model",
        "currency",
        "prompt_micros_per_1k",
        "completion_micros_per_1k",
        "effective_from",
        "source",
        "updated_at",
    )
    readonly_fields = ("updated_at",)

    @admin.display(description="prompt per 1k tokens", ordering="prompt_micros_per_1k")
    def prompt_per_1k(self, obj):
        return format_money(obj.prompt_micros_per_1k, obj.currency, places=6)

    @admin.display(description="completion per 1k tokens", ordering="completion_micros_per_1k")
    def completion_per_1k(self, obj):
        return format_money(obj.completion_micros_per_1k, obj.currency, places=6)

    def save_model(self, request, obj, form, change):
        ai_token_price_save(price=obj, actor=request.user, request=request)

    def delete_model(self, request, obj):
        ai_token_price_delete(price=obj, actor=request.user, request=request)
