"""Reads about templates that other features rely on (campaigns, billing, the inbox)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from whatsapp.models import MessageTemplate

Status = MessageTemplate.Status


def is_sendable(template: MessageTemplate) -> bool:
    """Only an approved template can be sent. PAUSED and DISABLED block new campaign launches and
    pause running ones (the campaigns feature asks this before every batch)."""
    return template.status == Status.APPROVED and template.account.status != "disconnected"


# Meta's template pausing: the first pause lasts 3 hours, the second 6, the third disables the template.
PAUSE_LENGTHS = (timedelta(hours=3), timedelta(hours=6))


def pause_ends_at(template: MessageTemplate) -> datetime | None:
    """When Meta lifts a quality pause by itself (an APPROVED status webhook follows). Meta's
    documented way to lift it sooner is to edit the template and submit it again for review."""
    if template.status != Status.PAUSED or template.status_changed_at is None:
        return None
    length = PAUSE_LENGTHS[min(max(template.paused_count, 1), len(PAUSE_LENGTHS)) - 1]
    return template.status_changed_at + length


def billing_category(template: MessageTemplate, *, at: datetime | None = None) -> str:
    """The category Meta bills at a moment: an announced re-categorisation counts from its date."""
    at = at or timezone.now()
    if template.pending_category and template.pending_category_at and at >= template.pending_category_at:
        return template.pending_category
    return template.category


def templates_for(
    *, account: Any = None, status: str | None = None, category: str | None = None, search: str = ""
) -> QuerySet[MessageTemplate]:
    """Templates of the current tenant (scoped manager), newest first, deleted ones hidden unless asked."""
    rows = MessageTemplate.objects.select_related("account")
    if account is not None:
        rows = rows.filter(account=account)
    rows = rows.filter(status=status) if status else rows.exclude(status=Status.DELETED)
    if category:
        rows = rows.filter(category=category)
    if search:
        rows = rows.filter(name__icontains=search.strip())
    return rows.order_by("name", "language")


def template_get(template_id: int) -> MessageTemplate:
    return MessageTemplate.objects.select_related("account").exclude(status=Status.DELETED).get(pk=template_id)


def template_languages(template: MessageTemplate) -> QuerySet[MessageTemplate]:
    """The same template name in its other languages (the builder's language tabs)."""
    return (
        MessageTemplate.objects.filter(account=template.account_id, name=template.name)
        .exclude(status=Status.DELETED)
        .order_by("language")
    )
