"""The rules every send obeys, in order, over a list of send requests (a single send is a list of one).

1. kill-switches (platform, then the workspace's) and 2. the number connected and active: asked
   for the whole stream before every chunk (`gate`), they stop the sender, not one recipient;
3. `can_send` (consent, US marketing, quiet hours, frequency cap) for templates, the 24-hour
   window for free-form messages;
4. the template sendable (approved, not paused or disabled): a template that is not stops the
   sender (a campaign pauses; a one-off send is skipped with the same words);
5. limits: the sender's capacity — the number's token bucket and the workspace's quota — is taken
   for the chunk *before* its rows are read (`sender.NumberSender.tokens`): a stream paced at 80
   msg/s must not read and judge rows it may not send yet, so while the capacity is spent the due
   rows wait with that reason, and are judged by the rules above when it returns. Then, here, the
   recipient's limits: the 6-second pair limit and the portfolio's messaging limit (one Redis
   round trip each for the whole list);
6. the claim (`ledger.Ledger.claim`), in the same transaction as the rows were read and judged.

Each rule is a function over the list that keeps the requests that pass and files the others in
a `Verdicts` (skipped with the reason, held until a time with the reason, or stopped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from compliance.policy import can_send, free_form_allowed, window_open
from whatsapp import fanout
from whatsapp.sending import limits

SERVICE, MARKETING = "SERVICE", "MARKETING"
NO_CONVERSATION = "The customer has not written to this number."
MARKETING_NEEDS_CONTACT = "Marketing needs a contact with a recorded opt-in."
PAIR_LIMIT = "This recipient got a message from this number less than 6 s ago."
TAKEN_OVER = "An agent took over this conversation: the AI's reply was not sent."
AUTOMATIC_ORIGINS = frozenset({"ai"})  # replies a person's takeover silences


@dataclass
class SendRequest:
    """One message to send from one number: a row of a ledger, rendered and ready."""

    id: int
    to: str  # recipient digits (wa_id)
    index: str  # the recipient's blind index (as conversations)
    content: dict[str, Any]  # the Graph message object without `to`
    category: str  # MARKETING / UTILITY / AUTHENTICATION / SERVICE
    contact: Any = None
    template: Any = None
    attempts: int = 0
    authentication_requested: bool = False
    payload: dict[str, Any] = field(default_factory=dict)  # what is POSTed to Meta
    origin: str = ""  # OutboundMessage.Origin for one-off sends


@dataclass
class Verdicts:
    skipped: list[tuple[int, str]] = field(default_factory=list)
    held: list[tuple[int, datetime, str]] = field(default_factory=list)
    stopped: list[tuple[int, str]] = field(default_factory=list)  # the sender stops; the row is the source's


def template_problem(template: Any) -> str | None:
    """Why this template may not be sent now, in the words every sender (and the campaign paused by
    Meta's template webhook) uses."""
    from whatsapp.message_templates.selectors import is_sendable

    if template is None or is_sendable(template):
        return None
    if template.status in ("PAUSED", "DISABLED"):
        return f"Meta {template.status.lower()} the template {template.name} ({template.language})."
    return f"The template {template.name} ({template.language}) is {template.get_status_display().lower()}."


def judge(sender: Any, requests: list[SendRequest], now: datetime, verdicts: Verdicts) -> list[SendRequest]:
    """Rules 3 to 5 over the list; what passes may be claimed."""
    conversations = _conversations(sender.phone, requests)
    requests = _consent_and_window(sender, requests, conversations, now, verdicts)
    requests = _templates(requests, verdicts)
    return _limits(sender, requests, conversations, now, verdicts)


def _conversations(phone: Any, requests: list[SendRequest]) -> dict[str, Any]:
    """The recipients' conversations with this number, by customer index: the message store's
    (registered in whatsapp.fanout), read once for the window rules below."""
    if not requests:
        return {}
    return fanout.message_store().conversations(phone=phone, indexes={request.index for request in requests})


def _consent_and_window(
    sender: Any, requests: list[SendRequest], conversations: dict[str, Any], now: datetime, verdicts: Verdicts
) -> list[SendRequest]:
    kept = []
    for request in requests:
        if request.category == SERVICE:
            conversation = conversations.get(request.index)
            decision = free_form_allowed(conversation, now) if conversation else None
            if decision is None or not decision.allowed:
                verdicts.skipped.append((request.id, decision.reason if decision else NO_CONVERSATION))
                continue
            # Checked at claim time, after the row is locked: an agent's takeover committed before
            # the claim wins (the inbox cancels the queued reply under the same row lock).
            if request.origin in AUTOMATIC_ORIGINS and getattr(conversation, "ai_paused_at", None) is not None:
                verdicts.skipped.append((request.id, TAKEN_OVER))
                continue
        elif request.contact is not None:
            decision = can_send(
                request.contact,
                request.category,
                now,
                settings=sender.settings,
                authentication_requested=request.authentication_requested,
            )
            if decision.is_deferred:
                assert decision.send_after is not None  # is_deferred: refused now, with a time to retry at
                verdicts.held.append((request.id, decision.send_after, decision.reason))
                continue
            if not decision.allowed:
                verdicts.skipped.append((request.id, decision.reason))
                continue
        elif request.category == MARKETING:
            verdicts.skipped.append((request.id, MARKETING_NEEDS_CONTACT))
            continue
        kept.append(request)
    return kept


def _templates(requests: list[SendRequest], verdicts: Verdicts) -> list[SendRequest]:
    problems: dict[int, str | None] = {}
    kept = []
    for request in requests:
        template = request.template
        if template is not None and template.pk not in problems:
            problems[template.pk] = template_problem(template)
        problem = problems.get(template.pk) if template is not None else None
        if problem:
            verdicts.stopped.append((request.id, problem))
        else:
            kept.append(request)
    return kept


def _limits(
    sender: Any, requests: list[SendRequest], conversations: dict[str, Any], now: datetime, verdicts: Verdicts
) -> list[SendRequest]:
    """The 6-second pair limit, then the portfolio's messaging limit for templates outside a window."""
    if not requests:
        return requests
    phone_id = sender.phone.phone_number_id
    waits = limits.take_pairs(phone_id, [request.index for request in requests])
    kept = []
    for request, wait in zip(requests, waits, strict=True):
        if wait > 0:
            verdicts.held.append((request.id, now + timedelta(seconds=wait), PAIR_LIMIT))
        else:
            kept.append(request)
    outside = [
        request
        for request in kept
        if request.category != SERVICE
        and not (request.index in conversations and window_open(conversations[request.index], now))
    ]
    if not outside:
        return kept
    waits = limits.reach_users(sender.portfolio, [request.index for request in outside], limit=sender.limit)
    refused = {request.id: wait for request, wait in zip(outside, waits, strict=True) if wait > 0}
    if not refused:
        return kept
    reason = f"The messaging limit ({sender.limit} users per 24 hours) is reached."
    verdicts.held.extend((row_id, now + timedelta(seconds=wait), reason) for row_id, wait in refused.items())
    limits.release_pairs(phone_id, [request.index for request in kept if request.id in refused])
    return [request for request in kept if request.id not in refused]
