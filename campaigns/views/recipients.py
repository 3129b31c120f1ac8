"""A campaign's recipients: the filtered table and its CSV export (masked numbers, formula-safe,
streamed in chunks and audited)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.roles import Perm
from aerostic.core import audit
from aerostic.core.streaming import streaming_download
from aerostic.core.tenant_context import tenant_context
from campaigns import selectors
from campaigns.models import CampaignMessage
from campaigns.views.common import STATE_KIND, CampaignPage
from contacts.exporting import csv_lines

PAGE_SIZE = 50
CSV_CHUNK = 2000
FILTER_KEYS = ("state", "variant", "error_code")
CSV_COLUMNS = [
    "contact",
    "number",
    "variant",
    "state",
    "error_code",
    "reason",
    "sent_at",
    "delivered_at",
    "read_at",
]


def _filters(request: HttpRequest) -> dict[str, str]:
    return {key: request.GET.get(key, "").strip() for key in FILTER_KEYS}


class CampaignRecipientsView(CampaignPage):
    template_name = "campaigns/recipients.html"
    required_permission = Perm.CAMPAIGNS_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        campaign = self.get_campaign()
        filters = _filters(self.request)
        rows = selectors.campaign_recipients(campaign, **filters)
        page = Paginator(rows, PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(
            campaign=campaign,
            page_obj=page,
            recipients=[(message, STATE_KIND.get(message.state, "neutral")) for message in page],
            filters=filters,
            states=CampaignMessage.State.choices,
            variant_labels=list(campaign.variants.values_list("label", flat=True)),
        )
        return context


def _csv_row(message: CampaignMessage) -> list[Any]:
    contact = message.contact
    return [
        contact.name,
        "" if contact.is_erased else contact.phone_hint,  # masked, never the number
        message.variant.label,
        message.state,
        message.error_code,
        message.error_detail,
        message.sent_at,
        message.delivered_at,
        message.read_at,
    ]


def recipient_csv_chunks(tenant_id: int, rows: QuerySet[CampaignMessage]) -> Iterator[str]:
    """The CSV in chunks of rows (keyset by id). The response is consumed after the view returned,
    outside the request's tenant context: each chunk is read inside its own."""
    yield "".join(csv_lines([CSV_COLUMNS]))
    last = 0
    while True:
        with tenant_context(tenant_id):
            chunk = list(rows.filter(pk__gt=last).order_by("pk")[:CSV_CHUNK])
        if not chunk:
            return
        last = chunk[-1].pk
        yield "".join(csv_lines(_csv_row(message) for message in chunk))


class CampaignRecipientsExportView(CampaignPage):
    required_permission = Perm.CAMPAIGNS_VIEW

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        campaign = self.get_campaign()
        filters = _filters(request)
        rows = selectors.campaign_recipients(campaign, **filters)
        audit.record(
            "campaign.export",
            actor=request.user,
            tenant=request.tenant.pk,
            target=campaign,
            request=request,
            metadata={"filters": {key: value for key, value in filters.items() if value}},
        )
        chunks = recipient_csv_chunks(request.tenant.pk, rows)
        filename = f"campaign-{campaign.pk}-recipients-{timezone.now():%Y%m%d}.csv"
        return streaming_download(request, chunks, filename=filename)
