"""Re-pricing what is still unpriced, once the missing card or markets are loaded."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from aerostic.core import audit
from aerostic.core.tenant_context import tenant_context
from billing.models import UnpricedUsage
from billing.services.metering.batch import Metering, Usage


def unpriced_usage_reprice(*, tenant: Any, actor: Any = None, request: Any = None) -> dict[str, int]:
    """Prices again what is still unpriced (after the missing card or markets were loaded): the rows
    go through the same metering as fresh statuses, in the order they happened, so each is charged
    at most once; a row found already charged is marked resolved. Returns counts by outcome."""
    tenant_id = getattr(tenant, "pk", tenant)
    outcomes: dict[str, int] = {}
    with tenant_context(tenant_id), transaction.atomic():
        rows = list(UnpricedUsage.objects.filter(resolved_at__isnull=True).order_by("occurred_at", "pk"))
        usages = [
            Usage(
                wamid=row.wamid,
                status=row.status,
                at=row.occurred_at,
                pricing=row.pricing or {},
                conversation=row.conversation or {},
                country=row.country,
                campaign_id=row.campaign_id,
                phone_number_id=row.phone_number_id,
            )
            for row in rows
        ]
        metered = Metering(usages, errors_raise=True).run() if rows else []
        duplicates = [row.pk for row, outcome in zip(rows, metered, strict=True) if outcome == "duplicate"]
        if duplicates:
            UnpricedUsage.objects.filter(pk__in=duplicates).update(resolved_at=timezone.now())
        for outcome in metered:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if rows:
            audit.record("billing.unpriced_reprice", actor=actor, tenant=tenant_id, request=request, metadata=outcomes)
    return outcomes
