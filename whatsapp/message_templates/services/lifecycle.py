"""A template's life at our end and Meta's: saving a draft (validated, within the workspace's
limits), submitting it for review or an edit, and deleting it at Meta. Audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from aerostic.core import audit
from aerostic.core.errors import Conflict, DomainError
from aerostic.core.tenant_context import tenant_context
from whatsapp.graph import GraphError
from whatsapp.message_templates.rules import Problem
from whatsapp.message_templates.services.common import (
    EDITABLE_AT_META,
    TemplateInvalid,
    category_change,
    graph_of,
    problems_of,
    refused,
    take_template_quota,
)
from whatsapp.models import MessageTemplate, WhatsAppAccount

Status = MessageTemplate.Status


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
        problems = problems_of(candidate)
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
            take_template_quota(tenant_id=account.tenant_id, action="create")
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
        problems = problems_of(template)
        if problems:
            raise TemplateInvalid(problems)
        editing = template.status in EDITABLE_AT_META and template.meta_template_id
        if not editing and template.status != Status.DRAFT:
            raise Conflict(f"A {template.get_status_display().lower()} template cannot be submitted now.")
        take_template_quota(tenant_id=account.tenant_id, action="submit")
        try:
            if editing:
                changes: dict[str, Any] = {"components": template.components}
                if template.status != Status.APPROVED:  # Meta fixes an approved template's category
                    changes["category"] = template.requested_category or template.category
                graph_of(account).edit_template(template.meta_template_id, changes)
                answer: dict[str, Any] = {}
            else:
                answer = graph_of(account).create_template(
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
            raise refused("Meta refused the template", error, account) from None
        now = timezone.now()
        template.meta_template_id = str(answer.get("id") or template.meta_template_id)
        template.status = str(answer.get("status") or Status.PENDING)
        template.rejected_reason = ""
        template.submitted_at = template.status_changed_at = now
        if answer.get("category") and answer["category"] != template.category:
            category_change(template, str(answer["category"]), source="approval", at=now)
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
                graph_of(account).delete_template(account.waba_id, name=name)
            except GraphError as error:
                raise refused("Meta refused the deletion", error, account) from None
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
