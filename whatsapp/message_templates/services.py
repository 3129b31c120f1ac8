"""Template lifecycle: draft → validate → submit → (Meta) → approved / rejected / paused, edit and
resubmit, delete, refresh, sync; and the webhooks that move templates between those states.

Meta is the source of truth for every status but DRAFT. Graph refusals (duplicate name, edit limit,
invalid parameter) reach the user as Meta worded them, with the code for support.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from aerostic.core import audit
from aerostic.core.alerts import raise_alert
from aerostic.core.errors import Conflict, DomainError, RateLimited
from aerostic.core.values import meta_time
from tenants.context import tenant_context
from whatsapp import ratelimits
from whatsapp.graph import GraphAuthError, GraphError
from whatsapp.message_templates.rules import Problem, validate_template
from whatsapp.models import MessageTemplate, WhatsAppAccount

logger = logging.getLogger(__name__)

Status = MessageTemplate.Status
EDITABLE_AT_META = (Status.APPROVED, Status.REJECTED, Status.PAUSED)
# Meta's statuses after which a template still exists at Meta (and counts for its name).
LIVE_AT_META = tuple(s for s in Status.values if s not in (Status.DRAFT, Status.DELETED))


class TemplateInvalid(DomainError):
    """Local validation failed: every problem at once, for the form and the API."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("The template breaks Meta's rules: " + " ".join(p.message for p in problems))
        self.problems = problems


class TemplateRefused(DomainError):
    """Meta refused the call; the message is Meta's."""


def _graph(account: WhatsAppAccount) -> Any:
    from whatsapp.services import graph_for

    return graph_for(account)


def _refused(step: str, error: GraphError, account: WhatsAppAccount) -> TemplateRefused:
    if isinstance(error, GraphAuthError):
        from whatsapp.services import mark_reauthorisation_needed

        mark_reauthorisation_needed(account, error)
    return TemplateRefused(f"{step}: {error.describe()}")


def _problems(template: MessageTemplate) -> list[Problem]:
    return validate_template(
        name=template.name,
        language=template.language,
        category=template.requested_category or template.category,
        parameter_format=template.parameter_format,
        components=template.components,
    )


# ---- per-workspace limits -----------------------------------------------------------------------

_LIMITED = {
    "create": ("new templates", "TEMPLATE_CREATES_PER_HOUR", "TEMPLATE_CREATES_PER_DAY"),
    "submit": ("template submissions to Meta", "TEMPLATE_SUBMITS_PER_HOUR", "TEMPLATE_SUBMITS_PER_DAY"),
}


def _wait_words(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    if minutes < 90:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{round(minutes / 60)} hours"


def _take_template_quota(*, tenant_id: int, action: str) -> None:
    """Counts one creation or submission against the workspace's hourly and daily limits (Redis,
    shared by every process): a flood of templates gets the WABA's templates reviewed harder and,
    past Meta's own limits, refused for everyone in it. A refusal takes nothing."""
    noun, hourly, daily = _LIMITED[action]
    limits = [(int(getattr(settings, hourly)), 3600), (int(getattr(settings, daily)), 86400)]
    refused, retry_after = ratelimits.take_windows(f"tenant:{tenant_id}:template-{action}", limits=limits)
    if refused >= 0:
        limit, period = limits[refused]
        raise RateLimited(
            f"This workspace has reached its limit of {limit} {noun} per {'hour' if period == 3600 else 'day'}: "
            f"try again in {_wait_words(retry_after)}.",
            retry_after=retry_after,
        )


# ---- drafts ------------------------------------------------------------------------------------


def template_draft_save(
    *,
    account: WhatsAppAccount,
    name: str,
    language: str,
    category: str,
    components: list[dict[str, Any]],
    parameter_format: str = MessageTemplate.ParameterFormat.POSITIONAL,
    actor: Any,
    request: Any = None,
    template: MessageTemplate | None = None,
) -> tuple[MessageTemplate, list[Problem]]:
    """Creates or updates a draft (kept even with problems, which are returned for the builder).
    Name, language and category must be sound: they identify the template."""
    with tenant_context(account.tenant_id), transaction.atomic():
        if template is not None and template.status != Status.DRAFT:
            raise Conflict("Only drafts change here; an approved or rejected template is edited and resubmitted.")
        candidate = template or MessageTemplate(tenant_id=account.tenant_id, account=account, created_by=actor)
        candidate.name, candidate.language = name.strip(), language.strip()
        candidate.category = candidate.requested_category = category
        candidate.parameter_format, candidate.components = parameter_format, components
        problems = _problems(candidate)
        identity = [p for p in problems if p.where in ("name", "language", "category")]
        if identity:
            raise TemplateInvalid(identity)
        clash = (
            MessageTemplate.objects.filter(account=account, name=candidate.name, language=candidate.language)
            .exclude(status=Status.DELETED)
            .exclude(pk=candidate.pk)
            .exists()
        )
        if clash:
            raise Conflict(f"A template {candidate.name!r} in {candidate.language} already exists in this account.")
        if template is None:
            _take_template_quota(tenant_id=account.tenant_id, action="create")
        candidate.save()
        audit.record(
            "template.draft_saved",
            actor=actor,
            tenant=account.tenant_id,
            target=candidate,
            request=request,
            metadata={"name": candidate.name, "language": candidate.language, "created": template is None},
        )
        return candidate, problems


# ---- Meta calls --------------------------------------------------------------------------------


def template_submit(*, template: MessageTemplate, actor: Any, request: Any = None) -> MessageTemplate:
    """Sends a draft to Meta for review (create), or an approved / rejected / paused template's
    new content (edit: Meta limits how often an approved template may change)."""
    account = template.account
    with tenant_context(account.tenant_id):
        problems = _problems(template)
        if problems:
            raise TemplateInvalid(problems)
        editing = template.status in EDITABLE_AT_META and template.meta_template_id
        if not editing and template.status != Status.DRAFT:
            raise Conflict(f"A {template.get_status_display().lower()} template cannot be submitted now.")
        _take_template_quota(tenant_id=account.tenant_id, action="submit")
        try:
            if editing:
                changes: dict[str, Any] = {"components": template.components}
                if template.status != Status.APPROVED:  # Meta fixes an approved template's category
                    changes["category"] = template.requested_category or template.category
                _graph(account).edit_template(template.meta_template_id, changes)
                answer: dict[str, Any] = {}
            else:
                answer = _graph(account).create_template(
                    account.waba_id,
                    {
                        "name": template.name,
                        "language": template.language,
                        "category": template.requested_category or template.category,
                        "parameter_format": template.parameter_format,
                        "components": template.components,
                    },
                )
        except GraphError as error:
            audit.record(
                "template.submit_refused",
                actor=actor,
                tenant=account.tenant_id,
                target=template,
                request=request,
                metadata={"reason": error.describe()[:300]},
            )
            raise _refused("Meta refused the template", error, account) from None
        now = timezone.now()
        template.meta_template_id = str(answer.get("id") or template.meta_template_id)
        template.status = str(answer.get("status") or Status.PENDING)
        template.rejected_reason = ""
        template.submitted_at = template.status_changed_at = now
        if answer.get("category") and answer["category"] != template.category:
            _category_change(template, str(answer["category"]), source="approval", at=now)
        template.save()
        audit.record(
            "template.edited" if editing else "template.submitted",
            actor=actor,
            tenant=account.tenant_id,
            target=template,
            request=request,
            metadata={"name": template.name, "language": template.language},
        )
        return template


def template_delete(*, account: WhatsAppAccount, name: str, actor: Any, request: Any = None) -> int:
    """Deletes a template name in every language. Meta blocks the name for 30 days afterwards.
    Drafts never reached Meta and are removed here only."""
    with tenant_context(account.tenant_id), transaction.atomic():
        rows = list(MessageTemplate.objects.filter(account=account, name=name).exclude(status=Status.DELETED))
        if not rows:
            raise DomainError(f"No template named {name!r} in this account.", code="not_found")
        if any(row.status != Status.DRAFT for row in rows):
            try:
                _graph(account).delete_template(account.waba_id, name=name)
            except GraphError as error:
                raise _refused("Meta refused the deletion", error, account) from None
        now = timezone.now()
        for row in rows:
            if row.status == Status.DRAFT:
                row.delete()
            else:
                row.status, row.status_changed_at = Status.DELETED, now
                row.save(update_fields=["status", "status_changed_at", "updated_at"])
        audit.record(
            "template.deleted",
            actor=actor,
            tenant=account.tenant_id,
            target=account,
            request=request,
            metadata={"name": name, "languages": sorted(row.language for row in rows)},
        )
        return len(rows)


def template_refresh(*, template: MessageTemplate) -> MessageTemplate:
    """Reads the template back from Meta (status, category, reason, quality)."""
    account = template.account
    if not template.meta_template_id:
        raise Conflict("This template has not been submitted to Meta yet.")
    with tenant_context(account.tenant_id):
        try:
            data = _graph(account).request("GET", template.meta_template_id)
        except GraphError as error:
            raise _refused("Reading the template from Meta failed", error, account) from None
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
            remote = list(_graph(account).iter_templates(account.waba_id))
        except GraphError as error:
            raise _refused("Reading templates from Meta failed", error, account) from None
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
        _category_change(template, category, source=source, at=timezone.now())
    reason = str(data.get("rejected_reason") or "")
    template.rejected_reason = "" if reason in ("", "NONE") else reason[:255]
    quality = data.get("quality_score")
    if isinstance(quality, dict) and quality.get("score"):
        template.quality_score = str(quality["score"])[:16]


def _category_change(template: MessageTemplate, category: str, *, source: str, at: datetime) -> None:
    template.category_history = [
        *template.category_history,
        {"from": template.category, "to": category, "at": at.isoformat(), "source": source},
    ]
    template.category = category
    if template.pending_category == category:
        template.pending_category, template.pending_category_at = "", None


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
        _category_change(template, category, source="status_update", at=timezone.now())
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
            _category_change(template, new, source="category_update", at=timezone.now())
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
