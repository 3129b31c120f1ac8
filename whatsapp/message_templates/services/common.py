"""What the template services share: the states that exist at Meta, the errors (local validation,
Meta's refusal), the Graph client of an account, the per-workspace creation and submission limits,
and the one way a category change is recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings

from aerostic.core.errors import DomainError, RateLimited
from whatsapp import ratelimits
from whatsapp.connections.clients import graph_for
from whatsapp.connections.tokens import mark_reauthorisation_needed
from whatsapp.graph import GraphAuthError, GraphError
from whatsapp.message_templates.rules import Problem, validate_template
from whatsapp.models import MessageTemplate, WhatsAppAccount

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


def graph_of(account: WhatsAppAccount) -> Any:
    return graph_for(account)


def refused(step: str, error: GraphError, account: WhatsAppAccount) -> TemplateRefused:
    if isinstance(error, GraphAuthError):
        mark_reauthorisation_needed(account, error)
    return TemplateRefused(f"{step}: {error.describe()}")


def problems_of(template: MessageTemplate) -> list[Problem]:
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


def take_template_quota(*, tenant_id: int, action: str) -> None:
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


def category_change(template: MessageTemplate, category: str, *, source: str, at: datetime) -> None:
    template.category_history = [
        *template.category_history,
        {"from": template.category, "to": category, "at": at.isoformat(), "source": source},
    ]
    template.category = category
    if template.pending_category == category:
        template.pending_category, template.pending_category_at = "", None
