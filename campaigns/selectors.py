"""Reads of campaigns: lists, live statistics (by variant), failure reasons, the recipient table."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, F, Max, Min, Q, QuerySet

from campaigns.models import Campaign, CampaignMessage, CampaignVariant

State = CampaignMessage.State
# What the counters show; delivered includes read, sent includes delivered (Meta's funnel).
COUNTED = ("queued", "sending", "sent", "delivered", "read", "failed", "skipped", "unknown", "cancelled")


def campaign_list(*, status: str = "") -> QuerySet[Campaign]:
    rows = Campaign.objects.select_related("phone_number").prefetch_related("variants__template")
    if status in Campaign.Status.values:
        rows = rows.filter(status=status)
    return rows.order_by("-created_at")


def campaign_get(campaign_id: int) -> Campaign:
    return Campaign.objects.select_related("phone_number__account", "tenant").get(pk=campaign_id)


@dataclass
class Stats:
    """Counts by state and the funnel rates (of the recipients Meta accepted)."""

    counts: dict[str, int] = field(default_factory=dict)
    total: int = 0
    first_sent_at: datetime | None = None
    last_sent_at: datetime | None = None

    @property
    def accepted(self) -> int:
        """Reached Meta: sent, delivered, read, or failed after Meta took it."""
        return self.counts["sent"] + self.counts["delivered"] + self.counts["read"]

    @property
    def delivered_or_read(self) -> int:
        return self.counts["delivered"] + self.counts["read"]

    @property
    def done(self) -> int:
        return self.total - self.counts["queued"] - self.counts["sending"]

    @property
    def progress_percent(self) -> int:
        return 100 if not self.total else int(self.done * 100 / self.total)

    @property
    def delivery_rate(self) -> float | None:
        return _rate(self.delivered_or_read, self.accepted + self.counts["failed"])

    @property
    def read_rate(self) -> float | None:
        return _rate(self.counts["read"], self.delivered_or_read)

    @property
    def failure_rate(self) -> float | None:
        return _rate(self.counts["failed"], self.accepted + self.counts["failed"])

    @property
    def send_rate_per_second(self) -> float | None:
        if not self.first_sent_at or not self.last_sent_at or self.accepted < 2:
            return None
        span = (self.last_sent_at - self.first_sent_at).total_seconds()
        return round((self.accepted - 1) / span, 1) if span > 0 else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts,
            "total": self.total,
            "progress_percent": self.progress_percent,
            "delivery_rate": self.delivery_rate,
            "read_rate": self.read_rate,
            "failure_rate": self.failure_rate,
            "send_rate_per_second": self.send_rate_per_second,
        }


def _rate(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None


def campaign_stats(campaign: Campaign) -> Stats:
    """One aggregate query over the campaign's recipients."""
    return _stats(CampaignMessage.objects.filter(campaign=campaign))


def _stats(rows: QuerySet[CampaignMessage]) -> Stats:
    aggregates = {state: Count("pk", filter=Q(state=state)) for state in COUNTED}
    found = rows.aggregate(**aggregates, total=Count("pk"), first_sent_at=Min("sent_at"), last_sent_at=Max("sent_at"))
    return Stats(
        counts={state: found[state] for state in COUNTED},
        total=found["total"],
        first_sent_at=found["first_sent_at"],
        last_sent_at=found["last_sent_at"],
    )


def variant_stats(campaign: Campaign) -> list[tuple[CampaignVariant, Stats]]:
    """Per A/B variant (one row per variant, in label order)."""
    return [
        (variant, _stats(CampaignMessage.objects.filter(campaign=campaign, variant=variant)))
        for variant in campaign.variants.select_related("template")
    ]


def failure_reasons(campaign: Campaign) -> list[dict[str, Any]]:
    """Failed and skipped recipients grouped by Meta's code and the reason, most frequent first."""
    rows = (
        CampaignMessage.objects.filter(campaign=campaign, state__in=(State.FAILED, State.SKIPPED, State.UNKNOWN))
        .values("state", "error_code", "error_detail")
        .annotate(count=Count("pk"))
        .order_by("-count", "error_code")
    )
    return [
        {"state": row["state"], "code": row["error_code"], "reason": row["error_detail"], "count": row["count"]}
        for row in rows
    ]


def campaign_recipients(
    campaign: Campaign, *, state: str = "", variant: str = "", error_code: Any = None
) -> QuerySet[CampaignMessage]:
    """The per-recipient table, filtered; contacts show masked (phone_hint), never the number."""
    rows = CampaignMessage.objects.filter(campaign=campaign).select_related("contact", "variant")
    if state in State.values:
        rows = rows.filter(state=state)
    if variant:
        rows = rows.filter(variant__label=variant.upper()[:1])
    if error_code not in (None, ""):
        try:
            rows = rows.filter(error_code=int(error_code))
        except (TypeError, ValueError):
            rows = rows.none()
    return rows.order_by("pk")


CONTACT_HISTORY_SIZE = 10


def contact_campaign_history(contact_id: int, *, limit: int = CONTACT_HISTORY_SIZE) -> list[CampaignMessage]:
    """The contact's last `limit` campaign recipients (newest campaign first), each with its
    campaign: what they were sent and how it went (the inbox's contact panel shows them)."""
    return list(
        CampaignMessage.objects.filter(contact_id=contact_id)
        .exclude(campaign__status=Campaign.Status.DRAFT)
        .select_related("campaign")
        .order_by(F("campaign__launched_at").desc(nulls_last=True), "-pk")[:limit]
    )
