"""One-off sends (API, inbox replies, keyword confirmations; AI replies and automations next):
stored as `OutboundMessage` rows and sent by the one send path (whatsapp/sending/), number by number.

`message_enqueue` stores the message (queued) and, after commit, hands the number's stream to the
`sends` queue unless one is already waiting there: an integrator's burst of OTPs to one number is
a few stream jobs that each drain what is due in chunks (claim, concurrent Graph calls, outcomes in
bulk), not one job per message. The rules, the claim, the outcome writes, the failure
classification and the `unknown` reconciliation are the campaign's too (whatsapp/sending/):
`OutboundSource` only says which rows are due and what stopping means for one-off sends — the
number disconnected or a template no longer sendable skips them with the reason, a kill-switch
holds them until it is back on.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from aerostic.core.errors import DomainError
from aerostic.core.values import digits
from contacts.phones import customer_index
from whatsapp import fanout
from whatsapp.models import OutboundMessage, PhoneNumber
from whatsapp.sending import chain
from whatsapp.sending.ledger import Ledger, register_ledger
from whatsapp.sending.rules import SendRequest
from whatsapp.sending.sweeper import SENDING_TIMEOUT, on_sweep

logger = logging.getLogger(__name__)

State = OutboundMessage.State
SENDS_QUEUE = "sends"
LOST_JOB_AFTER = timedelta(minutes=1)
CALLBACK_PREFIX = "aerostic:outbound:"


def _store_settled(rows: list[Any], status: dict[str, Any]) -> None:
    """A lost answer settled by a status: the message appears in its conversation as it would have
    (handed on as the send path hands what it sent, a batch of one)."""
    for message in rows:
        fanout.sent(
            phone=message.phone_number,
            items=[
                fanout.SentItem(
                    to=message.recipient.reveal(),
                    wamid=str(status.get("id") or ""),
                    content=message.content,
                    category=message.category,
                    contact_id=message.contact_id,
                    index=message.recipient_index,
                )
            ],
        )


OUTBOUND = register_ledger(
    Ledger(
        model=OutboundMessage,
        callback_prefix=CALLBACK_PREFIX,
        reference="outbound",
        has_error_title=True,
        on_settled=_store_settled,
    )
)


def callback_data(message: OutboundMessage) -> str:
    return OUTBOUND.callback_data(message.pk)


class SendRefused(DomainError):
    """The message cannot even be queued (bad recipient, unknown number, missing template)."""


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
    enqueue_streams([(message.tenant_id, message.phone_number_id)])


def _stream_keys(phone_id: int) -> tuple[str, str]:
    return f"aerostic:sends:{phone_id}:job", f"aerostic:sends:{phone_id}:queued"


def enqueue_streams(numbers: list[tuple[int, int]], *, force: bool = False) -> int:
    """After commit: a stream job per (tenant, number) unless one waits in the queue already."""
    from whatsapp.jobs import send_outbound

    jobs = [
        (_stream_keys(phone_id)[1], send_outbound, {"tenant_id": tenant_id, "phone_id": phone_id})
        for tenant_id, phone_id in dict.fromkeys(numbers)
    ]
    return chain.mark_and_enqueue(SENDS_QUEUE, jobs, force=force)


class OutboundSource(chain.Source):
    """A number's queued one-off sends, as a stream's rows. A kill-switch holds them (the default);
    a stopped number skips them."""

    ledger = OUTBOUND
    linger = 0.1  # API sends arrive one request at a time: a stream catches the next ones
    requeue_refused = False  # Meta refused the template or the number: this message is skipped
    related = ("contact", "template__account")

    def __init__(self, phone: PhoneNumber) -> None:
        self.phone = phone
        self.lock_key, self.queued_key = _stream_keys(phone.pk)

    def queued(self) -> Any:
        return OutboundMessage.objects.filter(phone_number_id=self.phone.pk, state=State.QUEUED)

    def request_for(self, row: OutboundMessage) -> SendRequest | str:
        return SendRequest(
            id=row.pk,
            to=row.recipient.reveal(),
            index=row.recipient_index,
            content=row.content,
            category=row.category,
            contact=row.contact,
            template=row.template,
            attempts=row.attempts,
            authentication_requested=row.authentication_requested,
            origin=row.origin,
        )

    def stop(self, reason: str) -> None:
        messages_skip_for_number(phone=self.phone, reason=reason)

    def stop_rows(self, ids: list[int], reason: str, now: datetime) -> None:
        self.ledger.write_skipped([(row_id, reason) for row_id in ids], now)

    def job(self) -> tuple[Any, dict[str, Any]]:
        from whatsapp.jobs import send_outbound

        return send_outbound, {"tenant_id": self.phone.tenant_id, "phone_id": self.phone.pk}


def drain(phone_id: int) -> dict[str, Any]:
    """Sends what is due for this number now (the `sends` job). Inside the tenant's context."""
    phone = PhoneNumber.objects.select_related("account", "tenant").filter(pk=phone_id).first()
    if phone is None:
        return {"result": "gone"}
    return chain.stream(OutboundSource(phone), phone, queue_name=SENDS_QUEUE)


def messages_skip_for_number(*, phone: PhoneNumber, reason: str) -> int:
    """The number was disconnected or deactivated: what is still queued for it (due now, or held
    for quiet hours, limits or a kill-switch) will not go, and each says why at once instead of
    when its stream would have come round. Sends already claimed end as Meta answers them."""
    return OutboundMessage.objects.filter(phone_number=phone, state=State.QUEUED).update(
        state=State.SKIPPED, error_detail=reason[:500], hold_reason="", next_attempt_at=None, updated_at=timezone.now()
    )


def automatic_replies_cancel(*, phone_id: int, recipient_index: str, origins: list[str], reason: str) -> int:
    """A person took the conversation over: automatic replies still queued to this recipient are
    skipped with `reason`. A row a stream has locked for its claim is waited for and then left
    alone (it is Meta's by then): the caller sees it among `automatic_replies_claimed`."""
    return OutboundMessage.objects.filter(
        phone_number_id=phone_id, recipient_index=recipient_index, origin__in=origins, state=State.QUEUED
    ).update(
        state=State.SKIPPED, error_detail=reason[:500], hold_reason="", next_attempt_at=None, updated_at=timezone.now()
    )


def automatic_replies_claimed(*, phone_id: int, recipient_index: str, origins: list[str], since: datetime) -> bool:
    """Whether an automatic reply to this recipient created since `since` was taken by the send path."""
    return OutboundMessage.objects.filter(
        phone_number_id=phone_id,
        recipient_index=recipient_index,
        origin__in=origins,
        created_at__gte=since,
        state__in=(State.SENDING, State.SENT, State.UNKNOWN),
    ).exists()


# --- the sweeper's reads (platform scope)


def due_numbers(*, now: datetime | None = None) -> list[tuple[int, int]]:
    """(tenant_id, phone_number_id) of numbers with queued messages to hand to the queue again:
    held ones whose time has come, and ones that sat a minute without being sent (their stream job
    was lost with a killed worker or a Redis restart)."""
    now = now or timezone.now()
    due = Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, updated_at__lt=now - LOST_JOB_AFTER)
    rows = OutboundMessage.all_tenants.filter(state=State.QUEUED).filter(due)
    return list(rows.values_list("tenant_id", "phone_number_id").distinct())


@on_sweep
def requeue_due_numbers(now: datetime) -> int:
    return enqueue_streams(due_numbers(now=now), force=True)


__all__ = ["SENDING_TIMEOUT", "SendRefused", "callback_data", "drain", "due_numbers", "message_enqueue"]
