"""The dispatcher: the only code that sends a WhatsApp message (DESIGN §3, Outbound).

`message_enqueue` stores an `OutboundMessage` (queued) and hands it to the `sends` queue after
commit. `dispatch` (the job) walks the rules in this order, each able to stop the send:

1. kill-switches (global, then the workspace's) → held, retried when sending is back on; the
   number connected and active (`selectors.sending_problem`) → skipped with the reason (the ones
   queued when a number stops are skipped at once: `messages_skip_for_number`);
2. consent, quiet hours, frequency cap (`compliance.policy.can_send`) → skipped, or held until
   `send_after`; free-form messages need the 24-hour window (`free_form_allowed`) → skipped;
3. templates must be sendable (approved, not paused or disabled) → skipped;
4. Redis limits (whatsapp/ratelimits.py): the workspace's messages per minute, the number's token
   bucket (its throughput level, adaptive), one message per ~6 s to the same person, and the
   portfolio's messaging limit (unique people reached by templates outside a window, 24 h) → held
   with the time a retry may succeed;
5. the claim: `queued → sending` in one conditional UPDATE, committed before Meta is called, so a
   second worker or a re-run job finds nothing to send;
6. the Graph call (one attempt) → `sent` with Meta's wamid, or a classified failure: retryable
   ones go back to `queued` with exponential backoff (throttling also halves the number's rate),
   an answer that may have been lost becomes `unknown` (never re-sent blindly: the reconciler and
   the status webhooks settle it, `biz_opaque_callback_data` carrying our id), permanent ones are
   `failed` with Meta's code and what it means.
"""

from __future__ import annotations

import contextlib
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from aerostic.core.alerts import raise_alert
from aerostic.core.errors import DomainError
from aerostic.core.jobs import enqueue_on_commit
from compliance import policy
from compliance.selectors import sending_allowed
from inbox.services import customer_index
from whatsapp import ratelimits
from whatsapp.graph.errors import CircuitOpenError, GraphError, GraphNetworkError
from whatsapp.message_templates.selectors import is_sendable
from whatsapp.models import OutboundMessage, PhoneNumber
from whatsapp.selectors import sending_problem
from whatsapp.webhooks.values import digits

logger = logging.getLogger(__name__)

State = OutboundMessage.State
MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 300.0
KILL_SWITCH_RECHECK = timedelta(seconds=60)
SCHEDULE_AHEAD = timedelta(minutes=15)  # retries sooner than this go on RQ's scheduler
CALLBACK_PREFIX = "aerostic:outbound:"

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


class SendRefused(DomainError):
    """The message cannot even be queued (bad recipient, unknown number, missing template)."""


@dataclass(frozen=True)
class Outcome:
    state: str
    detail: str = ""


# --- enqueue


def message_enqueue(
    *,
    phone: PhoneNumber,
    to: Any,
    content: dict[str, Any],
    category: str,
    origin: str,
    contact: Any = None,
    template: Any = None,
    authentication_requested: bool = False,
    idempotency_key: str = "",
    actor: Any = None,
) -> OutboundMessage:
    """Stores the message (queued) and dispatches it after commit. The same idempotency key in the
    same workspace returns the message already stored instead of a second one."""
    wa_id = digits(to)
    if not 6 <= len(wa_id) <= 15:
        raise SendRefused("The recipient is not a WhatsApp number (digits with the country code).")
    if category not in OutboundMessage.Category.values:
        raise SendRefused(f"Unknown category {category!r}.")
    if not isinstance(content, dict) or not isinstance(content.get(str(content.get("type"))), dict):
        raise SendRefused("The message content is a Graph message object, e.g. {'type': 'text', 'text': {...}}.")
    if not phone.is_active:
        raise SendRefused("This phone number is not active.")
    if idempotency_key:
        existing = OutboundMessage.objects.filter(idempotency_key=idempotency_key[:128]).first()
        if existing is not None:
            return existing
    message = OutboundMessage(
        tenant_id=phone.tenant_id,
        phone_number=phone,
        contact=contact,
        recipient=wa_id,
        recipient_index=customer_index(tenant=phone.tenant_id, wa_id=wa_id),
        category=category,
        content={key: value for key, value in content.items() if key != "to"},
        template=template,
        origin=origin,
        authentication_requested=authentication_requested,
        idempotency_key=idempotency_key[:128],
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:  # the same key, stored a moment ago by a parallel request
        return OutboundMessage.objects.get(idempotency_key=idempotency_key[:128])
    _schedule(message)
    return message


def _schedule(message: OutboundMessage) -> None:
    from whatsapp.jobs import send_outbound

    enqueue_on_commit(send_outbound, queue="sends", tenant_id=message.tenant_id, message_id=message.pk)


# --- dispatch


def dispatch(message_id: int) -> str:
    """Moves one queued message as far as the rules allow. Runs inside the tenant's context in
    two transactions with Meta's call between them: read + rules + claim commit before the call
    (a crash after it leaves `sending`, never a second send), the outcome is written after it.
    Returns the state."""
    with transaction.atomic():
        message = (
            OutboundMessage.objects.select_related(
                "phone_number__account", "phone_number__tenant", "contact", "template"
            )
            .filter(pk=message_id)
            .first()
        )
        if message is None or message.state != State.QUEUED:
            return message.state if message else "gone"
        now = timezone.now()
        if message.next_attempt_at and message.next_attempt_at > now:
            return State.QUEUED  # an early duplicate job: the sweeper brings it back when due
        outcome = _check_rules(message, now)
        if outcome is not None:
            return outcome.state
        if not _claim(message, now):
            return "claimed elsewhere"
        from whatsapp.services import ConnectionProblem, graph_for

        try:
            client = graph_for(message.phone_number.account, max_attempts=1)
        except ConnectionProblem as problem:
            return _finish(message, State.FAILED, detail=problem.message).state
    return _send(message, client)


def _check_rules(message: OutboundMessage, now: datetime) -> Outcome | None:
    decision = sending_allowed(message.tenant_id)
    if not decision.allowed:
        return _hold(message, now + KILL_SWITCH_RECHECK, decision.reason)
    problem = sending_problem(message.phone_number)
    if problem:
        return _finish(message, State.SKIPPED, detail=problem)
    contact = message.contact
    if message.category == OutboundMessage.Category.SERVICE:
        conversation = _conversation_of(message)
        allowed = policy.free_form_allowed(conversation, now) if conversation else None
        if allowed is None or not allowed.allowed:
            reason = allowed.reason if allowed else "The customer has not written to this number."
            return _finish(message, State.SKIPPED, detail=reason)
    else:
        if message.template is not None and not is_sendable(message.template):
            return _finish(message, State.SKIPPED, detail=f"The template is {message.template.status.lower()}.")
        if contact is not None:
            verdict = policy.can_send(
                contact, message.category, now, authentication_requested=message.authentication_requested
            )
            if verdict.is_deferred:
                return _hold(message, verdict.send_after, verdict.reason)
            if not verdict.allowed:
                return _finish(message, State.SKIPPED, detail=verdict.reason)
        elif message.category == OutboundMessage.Category.MARKETING:
            return _finish(message, State.SKIPPED, detail="Marketing needs a contact with a recorded opt-in.")
    return _take_limits(message, now)


def _take_limits(message: OutboundMessage, now: datetime) -> Outcome | None:
    phone = message.phone_number
    tenant = phone.tenant
    try:
        permit = ratelimits.take_tenant_minute(message.tenant_id, per_minute=tenant.messages_per_minute)
        if not permit.allowed:
            return _hold(message, now + timedelta(seconds=permit.retry_after), permit.reason)
        rate = ratelimits.send_rate_of(phone)
        permit = ratelimits.take_number_token(phone.phone_number_id, rate=rate)
        if not permit.allowed:
            return _hold(message, now + timedelta(seconds=permit.retry_after), permit.reason)
        permit = ratelimits.take_pair(phone.phone_number_id, message.recipient_index)
        if not permit.allowed:
            ratelimits.refund_number_token(phone.phone_number_id)
            return _hold(message, now + timedelta(seconds=permit.retry_after), permit.reason)
        if message.category != OutboundMessage.Category.SERVICE and not _window_is_open(message, now):
            limit = ratelimits.MESSAGING_LIMITS.get(phone.messaging_limit_tier or "TIER_250", 250)
            portfolio = phone.account.business_id or phone.account.waba_id
            permit = ratelimits.reach_user(portfolio, message.recipient_index, limit=limit)
            if not permit.allowed:
                ratelimits.release_pair(phone.phone_number_id, message.recipient_index)
                ratelimits.refund_number_token(phone.phone_number_id)
                return _hold(message, now + timedelta(seconds=permit.retry_after or 3600), permit.reason)
    except ratelimits.RateLimitUnavailable:
        # Without the limits nothing is sent blindly: try again shortly.
        return _hold(message, now + timedelta(seconds=10), "Rate limits unavailable (Redis): retrying shortly.")
    return None


def _window_is_open(message: OutboundMessage, now: datetime) -> bool:
    conversation = _conversation_of(message)
    return bool(conversation and policy.window_open(conversation, now))


def _conversation_of(message: OutboundMessage) -> Any:
    from inbox.models import Conversation

    return Conversation.objects.filter(
        phone_number=message.phone_number, customer_index=message.recipient_index
    ).first()


def _claim(message: OutboundMessage, now: datetime) -> bool:
    claimed = OutboundMessage.objects.filter(pk=message.pk, state=State.QUEUED).update(
        state=State.SENDING, claimed_at=now, attempts=message.attempts + 1, hold_reason="", updated_at=now
    )
    if claimed:
        message.state, message.claimed_at, message.attempts = State.SENDING, now, message.attempts + 1
    return bool(claimed)


def _send(message: OutboundMessage, client: Any) -> str:
    phone = message.phone_number
    payload = {**message.content, "to": message.recipient.reveal(), "biz_opaque_callback_data": callback_data(message)}
    try:
        answer = client.send_message(phone.phone_number_id, payload)
    except GraphError as error:
        with transaction.atomic():
            return _failed_send(message, error).state
    wamid = str(((answer.get("messages") or [{}])[0]).get("id") or "")
    with contextlib.suppress(ratelimits.RateLimitUnavailable):  # the send happened: record it whatever Redis does
        ratelimits.number_succeeded(phone.phone_number_id)
    with transaction.atomic():
        return _sent(message, wamid).state


def callback_data(message: OutboundMessage) -> str:
    return f"{CALLBACK_PREFIX}{message.pk}"


def _sent(message: OutboundMessage, wamid: str) -> Outcome:
    from inbox.services import outbound_store

    now = timezone.now()
    OutboundMessage.objects.filter(pk=message.pk, state=State.SENDING).update(
        state=State.SENT, wamid=wamid, sent_at=now, updated_at=now
    )
    message.state, message.wamid, message.sent_at = State.SENT, wamid, now
    if wamid:
        outbound_store(
            phone=message.phone_number,
            to=message.recipient.reveal(),
            wamid=wamid,
            content=message.content,
            category=message.category,
            contact=message.contact,
        )
    return Outcome(State.SENT)


@dataclass(frozen=True)
class FailureVerdict:
    """What a Graph error means for a send, for every sender (this dispatcher, the campaign engine)."""

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


THROTTLE_CODES = frozenset({130429, 80007, 4, 613})
TEMPLATE_BLOCKED_CODES = frozenset({132015, 132016})


def classify_failure(error: GraphError, *, attempts: int, now: datetime) -> FailureVerdict:
    """Pure: the verdict on one failed send after `attempts` attempts (this one included)."""
    code = error.code
    if isinstance(error, GraphNetworkError) and error.maybe_delivered and not isinstance(error, CircuitOpenError):
        # The request may have reached Meta: sending again could send twice.
        return FailureVerdict(State.UNKNOWN, "Meta's answer was lost; the status will tell.", meta_refused=False)
    throttled = code in THROTTLE_CODES or error.http_status == 429
    explanation = EXPLANATIONS.get(code or 0, "") or error.describe()
    if code == 131050:
        return FailureVerdict(State.FAILED, explanation, opted_out=True)
    if code in ACCOUNT_DANGER_CODES:
        return FailureVerdict(State.FAILED, explanation, account_danger=True)
    if code in (190, 102):
        return FailureVerdict(State.FAILED, explanation, reauthorise=True)
    if code in TEMPLATE_BLOCKED_CODES:
        return FailureVerdict(State.FAILED, explanation, template_blocked=True)
    if code == 133010:
        return FailureVerdict(State.FAILED, explanation, number_blocked=True)
    if code in RETRY_LATER:
        return FailureVerdict(State.QUEUED, explanation, retry_at=now + RETRY_LATER[code], throttled=throttled)
    if error.is_retryable:
        if attempts >= MAX_ATTEMPTS:
            return FailureVerdict(
                State.FAILED, f"Gave up after {attempts} attempts: {explanation}", throttled=throttled
            )
        delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempts - 1))
        at = now + timedelta(seconds=random.uniform(delay / 2, delay))  # noqa: S311
        return FailureVerdict(State.QUEUED, explanation, retry_at=at, throttled=throttled)
    return FailureVerdict(State.FAILED, explanation)


def _failed_send(message: OutboundMessage, error: GraphError) -> Outcome:
    phone = message.phone_number
    verdict = classify_failure(error, attempts=message.attempts, now=timezone.now())
    if verdict.meta_refused:
        with contextlib.suppress(ratelimits.RateLimitUnavailable):
            ratelimits.release_pair(phone.phone_number_id, message.recipient_index)
            if verdict.throttled:
                ratelimits.number_throttled(phone.phone_number_id)
    if verdict.opted_out and message.contact is not None:
        record_marketing_stop(message.contact, reference=f"outbound:{message.pk}")
    if verdict.account_danger:
        pause_workspace(phone.tenant, error)
    if verdict.reauthorise:
        from whatsapp.services import mark_reauthorisation_needed

        mark_reauthorisation_needed(phone.account, error)
    if verdict.state == State.QUEUED:
        return _requeue(message, verdict.retry_at or timezone.now(), error)
    return _finish(message, verdict.state, error=error, detail=verdict.detail)


def record_marketing_stop(contact: Any, *, reference: str) -> None:
    from compliance.consent import consent_record
    from compliance.models import ConsentEvent

    consent_record(
        contact=contact,
        kind=ConsentEvent.Kind.OPT_OUT,
        source=ConsentEvent.Source.META_ERROR,
        evidence="Meta refused a marketing message: the person stopped marketing messages (131050).",
        dedupe_key=f"meta131050:{reference}",
    )


def pause_workspace(tenant: Any, error: GraphError) -> None:
    from compliance.services import tenant_sending_set

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


def _hold(message: OutboundMessage, until: datetime | None, reason: str) -> Outcome:
    """Stays queued, due again at `until`: soon ones are scheduled on RQ, later ones (and any the
    queue lost) are brought back by the due-message sweeper."""
    OutboundMessage.objects.filter(pk=message.pk, state=State.QUEUED).update(
        next_attempt_at=until, hold_reason=reason[:255], updated_at=timezone.now()
    )
    message.next_attempt_at, message.hold_reason = until, reason[:255]
    _schedule_retry(message, until)
    return Outcome(State.QUEUED, reason)


def _schedule_retry(message: OutboundMessage, at: datetime | None) -> None:
    if at is None or at - timezone.now() > SCHEDULE_AHEAD:
        return
    from aerostic import queues
    from whatsapp.jobs import send_outbound

    def schedule() -> None:
        # RQ's scheduler keeps whole seconds (it may fire up to one early): aim one second later,
        # or the job would find the message not yet due and leave it to the minutely sweeper.
        delay = max(timedelta(0), at - timezone.now()) + timedelta(seconds=1)
        try:
            queues.get_queue("sends").enqueue_in(
                delay, send_outbound, tenant_id=message.tenant_id, message_id=message.pk
            )
        except Exception:  # Redis down: the sweeper finds the row when it is due
            logger.warning("outbound retry not scheduled: queue unavailable")

    transaction.on_commit(schedule)  # the retry must see the hold it was scheduled for


def _requeue(message: OutboundMessage, at: datetime, error: GraphError) -> Outcome:
    OutboundMessage.objects.filter(pk=message.pk, state=State.SENDING).update(
        state=State.QUEUED,
        next_attempt_at=at,
        error_code=error.code,
        error_title=error.message[:255],
        hold_reason=f"Retrying after: {EXPLANATIONS.get(error.code or 0, error.message)}"[:255],
        updated_at=timezone.now(),
    )
    message.state, message.next_attempt_at = State.QUEUED, at
    _schedule_retry(message, at)
    return Outcome(State.QUEUED)


def _finish(message: OutboundMessage, state: str, *, error: GraphError | None = None, detail: str = "") -> Outcome:
    explanation = (
        detail or (EXPLANATIONS.get(error.code or 0, "") if error else "") or (error.describe() if error else "")
    )
    OutboundMessage.objects.filter(pk=message.pk, state__in=(State.QUEUED, State.SENDING)).update(
        state=state,
        error_code=error.code if error else None,
        error_title=(error.message[:255] if error else ""),
        error_detail=explanation[:500],
        hold_reason="",
        updated_at=timezone.now(),
    )
    message.state, message.error_detail = state, explanation[:500]
    return Outcome(state, explanation)


def messages_skip_for_number(*, phone: PhoneNumber, reason: str) -> int:
    """The number was disconnected or deactivated: what is still queued for it (due now, or held
    for quiet hours, limits or a kill-switch) will not go, and each says why at once instead of
    when its job would have come round. Sends already claimed end as Meta answers them."""
    return OutboundMessage.objects.filter(phone_number=phone, state=State.QUEUED).update(
        state=State.SKIPPED, error_detail=reason[:500], hold_reason="", updated_at=timezone.now()
    )


# --- reconciling


SENDING_TIMEOUT = timedelta(minutes=2)
LOST_JOB_AFTER = timedelta(minutes=1)


def stale_sends_mark_unknown(*, now: datetime | None = None) -> int:
    """A worker died between the claim and Meta's answer: after a timeout the row is `unknown`
    (never re-sent blindly); a status webhook for it settles it later. Every workspace at once:
    runs in the platform scope (the sweeper's job)."""
    cutoff = (now or timezone.now()) - SENDING_TIMEOUT
    return OutboundMessage.all_tenants.filter(state=State.SENDING, claimed_at__lt=cutoff).update(
        state=State.UNKNOWN, error_detail="The worker stopped before Meta answered; the status will tell."
    )


def status_settle(*, status: dict[str, Any]) -> bool:
    """A status webhook for a message whose send ended `unknown` (or is still `sending`): Meta has
    it, so it was sent (or failed); we learn its wamid here. True when a row changed."""
    from inbox.services import outbound_store

    data = str(status.get("biz_opaque_callback_data") or "")
    key = data[len(CALLBACK_PREFIX) :] if data.startswith(CALLBACK_PREFIX) else ""
    if not key.isdigit():
        return False
    open_states = (State.UNKNOWN, State.SENDING)
    message = OutboundMessage.objects.filter(pk=int(key), state__in=open_states).select_related("phone_number").first()
    if message is None:
        return False
    wamid, now = str(status.get("id") or ""), timezone.now()
    state = State.FAILED if status.get("status") == "failed" else State.SENT
    changed = OutboundMessage.objects.filter(pk=message.pk, state__in=open_states).update(
        state=state, wamid=wamid, sent_at=now, error_detail="", updated_at=now
    )
    if changed and wamid:
        outbound_store(
            phone=message.phone_number,
            to=message.recipient.reveal(),
            wamid=wamid,
            content=message.content,
            category=message.category,
            contact=message.contact,
        )
    return bool(changed)


def due_messages(*, now: datetime | None = None, limit: int = 1000) -> list[tuple[int, int]]:
    """(tenant_id, id) of queued messages to hand to the queue again: held ones whose time has come,
    and ones that were never held but sat a minute without being sent (their job was lost with a
    killed worker or a Redis restart). Platform scope (the sweeper's job)."""
    now = now or timezone.now()
    due = Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, updated_at__lt=now - LOST_JOB_AFTER)
    rows = OutboundMessage.all_tenants.filter(state=State.QUEUED).filter(due)
    return list(rows.order_by("next_attempt_at", "pk").values_list("tenant_id", "pk")[:limit])
