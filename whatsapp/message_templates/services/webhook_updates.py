"""Template webhooks from Meta (status, category, quality, components), run inside the tenant's
context by whatsapp.webhooks.handlers: each moves one template and tells the admins what changed."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from aerostic.core.alerts import raise_alert
from aerostic.core.errors import DomainError
from aerostic.core.values import meta_time
from whatsapp.message_templates.services.common import (
    category_change,
)
from whatsapp.message_templates.services.sync import template_refresh
from whatsapp.models import MessageTemplate, WhatsAppAccount

Status = MessageTemplate.Status


# ---- webhooks (run inside the tenant's context by whatsapp.webhooks.handlers) -----------------


def _by_meta_id(account: WhatsAppAccount, value: dict[str, Any]) -> MessageTemplate | None:
    meta_id = str(value.get("message_template_id") or "")
    if not meta_id:
        return None
    return (
        MessageTemplate.objects.filter(account=account, meta_template_id=meta_id).exclude(status=Status.DELETED).first()
    )


def _notify_admins(template: MessageTemplate, *, key: str, title: str, detail: str, level: str = "warning") -> None:
    raise_alert(tenant=template.tenant_id, key=f"template:{template.pk}:{key}", title=title, detail=detail, level=level)


def template_status_apply(*, account: WhatsAppAccount, value: dict[str, Any]) -> dict[str, Any]:
    template = _by_meta_id(account, value)
    if template is None:
        return {"result": "ignored", "reason": "unknown template id"}
    event = str(value.get("event") or "").upper()
    if event not in Status.values:
        return {"result": "ignored", "reason": f"unknown template status {event!r}"}
    if event == Status.PAUSED and template.status != Status.PAUSED:
        template.paused_count += 1
    template.status, template.status_changed_at = event, timezone.now()
    info = value.get("rejection_info") or {}
    reason = str(info.get("reason") or value.get("reason") or "")
    template.rejected_reason = "" if reason in ("", "NONE") else reason[:255]
    category = str(value.get("message_template_category") or "").upper()
    if category in MessageTemplate.Category.values and category != template.category:
        category_change(template, category, source="status_update", at=timezone.now())
    template.save()
    if event in (Status.PAUSED, Status.DISABLED):
        from whatsapp import fanout
        from whatsapp.sending.rules import template_problem

        fanout.template_stopped(template=template, reason=template_problem(template) or "")
    if event in (Status.PAUSED, Status.DISABLED, Status.REJECTED, Status.FLAGGED):
        _notify_admins(
            template,
            key="status",
            title=f"Template {template.name} ({template.language}) is {template.get_status_display().lower()}",
            detail=template.rejected_reason
            or (
                "Campaigns using it are paused until Meta lifts the pause."
                if event == Status.PAUSED
                else "It cannot be sent."
            ),
            level="critical" if event in (Status.DISABLED, Status.PAUSED) else "warning",
        )
    return {"result": "processed", "template": template.pk, "status": event}


def template_category_apply(*, account: WhatsAppAccount, value: dict[str, Any]) -> dict[str, Any]:
    """`previous_category` + `new_category`: applied now. `correct_category` +
    `category_update_timestamp`: Meta announces the change about a day before it applies."""
    template = _by_meta_id(account, value)
    if template is None:
        return {"result": "ignored", "reason": "unknown template id"}
    correct = str(value.get("correct_category") or "").upper()
    new = str(value.get("new_category") or "").upper()
    if correct in MessageTemplate.Category.values:
        template.pending_category = correct
        template.pending_category_at = meta_time(value.get("category_update_timestamp"))
        detail = f"Meta will bill it as {correct.lower()}" + (
            f" from {template.pending_category_at:%Y-%m-%d %H:%M} UTC." if template.pending_category_at else "."
        )
    elif new in MessageTemplate.Category.values:
        if new != template.category:
            category_change(template, new, source="category_update", at=timezone.now())
        detail = f"Meta now bills it as {new.lower()}."
    else:
        return {"result": "ignored", "reason": "no category in the update"}
    template.save()
    _notify_admins(template, key="category", title=f"Template {template.name} changes category", detail=detail)
    return {"result": "processed", "template": template.pk}


def template_quality_apply(*, account: WhatsAppAccount, value: dict[str, Any]) -> dict[str, Any]:
    template = _by_meta_id(account, value)
    if template is None:
        return {"result": "ignored", "reason": "unknown template id"}
    score = str(value.get("new_quality_score") or "").upper()[:16]
    template.quality_score = score
    template.save(update_fields=["quality_score", "updated_at"])
    if score == "RED":
        _notify_admins(
            template,
            key="quality",
            title=f"Template {template.name} has low quality",
            detail="Customers block or report it: Meta pauses such templates (3 h, then 6 h, then disables them).",
        )
    return {"result": "processed", "template": template.pk, "quality": score}


def template_components_apply(*, account: WhatsAppAccount, value: dict[str, Any]) -> dict[str, Any]:
    """Meta reports an edit made elsewhere (WhatsApp Manager): re-read the template."""
    template = _by_meta_id(account, value)
    if template is None:
        return {"result": "ignored", "reason": "unknown template id"}
    try:
        template_refresh(template=template)
    except DomainError as error:  # Meta down: the status is still right; the next sync catches up
        return {"result": "processed", "note": f"components not re-read: {error.message[:200]}"}
    return {"result": "processed", "template": template.pk}
