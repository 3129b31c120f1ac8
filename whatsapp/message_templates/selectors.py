"""Reads about templates that other features rely on (campaigns, billing, the inbox)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from whatsapp.models import MessageTemplate

Status = MessageTemplate.Status


def is_sendable(template: MessageTemplate) -> bool:
    """Only an approved template can be sent. PAUSED and DISABLED block new campaign launches and
    pause running ones (the campaigns feature asks this before every batch)."""
    return template.status == Status.APPROVED and template.account.status != "disconnected"


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
