"""One chunk of a batch: the gate, tokens, per-recipient rules and the claim, concurrent sends, results."""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError

from campaigns.engine.constants import BREAKER_OPEN, CALLBACK_PREFIX, CHUNK_MAX, CHUNK_SECONDS, HELD
from campaigns.engine.writes import (
    note_hold,
    pause_campaign,
    plus_one,
    write_held,
    write_outcomes,
    write_sent,
    write_skipped,
)
from campaigns.mapping import values_for
from campaigns.models import Campaign, CampaignMessage
from whatsapp import ratelimits
from whatsapp.dispatch import EXPLANATIONS, classify_failure, pause_workspace, record_marketing_stop
from whatsapp.graph.errors import GraphError, GraphNetworkError

logger = logging.getLogger(__name__)

State = CampaignMessage.State
Status = Campaign.Status


@dataclass
class Recipient:
    id: int
    to: str
    index: str
    payload: dict[str, Any]
    content: dict[str, Any]
    category: str
    contact: Any
    attempts: int


class BatchSender:
    def __init__(self, campaign: Campaign, batch: int) -> None:
        from compliance.policy import compliance_settings_for
        from whatsapp.services import breaker_for, graph_for

        self.campaign, self.batch = campaign, batch
        self.phone = campaign.phone_number
        self.account = self.phone.account
        self.tenant = campaign.tenant
        self.variants = {variant.pk: variant for variant in campaign.variants.select_related("template__account")}
        self.settings = compliance_settings_for(campaign.tenant_id)
        self.rate = ratelimits.send_rate_of(self.phone)
        self.limit = ratelimits.MESSAGING_LIMITS.get(self.phone.messaging_limit_tier or "TIER_250", 250)
        self.portfolio = self.account.business_id or self.account.waba_id
        # The breaker is asked once per chunk, not per call (two Redis round trips per message).
        self.client = graph_for(self.account, max_attempts=1, breaker=False)
        self.breaker = breaker_for(self.account)
        self.counts: Counter[str] = Counter()

    # -- the gate

    def stop_reason(self) -> str | None:
        """Why no more may be sent now (None: go on). Read from the database before every chunk."""
        with transaction.atomic():  # one transaction: the scope is set once for the five reads
            return self._stop_reason()

    def _stop_reason(self) -> str | None:
        from compliance.selectors import sending_allowed
        from whatsapp.message_templates.selectors import is_sendable
        from whatsapp.models import MessageTemplate
        from whatsapp.selectors import phone_sending_problem

        status, reason = Campaign.objects.filter(pk=self.campaign.pk).values_list(
            "status", "status_reason"
        ).first() or (None, "")
        if status != Status.RUNNING:
            return f"campaign {status}"
        decision = sending_allowed(self.campaign.tenant_id)
        if not decision.allowed:
            note_hold(self.campaign.pk, f"{HELD} {decision.reason}")
            return decision.reason
        if reason.startswith(HELD):
            note_hold(self.campaign.pk, "")
        problem = phone_sending_problem(self.phone.pk)
        if problem:
            # Disconnected or deactivated while running: a pause (the person resumes it once the
            # number is back), not a hold; the queued recipients stay queued.
            pause_campaign(self.campaign.pk, problem)
            return problem
        templates = MessageTemplate.objects.filter(
            pk__in=[variant.template_id for variant in self.variants.values()]
        ).select_related("account")
        for template in templates:
            if not is_sendable(template):
                reason = (
                    f"The template {template.name} ({template.language}) is {template.get_status_display().lower()}."
                )
                pause_campaign(self.campaign.pk, reason)
                return reason
        return None

    # -- one chunk

    def tokens(self) -> tuple[int, float, str]:
        """(recipients this chunk may send, seconds to wait when none, why)."""
        want = max(1, min(CHUNK_MAX, int(self.rate * CHUNK_SECONDS)))
        try:
            probe = self.breaker.permit()
        except RedisError as error:
            raise ratelimits.RateLimitUnavailable("The circuit breaker is unavailable (Redis).") from error
        if probe == 0:
            state = self.breaker.state()
            wait = max(1.0, (state.retry_at or time.time() + self.breaker.cooldown) - time.time())
            return 0, wait, BREAKER_OPEN
        if probe == 1:
            want = 1  # half-open: one probe call decides whether the circuit closes
        granted, wait, rate = ratelimits.take_number_tokens(self.phone.phone_number_id, rate=self.rate, want=want)
        # Come back when at least half a chunk's tokens are there (of the rate in force: a throttled
        # bucket holds fewer): workers sharing a slow bucket would otherwise send chunks of one or
        # two, each paying a whole chunk's database work.
        least = max(1, min(want, int(rate * CHUNK_SECONDS)) // 2)
        if granted < least:
            if granted:
                ratelimits.refund_number_tokens(self.phone.phone_number_id, granted)
            return 0, max(wait, (least - granted) / rate), "The number's sending rate is reached."
        quota, quota_wait, why = ratelimits.take_tenant_quota(
            self.tenant.pk,
            per_minute=self.tenant.messages_per_minute,
            per_day=self.tenant.campaign_sends_per_day,
            want=granted,
        )
        if quota < granted:
            ratelimits.refund_number_tokens(self.phone.phone_number_id, granted - quota)
        if not quota:
            return 0, quota_wait, why
        return quota, 0.0, ""

    def claim(self, count: int, now: datetime) -> list[Recipient]:
        """Picks up to `count` due recipients of the batch, applies the per-recipient rules and claims
        the ones that may go, in one transaction (committed before any Graph call)."""
        from compliance.policy import can_send
        from inbox.services import customer_index
        from whatsapp.message_templates.rendering import TemplateParameterError, render_template, template_message

        with transaction.atomic():
            rows = list(
                CampaignMessage.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(campaign_id=self.campaign.pk, batch=self.batch, state=State.QUEUED)
                .exclude(next_attempt_at__gt=now)
                .select_related("contact")
                .order_by("pk")[:count]
            )
            skipped: list[tuple[int, str]] = []
            held: list[tuple[int, datetime, str]] = []
            candidates: list[Recipient] = []
            for row in rows:
                contact = row.contact
                variant = self.variants[row.variant_id]
                template = variant.template
                phone_e164 = contact.phone.reveal() if contact.phone and not contact.is_erased else ""
                if not phone_e164:
                    skipped.append((row.pk, "No WhatsApp number (the contact was erased or has none)."))
                    continue
                verdict = can_send(contact, template.category, now, settings=self.settings)
                if verdict.is_deferred:
                    held.append((row.pk, verdict.send_after, verdict.reason))
                    continue
                if not verdict.allowed:
                    skipped.append((row.pk, verdict.reason))
                    continue
                values, missing = values_for(variant.mapping, contact, phone_e164)
                if values is None:
                    skipped.append((row.pk, missing))
                    continue
                try:
                    rendered = render_template(
                        components=template.components, parameter_format=template.parameter_format, values=values
                    )
                except TemplateParameterError as error:
                    skipped.append((row.pk, f"The contact's values do not fit the template: {error}"[:500]))
                    continue
                to = "".join(ch for ch in phone_e164 if ch.isdigit())
                content = {
                    "type": "template",
                    "template": template_message(name=template.name, language=template.language, rendered=rendered),
                }
                payload = {
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    **content,
                    "to": to,
                    "biz_opaque_callback_data": f"{CALLBACK_PREFIX}{row.pk}",
                }
                candidates.append(
                    Recipient(
                        row.pk,
                        to,
                        customer_index(tenant=self.tenant.pk, wa_id=to),
                        payload,
                        content,
                        template.category,
                        contact,
                        row.attempts,
                    )
                )
            candidates = self._limits(candidates, now, held)
            ids = [item.id for item in candidates]
            if ids:
                CampaignMessage.objects.filter(pk__in=ids, state=State.QUEUED).update(
                    state=State.SENDING, claimed_at=now, attempts=plus_one(), hold_reason="", updated_at=now
                )
            write_skipped(skipped, now)
            write_held(held, now)
        self.counts["skipped"] += len(skipped)
        self.counts["held"] += len(held)
        unused = count - len(candidates)
        if unused > 0:
            with contextlib.suppress(ratelimits.RateLimitUnavailable):
                ratelimits.refund_number_tokens(self.phone.phone_number_id, unused)
                ratelimits.return_tenant_quota(self.tenant.pk, unused)
        return candidates

    def _limits(self, items: list[Recipient], now: datetime, held: list[tuple[int, datetime, str]]) -> list[Recipient]:
        """The 6-second pair limit and the messaging limit, one Redis round trip each."""
        from compliance.policy import window_open
        from inbox.models import Conversation

        if not items:
            return items
        phone_id = self.phone.phone_number_id
        waits = ratelimits.take_pairs(phone_id, [item.index for item in items])
        kept = []
        for item, wait in zip(items, waits, strict=True):
            if wait > 0:
                held.append((item.id, now + timedelta(seconds=wait), "This recipient got a message less than 6 s ago."))
            else:
                kept.append(item)
        windows = {
            conversation.customer_index: conversation
            for conversation in Conversation.objects.filter(
                phone_number=self.phone, customer_index__in=[item.index for item in kept]
            )
        }
        outside = [item for item in kept if not (item.index in windows and window_open(windows[item.index], now))]
        if not outside:
            return kept
        waits = ratelimits.reach_users(self.portfolio, [item.index for item in outside], limit=self.limit)
        refused = {item.id for item, wait in zip(outside, waits, strict=True) if wait > 0}
        if refused:
            wait_by_id = {item.id: wait for item, wait in zip(outside, waits, strict=True)}
            reason = f"The messaging limit ({self.limit} people per 24 hours) is reached."
            held.extend((item_id, now + timedelta(seconds=wait_by_id[item_id]), reason) for item_id in refused)
            ratelimits.release_pairs(phone_id, [item.index for item in kept if item.id in refused])
        return [item for item in kept if item.id not in refused]

    def send(self, pool: ThreadPoolExecutor, items: list[Recipient]) -> tuple[list[Recipient], list[Future]]:
        """Starts the chunk's Graph calls; their results are recorded while the next chunk is
        claimed and sent (the database work of one chunk overlaps the HTTP calls of the next)."""
        return items, [pool.submit(self._send_one, item) for item in items]

    def record_sent(self, chunk: tuple[list[Recipient], list[Future]]) -> None:
        items, futures = chunk
        self.record(items, [future.result() for future in futures])

    def _send_one(self, item: Recipient) -> tuple[str, GraphError | None]:
        try:
            answer = self.client.send_message(self.phone.phone_number_id, item.payload)
        except GraphError as error:
            return "", error
        return str(((answer.get("messages") or [{}])[0]).get("id") or ""), None

    def record(self, items: list[Recipient], outcomes: list[tuple[str, GraphError | None]]) -> None:
        from inbox.services import SentItem, outbound_store_many

        now = timezone.now()
        sent = [(item, wamid) for item, (wamid, error) in zip(items, outcomes, strict=True) if error is None]
        failed = [(item, error) for item, (_wamid, error) in zip(items, outcomes, strict=True) if error is not None]
        verdicts = [
            (item, error, classify_failure(error, attempts=item.attempts + 1, now=now)) for item, error in failed
        ]
        with transaction.atomic():
            if sent:
                write_sent([(item.id, wamid) for item, wamid in sent], now)
                outbound_store_many(
                    phone=self.phone,
                    items=[
                        SentItem(
                            to=item.to,
                            wamid=wamid,
                            content=item.content,
                            category=item.category,
                            contact_id=item.contact.pk,
                        )
                        for item, wamid in sent
                        if wamid
                    ],
                )
            if verdicts:
                self._write_failures(verdicts, now)
        self.counts["sent"] += len(sent)
        self.counts["failed or retried"] += len(failed)
        with contextlib.suppress(RedisError):
            if sent:
                self.breaker.record_success()
            for _item, error, _verdict in verdicts:
                # Meta unreachable or failing, not Meta pacing us (throttles slow the bucket instead).
                if isinstance(error, GraphNetworkError) or (error.http_status or 0) >= 500:
                    self.breaker.record_failure()
        with contextlib.suppress(ratelimits.RateLimitUnavailable):
            if sent:
                ratelimits.number_succeeded(self.phone.phone_number_id)
            refused = [item.index for item, _error, verdict in verdicts if verdict.meta_refused]
            ratelimits.release_pairs(self.phone.phone_number_id, refused)
            if any(verdict.throttled for _item, _error, verdict in verdicts):
                ratelimits.number_throttled(self.phone.phone_number_id)

    def _write_failures(self, verdicts: list[tuple[Recipient, GraphError, Any]], now: datetime) -> None:
        from whatsapp.dispatch import State as OutboundState

        rows: list[tuple[int, str, datetime | None, int | None, str]] = []
        pause_reason = ""
        for item, error, verdict in verdicts:
            if verdict.template_blocked or verdict.number_blocked:
                # Not the recipient's fault: back in the queue, the campaign pauses (resumed later).
                # A number deregistered at Meta (133010) is also what the chunk in flight while
                # the number is being disconnected meets.
                rows.append((item.id, State.QUEUED, None, error.code, verdict.detail))
                what = "the template" if verdict.template_blocked else "the number"
                pause_reason = pause_reason or f"Meta refused {what}: {verdict.detail}"
                continue
            if verdict.opted_out:
                record_marketing_stop(item.contact, reference=f"campaign-message:{item.id}")
            if verdict.reauthorise:
                from whatsapp.services import mark_reauthorisation_needed

                mark_reauthorisation_needed(self.account, error)
                pause_reason = pause_reason or "The WhatsApp connection needs to be re-authorised."
            if verdict.account_danger and not pause_reason:
                pause_workspace(self.tenant, error)
                pause_reason = f"Meta error {error.code}: {EXPLANATIONS.get(error.code or 0, error.message)}"
            state = {
                OutboundState.QUEUED: State.QUEUED,
                OutboundState.UNKNOWN: State.UNKNOWN,
            }.get(verdict.state, State.FAILED)
            rows.append((item.id, state, verdict.retry_at, error.code, verdict.detail))
        write_outcomes(rows, now)
        if pause_reason:
            pause_campaign(self.campaign.pk, pause_reason)
