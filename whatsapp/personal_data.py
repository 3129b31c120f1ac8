"""What whatsapp keeps of a person, for compliance's GDPR erase and message retention: the send
path's outbound messages, and the raw webhook bodies that name the person's number.

Registered with `compliance.privacy.register_personal_data` in `WhatsappConfig.ready()`:
compliance sits below whatsapp and never names it. An erased person's outbound messages keep their
state, category, timestamps, wamid and Meta's error code (billing and delivery statistics still
add up); their recipient (number and index), content (text, template values, media links) and
Meta's own words about the failure (which may quote what was sent) go. This workspace's raw webhook
bodies naming their number are replaced by REDACTED_WEBHOOK_BODY; the ones not yet routed to a
workspace age out with whatsapp.jobs.purge_webhook_events (WEBHOOK_RETENTION_DAYS).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from django.db.models import Case, Q, Value, When
from django.db.models.expressions import Expression
from django.utils import timezone

from aerostic.core import crypto
from whatsapp.models import OutboundMessage, WebhookEvent

State = OutboundMessage.State
# A column really empty, not the encryption of "" (an encrypted field would seal "" into a ciphertext).
_EMPTY = Value("")
ERASED_SKIP_REASON = "Not sent: the contact was erased."
# What a redacted raw webhook body becomes (encrypted like any body): still valid JSON, naming nobody.
REDACTED_WEBHOOK_BODY = json.dumps({"redacted": "contact erased"})


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


def webhook_events_naming(number: str) -> list[int]:
    """Ids of this workspace's raw webhook events that name the number. Bodies are encrypted, so
    no query can search them: each is decrypted, a batch at a time. A bounded scan all the same
    (one workspace's events, kept WEBHOOK_RETENTION_DAYS), and erasures are rare: correctness
    over speed. The number counts wherever it stands alone between non-digits: quoted in `from`,
    `wa_id` or `recipient_id`, and inside text such as a changed-number notice."""
    pattern = re.compile(rf"(?<![0-9]){re.escape(number)}(?![0-9])")
    found: list[int] = []
    last_id = 0
    while True:
        batch = list(WebhookEvent.objects.filter(pk__gt=last_id).order_by("pk").only("pk", "body")[:500])
        if not batch:
            return found
        for event in batch:
            try:
                text = event.body.reveal()
            except crypto.DecryptionError:
                continue  # no key opens it: nobody can read it either, and it ages out
            if pattern.search(text):
                found.append(event.pk)
        last_id = batch[-1].pk


def webhook_events_erase(*, person: Any) -> int:
    """Replaces this workspace's raw webhook bodies that name the erased person's number by
    REDACTED_WEBHOOK_BODY (in compliance's contact_erase transaction). Returns how many changed."""
    naming = webhook_events_naming(person.wa_id) if person.wa_id else []
    return WebhookEvent.objects.filter(pk__in=naming).update(body=REDACTED_WEBHOOK_BODY) if naming else 0
