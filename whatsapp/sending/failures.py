"""What Meta's answer means for a send: the one failure classification, and what it sets off."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aerostic.core.alerts import raise_alert
from compliance.consent import consent_record
from compliance.models import ConsentEvent
from compliance.services import tenant_sending_set
from whatsapp.graph.errors import CircuitOpenError, GraphError, GraphNetworkError
from whatsapp.sending.ledger import FAILED, QUEUED, UNKNOWN

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 300.0

# What Meta's codes mean for a send, in words a business user understands.
EXPLANATIONS = {
    131026: "The recipient cannot receive WhatsApp messages (not on WhatsApp, or an old app).",
    131047: "More than 24 hours since the customer last wrote: send an approved template instead.",
    131049: "Meta holds back marketing messages to this person for now (per-user marketing limit).",
    131050: "The person stopped marketing messages from this business.",
    131051: "This message type is not supported.",
    131052: "The media could not be downloaded.",
    131053: "The media could not be uploaded.",
    131048: "Meta limited this number for spam: sending is paused for the workspace.",
    131064: "Meta restricted this account: sending is paused for the workspace.",
    131031: "The WhatsApp account is locked: sending is paused for the workspace.",
    368: "The account is temporarily blocked for policy violations: sending is paused for the workspace.",
    132000: "The template's parameters do not match its variables.",
    132001: "The template does not exist in this language.",
    132015: "The template is paused for low quality.",
    132016: "The template is disabled.",
    133010: "The phone number is not registered with the Cloud API.",
    190: "The WhatsApp connection needs to be re-authorised.",
}
ACCOUNT_DANGER_CODES = frozenset({131048, 131064, 131031, 368})
RETRY_LATER = {131057: timedelta(minutes=1), 131049: timedelta(hours=24)}


@dataclass(frozen=True)
class FailureVerdict:
    """What a Graph error means for a send, whoever sent it (one-off or campaign)."""

    state: str  # UNKNOWN (may have reached Meta), QUEUED (retry at `retry_at`) or FAILED
    detail: str = ""
    retry_at: datetime | None = None
    meta_refused: bool = True  # Meta did not take the message: the person's 6-second slot is free again
    throttled: bool = False  # slow the number down
    opted_out: bool = False  # 131050: record a marketing opt-out
    account_danger: bool = False  # pause the workspace, alert
    reauthorise: bool = False  # the token is dead
    template_blocked: bool = False  # 132015 / 132016: the template was paused or disabled
    number_blocked: bool = False  # 133010: the number is not registered (deregistered, disconnected)


def status_failure(status: dict[str, Any]) -> tuple[int | None, str]:
    """A `failed` status webhook's first error: Meta's code (None when it is not a number) and what
    it means, in our words when we have them, else Meta's title (at most 500 characters)."""
    errors = [error for error in status.get("errors") or [] if isinstance(error, dict)]
    first_code = errors[0].get("code") if errors else None
    code = first_code if isinstance(first_code, int) else None
    title = str(errors[0].get("title") or "") if errors else ""
    return code, (EXPLANATIONS.get(code or 0) or title or "Meta failed it.")[:500]


THROTTLE_CODES = frozenset({130429, 80007, 4, 613})
TEMPLATE_BLOCKED_CODES = frozenset({132015, 132016})


def classify_failure(error: GraphError, *, attempts: int, now: datetime) -> FailureVerdict:
    """Pure: the verdict on one failed send after `attempts` attempts (this one included)."""
    code = error.code
    if isinstance(error, GraphNetworkError) and error.maybe_delivered and not isinstance(error, CircuitOpenError):
        # The request may have reached Meta: sending again could send twice.
        return FailureVerdict(UNKNOWN, "Meta's answer was lost; the status will tell.", meta_refused=False)
    throttled = code in THROTTLE_CODES or error.http_status == 429
    explanation = EXPLANATIONS.get(code or 0, "") or error.describe()
    if code == 131050:
        return FailureVerdict(FAILED, explanation, opted_out=True)
    if code in ACCOUNT_DANGER_CODES:
        return FailureVerdict(FAILED, explanation, account_danger=True)
    if code in (190, 102):
        return FailureVerdict(FAILED, explanation, reauthorise=True)
    if code in TEMPLATE_BLOCKED_CODES:
        return FailureVerdict(FAILED, explanation, template_blocked=True)
    if code == 133010:
        return FailureVerdict(FAILED, explanation, number_blocked=True)
    if code in RETRY_LATER:
        return FailureVerdict(QUEUED, explanation, retry_at=now + RETRY_LATER[code], throttled=throttled)
    if error.is_retryable:
        if attempts >= MAX_ATTEMPTS:
            return FailureVerdict(FAILED, f"Gave up after {attempts} attempts: {explanation}", throttled=throttled)
        delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempts - 1))
        at = now + timedelta(seconds=random.uniform(delay / 2, delay))  # noqa: S311
        return FailureVerdict(QUEUED, explanation, retry_at=at, throttled=throttled)
    return FailureVerdict(FAILED, explanation)


def record_marketing_stop(contact: Any, *, reference: str) -> None:
    consent_record(
        contact=contact,
        kind=ConsentEvent.Kind.OPT_OUT,
        source=ConsentEvent.Source.META_ERROR,
        evidence="Meta refused a marketing message: the person stopped marketing messages (131050).",
        dedupe_key=f"meta131050:{reference}",
    )


def pause_workspace(tenant: Any, error: GraphError) -> None:
    reason = f"Meta error {error.code}: {EXPLANATIONS.get(error.code or 0, error.message)}"
    tenant_sending_set(tenant=tenant, enabled=False, reason=reason[:255], actor=None)
    raise_alert(
        tenant=tenant.pk,
        key="sending:account_danger",
        title="Sending paused: Meta restricted this WhatsApp account",
        detail=reason,
        level="critical",
    )
    logger.error("workspace sending paused by a Meta account error", extra={"code": error.code})
