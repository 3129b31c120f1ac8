"""Portal pages for billing: the dashboard (a cycle's spend by category and market, the daily chart,
top campaigns with estimate vs actual, AI usage per provider and model, unpriced usage, the filtered
ledger), the ledger as CSV (streamed, formula-safe, audited), the rate card in force and the billing
profile form. Thin: selectors to read; the billing profile is set by platform staff (admin), shown
here read-only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date

from accounts.roles import Perm
from aerostic.core import audit
from aerostic.core.ids import parse_row_id
from aerostic.core.money import format_money, from_micros
from aerostic.core.streaming import streaming_download
from aerostic.core.tenant_context import tenant_context
from billing import selectors
from billing.cycles import cycle_start
from billing.models import Category, LedgerEntry, UnpricedUsage
from campaigns.models import Campaign
from campaigns.views.common import estimate_view
from contacts.exporting import csv_lines
from tenants.portal_base import PortalView

PAGE_SIZE = 25
CSV_CHUNK = 2000
ALL_CYCLES = "all"
CSV_COLUMNS = [
    "occurred_at",
    "billing_cycle",
    "kind",
    "amount",
    "currency",
    "category",
    "market",
    "country",
    "pricing_model",
    "pricing_type",
    "rate",
    "campaign",
    "reference",
    "wamid",
    "description",
]


def parse_cycle(value: str, cycle_day: int) -> date | None:
    """`YYYY-MM-DD` → the first day of the cycle containing it (None when it is not a date)."""
    try:
        day = parse_date(value.strip())
    except ValueError:
        return None
    return cycle_start(cycle_day, day) if day else None


def ledger_filters(request: HttpRequest) -> dict[str, Any]:
    """The table's and the export's filters: cycle (default the current one, `all` for every
    cycle), kind and campaign. Unknown values are dropped, never an error."""
    profile = selectors.billing_profile_get()
    raw_cycle = request.GET.get("cycle", "").strip()
    cycle = None
    if raw_cycle != ALL_CYCLES:
        cycle = parse_cycle(raw_cycle, profile.cycle_day) or selectors.current_cycle()
    kind = request.GET.get("kind", "").strip()
    campaign = request.GET.get("campaign", "").strip()
    return {
        "cycle": cycle,
        "kind": kind if kind in LedgerEntry.Kind.values else "",
        "campaign": parse_row_id(campaign),
    }


def _money(micros: int | None, currency: str, places: int = 2) -> str:
    return "—" if micros is None else format_money(micros, currency, places=places)


def _rows(rows: list[dict[str, Any]], field: str, currency: str, total: int) -> list[dict[str, Any]]:
    labels = {**dict(Category.choices), LedgerEntry.AI_CATEGORY: "AI replies"} if field == "category" else {}
    return [
        {
            "label": labels.get(row[field], row[field]) or "(none)",
            "count": row["count"],
            "amount": _money(row["amount_micros"], currency, 4),
            "share": round(row["amount_micros"] * 100 / total, 1) if total else None,
        }
        for row in rows
    ]


def _ai_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The cycle's AI usage per provider and model, with its cost for people (four decimals: a reply
    costs a fraction of a cent)."""
    return [{**row, "cost": _money(row["amount_micros"], summary["currency"], 4)} for row in summary["ai_usage"]]


def _top_campaigns(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The cycle's costliest campaigns with their stored estimate and actual cost side by side."""
    currency = summary["currency"]
    ids = [row["campaign_id"] for row in summary["top_campaigns"]]
    campaigns = {campaign.pk: campaign for campaign in Campaign.objects.filter(pk__in=ids)}
    top = []
    for row in summary["top_campaigns"]:
        campaign = campaigns.get(row["campaign_id"])
        cost = selectors.campaign_cost(campaign) if campaign else {"estimate": {}, "actual": None}
        actual = cost["actual"]
        top.append(
            {
                "id": row["campaign_id"],
                "name": row["name"],
                "messages": row["messages"],
                "cycle_amount": _money(row["amount_micros"], currency, 4),
                "estimate": estimate_view(cost["estimate"]),
                "actual": _money(actual["total_micros"], actual["currency"], 4) if actual else "—",
                "unpriced": actual["unpriced_messages"] if actual else 0,
            }
        )
    return top


def _ledger_choices() -> dict[str, Any]:
    cycles = list(LedgerEntry.objects.order_by("-billing_cycle").values_list("billing_cycle", flat=True).distinct())
    campaigns = (
        LedgerEntry.objects.filter(campaign__isnull=False)
        .order_by("campaign__name")
        .values_list("campaign_id", "campaign__name")
        .distinct()
    )
    return {"cycles": cycles, "kinds": LedgerEntry.Kind.choices, "campaigns": list(campaigns)}


class BillingDashboardView(PortalView):
    template_name = "billing/dashboard.html"
    required_permission = Perm.BILLING_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        filters = ledger_filters(self.request)
        summary = selectors.usage_summary(cycle=filters["cycle"] or selectors.current_cycle())
        currency, spent = summary["currency"], summary["spent_micros"]
        page = Paginator(selectors.ledger_entries(**filters), PAGE_SIZE).get_page(self.request.GET.get("page"))
        unpriced_reasons = dict(UnpricedUsage.Reason.choices)
        unpriced = [
            {"reason": unpriced_reasons.get(row["reason"], row["reason"]), "count": row["count"]}
            for row in selectors.unpriced_usage_list().values("reason").annotate(count=Count("pk")).order_by("-count")
        ]
        daily = [
            {
                "day": row["day"],
                "amount": str(from_micros(row["amount_micros"])),
                "text": _money(row["amount_micros"], currency, 4),
            }
            for row in summary["daily"]
        ]
        context.update(
            summary=summary,
            currency=currency,
            spent=_money(spent, currency),
            credits=_money(summary["credits_micros"], currency),
            adjustments=_money(summary["adjustments_micros"], currency),
            balance=_money(summary["balance_micros"], currency),
            credit_limit=_money(summary["credit_limit_micros"], currency),
            by_category=_rows(summary["by_category"], "category", currency, spent),
            by_market=_rows(summary["by_market"], "market", currency, spent),
            daily=daily,
            chart={"labels": [row["day"] for row in daily], "amounts": [row["amount"] for row in daily]},
            top_campaigns=_top_campaigns(summary),
            ai_usage=_ai_rows(summary),
            unpriced=unpriced,
            unpriced_total=sum(row["count"] for row in unpriced),
            filters=filters,
            selected_cycle=filters["cycle"].isoformat() if filters["cycle"] else ALL_CYCLES,
            page_obj=page,
            entries=[(entry, format_money(entry.amount_micros, entry.currency)) for entry in page],
            can_manage=self.can(Perm.BILLING_MANAGE),
            **_ledger_choices(),
        )
        return context


def _csv_row(entry: LedgerEntry) -> list[Any]:
    return [
        entry.occurred_at,
        entry.billing_cycle,
        entry.kind,
        from_micros(entry.amount_micros),
        entry.currency,
        entry.category,
        entry.market,
        entry.country,
        entry.pricing_model,
        entry.pricing_type,
        entry.rate.price if entry.rate_id else "",
        entry.campaign.name if entry.campaign_id else "",
        entry.reference,
        entry.wamid,
        entry.description,
    ]


def ledger_csv_chunks(tenant_id: int, rows: QuerySet[LedgerEntry]) -> Iterator[str]:
    """The CSV in chunks (keyset by id). Consumed after the view returned, outside the request's
    tenant context: each chunk is read inside its own."""
    yield "".join(csv_lines([CSV_COLUMNS]))
    last = 0
    while True:
        with tenant_context(tenant_id):
            chunk = list(rows.filter(pk__gt=last).order_by("pk")[:CSV_CHUNK])
        if not chunk:
            return
        last = chunk[-1].pk
        yield "".join(csv_lines(_csv_row(entry) for entry in chunk))


class LedgerExportView(PortalView):
    required_permission = Perm.BILLING_VIEW

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        filters = ledger_filters(request)
        rows = selectors.ledger_entries(**filters)
        audit.record(
            "billing.export",
            actor=request.user,
            tenant=request.tenant.pk,
            request=request,
            metadata={
                "filters": {
                    "cycle": filters["cycle"].isoformat() if filters["cycle"] else ALL_CYCLES,
                    "kind": filters["kind"],
                    "campaign": filters["campaign"],
                }
            },
        )
        chunks = ledger_csv_chunks(request.tenant.pk, rows)
        return streaming_download(request, chunks, filename=f"ledger-{timezone.now():%Y%m%d}.csv")


class RateCardView(PortalView):
    template_name = "billing/rate_card.html"
    required_permission = Perm.BILLING_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        currency = selectors.billing_profile_get().currency
        card = selectors.rate_card_in_force(currency=currency)
        categories = [(value, label) for value, label in Category.choices]
        if card:
            for market in card["markets"]:
                market["cells"] = [market["rates"].get(value, "") for value, _ in categories]
        context.update(card=card, currency=currency, categories=categories)
        return context


class BillingProfileView(PortalView):
    """The workspace's billing settings, read-only: prepaid, the credit limit, the currency and the
    cycle day are the platform's controls over a workspace, so only staff change them (Django admin,
    through `billing_profile_update`). A POST is refused with 405 by the view itself."""

    template_name = "billing/profile.html"
    required_permission = Perm.BILLING_MANAGE
    http_method_names = ["get", "head", "options"]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        profile = selectors.billing_profile_get()
        context.update(
            profile=profile,
            balance=_money(profile.balance_micros, profile.currency),
            credit_limit=_money(profile.credit_limit_micros, profile.currency),
        )
        return context
