"""What the send path keeps of a person, for compliance's GDPR erase and message retention.

Registered with `compliance.privacy.register_personal_data` in `WhatsappConfig.ready()`:
compliance sits below whatsapp and never names it. An erased person's outbound messages keep their
state, category, timestamps, wamid and Meta's error code (billing and delivery statistics still
add up); their recipient (number and index), content (text, template values, media links) and
Meta's own words about the failure (which may quote what was sent) go.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Case, Q, Value, When
from django.db.models.expressions import Expression
from django.utils import timezone

from whatsapp.models import OutboundMessage

State = OutboundMessage.State
# A column really empty, not the encryption of "" (see compliance.privacy._EMPTY).
_EMPTY = Value("")
ERASED_SKIP_REASON = "Not sent: the contact was erased."


def explained_error_detail() -> Expression:
    """An error detail reduced to our own explanation of Meta's code ("" for codes we do not
    explain): Meta's message and details can quote the content, ours never do."""
    from whatsapp.sending.failures import EXPLANATIONS

    return Case(
        *(When(error_code=code, then=Value(text)) for code, text in EXPLANATIONS.items()),
        default=_EMPTY,
    )


def outbound_erase(*, person: Any) -> int:
    """Blanks the outbound messages sent (or to be sent) to the erased person: linked to the
    contact, or addressed to their number without the link. A message still queued will never
    go (no number is left): it is skipped with the reason. Returns how many rows changed."""
    match = Q(contact_id=person.contact_id)
    if person.customer_index:
        match |= Q(recipient_index=person.customer_index)
    rows = OutboundMessage.objects.filter(match)
    now = timezone.now()
    rows.filter(state=State.QUEUED).update(
        state=State.SKIPPED, next_attempt_at=None, error_code=None, error_detail=ERASED_SKIP_REASON, updated_at=now
    )
    return rows.update(
        recipient=_EMPTY,
        recipient_index="",
        content={},
        error_title="",
        error_detail=Case(When(error_code__isnull=True, then="error_detail"), default=explained_error_detail()),
        hold_reason="",
        updated_at=now,
    )


def outbound_expire(*, tenant_id: int, before: datetime) -> int:
    """Clears the content (text, template values, media links) of the workspace's outbound messages
    created before `before`, as message retention clears bodies. Messages not sent yet keep theirs:
    the dispatcher still needs it. Runs in the workspace's context. Returns how many rows changed."""
    return (
        OutboundMessage.objects.filter(tenant_id=tenant_id, created_at__lt=before)
        .exclude(state__in=(State.QUEUED, State.SENDING))
        .exclude(content={})
        .update(content={})
    )
