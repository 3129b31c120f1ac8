"""Reading templates back from Meta: one template (refresh) or every template of a WABA (sync:
creates, updates, marks as deleted what Meta no longer has). Meta is the source of truth for every
status but DRAFT."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from aerostic.core import audit
from aerostic.core.errors import Conflict
from aerostic.core.tenant_context import tenant_context
from whatsapp.graph import GraphError
from whatsapp.message_templates.services.common import (
    LIVE_AT_META,
    category_change,
    graph_of,
    refused,
)
from whatsapp.models import MessageTemplate, WhatsAppAccount

Status = MessageTemplate.Status


def template_refresh(*, template: MessageTemplate) -> MessageTemplate:
    """Reads the template back from Meta (status, category, reason, quality)."""
    account = template.account
    if not template.meta_template_id:
        raise Conflict("This template has not been submitted to Meta yet.")
    with tenant_context(account.tenant_id):
        try:
            data = graph_of(account).request("GET", template.meta_template_id)
        except GraphError as error:
            raise refused("Reading the template from Meta failed", error, account) from None
        _apply_meta_fields(template, data, source="refresh")
        template.last_synced_at = timezone.now()
        template.save()
        return template


@dataclass(frozen=True)
class SyncResult:
    created: int
    updated: int
    deleted: int


def templates_sync(*, account: WhatsAppAccount, actor: Any = None, request: Any = None) -> SyncResult:
    """Imports every template of the WABA (all pages): creates, updates, and marks as deleted what
    Meta no longer has. Drafts are left alone."""
    with tenant_context(account.tenant_id):
        try:
            remote = list(graph_of(account).iter_templates(account.waba_id))
        except GraphError as error:
            raise refused("Reading templates from Meta failed", error, account) from None
        now = timezone.now()
        created = updated = 0
        with transaction.atomic():
            local = {
                (row.name, row.language): row
                for row in MessageTemplate.objects.filter(account=account).exclude(status=Status.DELETED)
            }
            seen = set()
            for data in remote:
                key = (str(data.get("name", "")), str(data.get("language", "")))
                if not all(key):
                    continue
                seen.add(key)
                row = local.get(key)
                if row is None:
                    row = MessageTemplate(
                        tenant_id=account.tenant_id,
                        account=account,
                        name=key[0],
                        language=key[1],
                        category=str(data.get("category") or MessageTemplate.Category.UTILITY),
                    )
                    created += 1
                else:
                    updated += 1
                _apply_meta_fields(row, data, source="sync")
                row.last_synced_at = now
                row.save()
            gone = [row for key, row in local.items() if key not in seen and row.status in LIVE_AT_META]
            for row in gone:
                row.status, row.status_changed_at, row.last_synced_at = Status.DELETED, now, now
                row.save(update_fields=["status", "status_changed_at", "last_synced_at", "updated_at"])
        if actor is not None:
            audit.record(
                "template.synced",
                actor=actor,
                tenant=account.tenant_id,
                target=account,
                request=request,
                metadata={"created": created, "updated": updated, "deleted": len(gone)},
            )
        return SyncResult(created=created, updated=updated, deleted=len(gone))


def _apply_meta_fields(template: MessageTemplate, data: dict[str, Any], *, source: str) -> None:
    if data.get("id"):
        template.meta_template_id = str(data["id"])
    status = str(data.get("status") or "").upper()
    if status in Status.values and status != template.status:
        template.status, template.status_changed_at = status, timezone.now()
    if data.get("components") is not None:
        template.components = data["components"]
    if data.get("parameter_format") in MessageTemplate.ParameterFormat.values:
        template.parameter_format = data["parameter_format"]
    category = str(data.get("category") or "").upper()
    if category in MessageTemplate.Category.values and category != template.category:
        category_change(template, category, source=source, at=timezone.now())
    reason = str(data.get("rejected_reason") or "")
    template.rejected_reason = "" if reason in ("", "NONE") else reason[:255]
    quality = data.get("quality_score")
    if isinstance(quality, dict) and quality.get("score"):
        template.quality_score = str(quality["score"])[:16]
