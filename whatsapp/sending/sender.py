"""One number's context for one stream (`NumberSender`): the gate before every chunk, the tokens
(rule 5's pacing half), rules 3 to 6 and the claim in one transaction, the concurrent Graph calls,
and the one place a send's end is written (outcomes in bulk, what was sent handed on through
whatsapp.fanout in the same transaction). The stream that drives it is whatsapp/sending/chain.py."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError

from aerostic.core import metrics
from compliance.policy import compliance_settings_for
from compliance.selectors import sending_allowed
from whatsapp import fanout
from whatsapp.graph.errors import GraphError, GraphNetworkError
from whatsapp.sending import limits, rules
from whatsapp.sending.failures import (
    EXPLANATIONS,
    FailureVerdict,
    classify_failure,
    pause_workspace,
    record_marketing_stop,
)
from whatsapp.sending.ledger import FAILED, QUEUED, SKIPPED, UNKNOWN, Outcome
from whatsapp.sending.rules import SendRequest, Verdicts

if TYPE_CHECKING:
    from whatsapp.sending.chain import Source

CHUNK_MAX = 100  # requests claimed and sent together
CHUNK_SECONDS = 0.25  # a chunk is at most this much of the number's rate: pauses bite within it
BREAKER_OPEN = "Calls to Meta are paused after repeated failures; they resume shortly."
REAUTHORISE = "The WhatsApp connection needs to be re-authorised."


class NumberSender:
    """One number's context for one stream: its limits, its client and breaker, counts."""

    def __init__(self, phone: Any, source: Source) -> None:
        from whatsapp.connections.clients import breaker_for, graph_for

        self.phone, self.source, self.ledger = phone, source, source.ledger
        self.account = phone.account
        self.tenant = phone.tenant
        self.settings = compliance_settings_for(phone.tenant_id)
        self.rate = limits.send_rate_of(phone)
        self.limit = limits.MESSAGING_LIMITS.get(phone.messaging_limit_tier or "TIER_250", 250)
        self.portfolio = self.account.business_id or self.account.waba_id
        # The breaker is asked once per chunk, not per call (two Redis round trips per message).
        self.client = graph_for(self.account, max_attempts=1, breaker=False)
        self.breaker = breaker_for(self.account)
        self.counts: Counter[str] = Counter()

    # -- the gate (rules 1 and 2)

    def stop_reason(self) -> str | None:
        """Why no more may be sent now (None: go on). Read from the database before every chunk."""
        from whatsapp.selectors import phone_sending_problem

        with transaction.atomic():  # one transaction: the scope is set once for the reads
            stop = self.source.gate()
            if stop:
                return stop
            decision = sending_allowed(self.tenant.pk)
            if not decision.allowed:
                self.source.switched_off(decision.reason)
                return decision.reason
            self.source.switched_on()
            problem = phone_sending_problem(self.phone.pk)
            if problem:
                self.source.stop(problem)
                return problem
        return None

    # -- tokens (rule 5, the pacing half)

    def tokens(self) -> tuple[int, float, str]:
        """(requests this chunk may send, seconds to wait when none, why)."""
        want = max(1, min(CHUNK_MAX, int(self.rate * CHUNK_SECONDS)))
        try:
            probe = self.breaker.permit()
        except RedisError as error:
            raise limits.RateLimitUnavailable("The circuit breaker is unavailable (Redis).") from error
        if probe == 0:
            state = self.breaker.state()
            wait = max(1.0, (state.retry_at or time.time() + self.breaker.cooldown) - time.time())
            return 0, wait, BREAKER_OPEN
        if probe == 1:
            want = 1  # half-open: one probe call decides whether the circuit closes
        granted, wait, rate = limits.take_number_tokens(self.phone.phone_number_id, rate=self.rate, want=want)
        # Come back when at least half a chunk's tokens are there (of the rate in force: a throttled
        # bucket holds fewer): streams sharing a slow bucket would otherwise send chunks of one or
        # two, each paying a whole chunk's database work.
        least = max(1, min(want, int(rate * CHUNK_SECONDS)) // 2)
        if granted < least:
            if granted:
                limits.refund_number_tokens(self.phone.phone_number_id, granted)
            return 0, max(wait, (least - granted) / rate), "The number's sending rate is reached."
        quota, quota_wait, why = limits.take_tenant_quota(
            self.tenant.pk, per_minute=self.tenant.messages_per_minute, per_day=self.source.per_day, want=granted
        )
        if quota < granted:
            limits.refund_number_tokens(self.phone.phone_number_id, granted - quota)
        if not quota:
            return 0, quota_wait, why
        return quota, 0.0, ""

    # -- rules 3 to 6: judge and claim, in one transaction

    def claim(self, count: int, now: datetime) -> list[SendRequest]:
        verdicts = Verdicts()
        with transaction.atomic():
            requests = []
            for row in self.source.due_rows(now, count):
                built = self.source.request_for(row)
                if isinstance(built, str):
                    verdicts.skipped.append((row.pk, built))
                else:
                    requests.append(built)
            candidates = rules.judge(self, requests, now, verdicts)
            for request in candidates:
                request.payload = {
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    **request.content,
                    "to": request.to,
                    "biz_opaque_callback_data": self.ledger.callback_data(request.id),
                }
            self.ledger.claim([request.id for request in candidates], now)
            self.ledger.write_skipped(verdicts.skipped, now)
            self.ledger.write_held(verdicts.held, now)
            if verdicts.stopped:
                self.source.stop_rows([row_id for row_id, _ in verdicts.stopped], verdicts.stopped[0][1], now)
        self.counts["skipped"] += len(verdicts.skipped)
        self.counts["held"] += len(verdicts.held)
        unused = count - len(candidates)
        if unused > 0:
            with contextlib.suppress(limits.RateLimitUnavailable):
                limits.refund_number_tokens(self.phone.phone_number_id, unused)
                limits.return_tenant_quota(self.tenant.pk, unused, per_day=self.source.per_day is not None)
        return candidates

    # -- the Graph calls

    def send(self, pool: ThreadPoolExecutor, items: list[SendRequest]) -> tuple[list[SendRequest], list[Future]]:
        """Starts the chunk's Graph calls; their results are recorded while the next chunk is
        claimed and sent (the database work of one chunk overlaps the HTTP calls of the next)."""
        return items, [pool.submit(self._send_one, item) for item in items]

    def _send_one(self, item: SendRequest) -> tuple[str, GraphError | None]:
        try:
            answer = self.client.send_message(self.phone.phone_number_id, item.payload)
        except GraphError as error:
            return "", error
        return str(((answer.get("messages") or [{}])[0]).get("id") or ""), None

    def record_sent(self, chunk: tuple[list[SendRequest], list[Future]]) -> None:
        items, futures = chunk
        self.record(items, [future.result() for future in futures])

    # -- the one place a send's end is written

    def record(self, items: list[SendRequest], outcomes: list[tuple[str, GraphError | None]]) -> None:
        now = timezone.now()
        sent = [(item, wamid) for item, (wamid, error) in zip(items, outcomes, strict=True) if error is None]
        failed = [(item, error) for item, (_wamid, error) in zip(items, outcomes, strict=True) if error is not None]
        verdicts = [
            (item, error, classify_failure(error, attempts=item.attempts + 1, now=now)) for item, error in failed
        ]
        with transaction.atomic():
            if sent:
                self.ledger.write_sent([(item.id, wamid) for item, wamid in sent], now)
                # The message store keeps them in the same transaction as the ledger's `sent`.
                fanout.sent(
                    phone=self.phone,
                    items=[
                        fanout.SentItem(
                            to=item.to,
                            wamid=wamid,
                            content=item.content,
                            category=item.category,
                            contact_id=item.contact.pk if item.contact is not None else None,
                            index=item.index,
                        )
                        for item, wamid in sent
                        if wamid
                    ],
                )
            if verdicts:
                self._write_failures(verdicts, now)
        self.counts["sent"] += len(sent)
        self.counts["failed or retried"] += len(failed)
        _count_outcomes(len(sent), verdicts)
        with contextlib.suppress(RedisError):
            if sent:
                self.breaker.record_success()
            for _item, error, _verdict in verdicts:
                # Meta unreachable or failing, not Meta pacing us (throttles slow the bucket instead).
                if isinstance(error, GraphNetworkError) or (error.http_status or 0) >= 500:
                    self.breaker.record_failure()
        with contextlib.suppress(limits.RateLimitUnavailable):
            if sent:
                limits.number_succeeded(self.phone.phone_number_id)
            refused = [item.index for item, _error, verdict in verdicts if verdict.meta_refused]
            limits.release_pairs(self.phone.phone_number_id, refused)
            if any(verdict.throttled for _item, _error, verdict in verdicts):
                limits.number_throttled(self.phone.phone_number_id)

    def _write_failures(self, verdicts: list[tuple[SendRequest, GraphError, FailureVerdict]], now: datetime) -> None:
        rows: list[Outcome] = []
        stop_reason = ""
        for item, error, verdict in verdicts:
            state = verdict.state if verdict.state in (QUEUED, UNKNOWN) else FAILED
            retry_at = verdict.retry_at
            if verdict.template_blocked or verdict.number_blocked:
                # Not the recipient's fault: the sender stops. A campaign pauses and its recipient
                # goes back in the queue for the resume; a one-off send is skipped with Meta's code.
                # A number deregistered at Meta (133010) is also what the chunk in flight while the
                # number is being disconnected meets.
                stop_reason = stop_reason or verdict.detail
                state, retry_at = (QUEUED, None) if self.source.requeue_refused else (SKIPPED, None)
            if verdict.opted_out and item.contact is not None:
                record_marketing_stop(item.contact, reference=f"{self.ledger.reference}:{item.id}")
            if verdict.reauthorise:
                from whatsapp.connections.tokens import mark_reauthorisation_needed

                mark_reauthorisation_needed(self.account, error)
                stop_reason = stop_reason or REAUTHORISE
            if verdict.account_danger and not stop_reason:
                pause_workspace(self.tenant, error)
                stop_reason = f"Meta error {error.code}: {EXPLANATIONS.get(error.code or 0, error.message)}"
            rows.append(Outcome(item.id, state, retry_at, error.code, error.message, verdict.detail))
        self.ledger.write_outcomes(rows, now)
        if stop_reason:
            self.source.meta_stopped(stop_reason)


def _count_outcomes(sent: int, verdicts: list[tuple[SendRequest, GraphError, FailureVerdict]]) -> None:
    """Platform-wide counters (aerostic.core.metrics): one Redis round trip per chunk."""
    outcomes: Counter[tuple[str, ...]] = Counter({("sent", ""): sent})
    throttled: Counter[tuple[str, ...]] = Counter()
    for _item, error, verdict in verdicts:
        outcome = {QUEUED: "retry", UNKNOWN: "unknown"}.get(verdict.state, "failed")
        outcomes[(outcome, str(error.code or error.http_status or "network"))] += 1
        if verdict.throttled:
            throttled[(str(error.code or ""),)] += 1
    metrics.count_all({"aerostic_sends": dict(outcomes), "aerostic_meta_throttled": dict(throttled)})
