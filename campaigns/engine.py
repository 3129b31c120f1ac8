"""The campaign engine: the audience snapshot at launch and the batch jobs that send it.

The rules are the dispatcher's (whatsapp/dispatch.py), applied to a chunk of recipients at a time:

1. the gate, before every chunk: the campaign still running, the kill-switches (global, workspace)
   on, every variant's template still sendable — a pause, a cancel or a switch flip stops new sends
   within one chunk (a chunk is at most a quarter of a second of the number's rate);
2. tokens for the chunk: the number's bucket, then the workspace's per-minute and per-day quota;
3. per recipient, in one transaction with the claim: consent, quiet hours and the frequency cap
   (`compliance.policy.can_send`), the variable values, the 6-second pair limit and the portfolio's
   messaging limit (one Redis round trip each for the whole chunk); refused ones are skipped or
   held with the time they may go, the rest claimed `queued → sending` and committed before Meta
   is called (a killed worker leaves `sending`: `unknown` later, never sent twice);
4. the Graph calls, concurrently on one keep-alive session;
5. the results in bulk: `sent` (+ the inbox), retries with backoff, `unknown`, `failed` with
   Meta's code and what it means (classified by `dispatch.classify_failure`).

A Redis lock per batch (refreshed every chunk) keeps one job per batch; the minutely sweeper
(`due_batches`) re-enqueues batches with due recipients and no live job — after a worker was
killed, Redis restarted, a retry came due or a kill-switch was turned back on.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from redis.exceptions import RedisError

from aerostic import queues
from campaigns.mapping import missing_value_sql, values_for
from campaigns.models import Campaign, CampaignMessage, CampaignVariant
from whatsapp import ratelimits
from whatsapp.dispatch import EXPLANATIONS, classify_failure, pause_workspace, record_marketing_stop
from whatsapp.graph.errors import GraphError

logger = logging.getLogger(__name__)

State = CampaignMessage.State
Status = Campaign.Status
BATCH_SIZE = 250  # recipients per batch job
CHUNK_MAX = 50  # recipients claimed and sent together
CHUNK_SECONDS = 0.25  # a chunk is at most this much of the number's rate: pauses bite within it
CONCURRENCY = 16  # Graph calls in flight per batch job
SWITCH_INTERVAL = 0.0005
LOCK_SECONDS = 30
SENDING_TIMEOUT = timedelta(minutes=2)
LOST_JOB_AFTER = timedelta(seconds=30)
SCHEDULE_AHEAD = timedelta(minutes=15)
QUOTA_WAIT_MAX = 5.0  # a longer wait for the workspace's quota holds the batch for the sweeper
CALLBACK_PREFIX = "aerostic:campaign:"
HELD = "Held:"  # a running campaign's status_reason while a kill-switch holds it


# --- the launch snapshot


def snapshot(campaign: Campaign) -> tuple[int, dict[str, int]]:
    """Inserts one queued CampaignMessage per audience contact (variant by percentage, batch number),
    then marks skipped the ones the rules already refuse, with their reason. A few statements,
    whatever the audience size. Returns (recipients, {reason: skipped})."""
    from campaigns.services import audience_contacts

    variants = list(campaign.variants.select_related("template").order_by("label"))
    audience_sql, audience_params = audience_contacts(campaign).values("pk").query.sql_with_params()
    bounds, cumulative = [], 0
    for variant in variants[:-1]:
        cumulative += variant.percentage
        bounds.append((cumulative, variant.pk))
    whens = " ".join("WHEN a.bucket < %s THEN %s" for _ in bounds)
    variant_case = f"CASE {whens} ELSE %s END" if bounds else "%s"
    variant_params: list[Any] = [value for bound in bounds for value in bound] + [variants[-1].pk]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO campaigns_campaignmessage
                (tenant_id, campaign_id, variant_id, contact_id, batch, state, attempts, hold_reason,
                 wamid, error_detail, updated_at)
            SELECT %s, %s, {variant_case}, a.id, (a.rn - 1) / %s, 'queued', 0, '', '', '', now()
            FROM (
                SELECT c.id, row_number() OVER (ORDER BY c.id) AS rn,
                       (row_number() OVER (ORDER BY md5(%s || c.id::text)) - 1) * 100 / count(*) OVER () AS bucket
                FROM contacts_contact c WHERE c.id IN ({audience_sql})
            ) a
            """,  # noqa: S608 (the pieces are fixed SQL; every value is a parameter)
            [campaign.tenant_id, campaign.pk, *variant_params, BATCH_SIZE, f"{campaign.pk}:", *audience_params],
        )
        total = cursor.rowcount
        for variant in variants:
            for condition, params, reason in _skip_rules(variant):
                cursor.execute(
                    f"""
                    UPDATE campaigns_campaignmessage m SET state = 'skipped', error_detail = %s
                    FROM contacts_contact c
                    WHERE m.contact_id = c.id AND m.campaign_id = %s AND m.variant_id = %s
                      AND m.state = 'queued' AND ({condition})
                    """,  # noqa: S608
                    [reason, campaign.pk, variant.pk, *params],
                )
        cursor.execute(
            "SELECT error_detail, count(*) FROM campaigns_campaignmessage"
            " WHERE campaign_id = %s AND state = 'skipped' GROUP BY 1 ORDER BY 2 DESC",
            [campaign.pk],
        )
        skipped = dict(cursor.fetchall())
    return total, skipped


def _skip_rules(variant: CampaignVariant) -> list[tuple[str, list[Any], str]]:
    """What `compliance.policy.can_send` would refuse for anyone, as SQL on contact `c`, in its order
    (the first matching reason is kept). Quiet hours and the frequency cap depend on the moment of
    the send: the batch job applies them."""
    from compliance.policy import US_MARKETING_STOPPED_ON, compliance_settings_for

    category = variant.template.category
    rules: list[tuple[str, list[Any], str]] = [("c.phone_index = ''", [], "No WhatsApp number.")]
    settings = compliance_settings_for(variant.tenant_id)
    if category == "MARKETING":
        rules.append(("c.consent_state = 'opted_out'", [], "The contact opted out: no marketing messages."))
        rules.append(
            (
                "c.consent_state <> 'opted_in'",
                [],
                "No marketing consent recorded for this contact: no consent, no marketing.",
            )
        )
        if timezone.now() >= US_MARKETING_STOPPED_ON:
            rules.append(
                (
                    "(c.country = 'US' OR (c.country = '' AND c.calling_code = 1))",
                    [],
                    "Meta does not deliver marketing templates to US (+1) numbers since 1 April 2025.",
                )
            )
    elif category == "UTILITY" and settings.block_utility_when_opted_out:
        rules.append(
            (
                "c.consent_state = 'opted_out'",
                [],
                "The contact opted out, and this workspace blocks utility messages then.",
            )
        )
    elif category == "AUTHENTICATION":
        rules.append(
            (
                "c.consent_state = 'opted_out'",
                [],
                "The contact opted out: authentication codes only when they ask for one.",
            )
        )
    return rules + missing_value_sql(variant.mapping)


# --- jobs in and out


def batches_of(campaign: Campaign) -> list[int]:
    """The batches with recipients still queued (any scope: filtered by the campaign)."""
    return list(
        CampaignMessage.all_tenants.filter(campaign_id=campaign.pk, state=State.QUEUED)
        .order_by("batch")
        .values_list("batch", flat=True)
        .distinct()
    )


def enqueue_batches(campaign: Campaign, batches: list[int] | None = None) -> int:
    """After commit: one job per batch with recipients still queued."""
    from campaigns.jobs import send_batch

    if batches is None:
        batches = batches_of(campaign)
    tenant_id, campaign_id = campaign.tenant_id, campaign.pk

    def enqueue() -> None:
        queue = queues.get_queue(queues.CAMPAIGNS)
        try:
            for batch in batches:
                queue.enqueue(send_batch, tenant_id=tenant_id, campaign_id=campaign_id, batch=batch)
        except Exception:  # Redis down: the sweeper enqueues them when it is back
            logger.warning("campaign batches not enqueued; the sweeper will", extra={"campaign": campaign_id})

    transaction.on_commit(enqueue)
    return len(batches)


def _lock_key(campaign_id: int, batch: int) -> str:
    return f"aerostic:campaign:{campaign_id}:batch:{batch}:job"


@contextlib.contextmanager
def _batch_lock(campaign_id: int, batch: int) -> Iterator[Any]:
    """One live job per batch: a second job for it (the sweeper's, a re-delivered one) leaves at once."""
    redis = queues.redis_connection()
    key, token = _lock_key(campaign_id, batch), f"{time.time()}"
    if not redis.set(key, token, nx=True, ex=LOCK_SECONDS):
        yield None
        return
    try:
        yield lambda: redis.expire(key, LOCK_SECONDS)
    finally:
        with contextlib.suppress(Exception):
            if redis.get(key) in (token, token.encode()):
                redis.delete(key)


def batch_is_running(campaign_id: int, batch: int) -> bool:
    return bool(queues.redis_connection().exists(_lock_key(campaign_id, batch)))


# --- sending one batch


@dataclass
class _Item:
    id: int
    to: str
    index: str
    payload: dict[str, Any]
    content: dict[str, Any]
    category: str
    contact: Any
    attempts: int


class _Batch:
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
        with transaction.atomic():  # one transaction: the scope is set once for the four reads
            return self._stop_reason()

    def _stop_reason(self) -> str | None:
        from compliance.selectors import sending_allowed
        from whatsapp.message_templates.selectors import is_sendable
        from whatsapp.models import MessageTemplate

        status, reason = Campaign.objects.filter(pk=self.campaign.pk).values_list(
            "status", "status_reason"
        ).first() or (None, "")
        if status != Status.RUNNING:
            return f"campaign {status}"
        decision = sending_allowed(self.campaign.tenant_id)
        if not decision.allowed:
            _note_hold(self.campaign.pk, f"{HELD} {decision.reason}")
            return decision.reason
        if reason.startswith(HELD):
            _note_hold(self.campaign.pk, "")
        templates = MessageTemplate.objects.filter(
            pk__in=[variant.template_id for variant in self.variants.values()]
        ).select_related("account")
        for template in templates:
            if not is_sendable(template):
                reason = (
                    f"The template {template.name} ({template.language}) is {template.get_status_display().lower()}."
                )
                _pause(self.campaign.pk, reason)
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
            return 0, float(self.breaker.cooldown), "Calls to Meta are paused after repeated failures."
        if probe == 1:
            want = 1  # half-open: one probe call decides whether the circuit closes
        granted, wait = ratelimits.take_number_tokens(self.phone.phone_number_id, rate=self.rate, want=want)
        if not granted:
            return 0, wait, "The number's sending rate is reached."
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

    def claim(self, count: int, now: datetime) -> list[_Item]:
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
            candidates: list[_Item] = []
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
                    _Item(
                        row.pk,
                        to,
                        customer_index(wa_id=to),
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
                    state=State.SENDING, claimed_at=now, attempts=_plus_one(), hold_reason="", updated_at=now
                )
            _write_skipped(skipped, now)
            _write_held(held, now)
        self.counts["skipped"] += len(skipped)
        self.counts["held"] += len(held)
        unused = count - len(candidates)
        if unused > 0:
            with contextlib.suppress(ratelimits.RateLimitUnavailable):
                ratelimits.refund_number_tokens(self.phone.phone_number_id, unused)
                ratelimits.return_tenant_quota(self.tenant.pk, unused)
        return candidates

    def _limits(self, items: list[_Item], now: datetime, held: list[tuple[int, datetime, str]]) -> list[_Item]:
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

    def send(self, pool: ThreadPoolExecutor, items: list[_Item]) -> tuple[list[_Item], list[Future]]:
        """Starts the chunk's Graph calls; their results are recorded while the next chunk is
        claimed and sent (the database work of one chunk overlaps the HTTP calls of the next)."""
        return items, [pool.submit(self._send_one, item) for item in items]

    def record_sent(self, chunk: tuple[list[_Item], list[Future]]) -> None:
        items, futures = chunk
        self.record(items, [future.result() for future in futures])

    def _send_one(self, item: _Item) -> tuple[str, GraphError | None]:
        try:
            answer = self.client.send_message(self.phone.phone_number_id, item.payload)
        except GraphError as error:
            return "", error
        return str(((answer.get("messages") or [{}])[0]).get("id") or ""), None

    def record(self, items: list[_Item], outcomes: list[tuple[str, GraphError | None]]) -> None:
        from inbox.services import SentItem, outbound_store_many

        now = timezone.now()
        sent = [(item, wamid) for item, (wamid, error) in zip(items, outcomes, strict=True) if error is None]
        failed = [(item, error) for item, (_wamid, error) in zip(items, outcomes, strict=True) if error is not None]
        verdicts = [
            (item, error, classify_failure(error, attempts=item.attempts + 1, now=now)) for item, error in failed
        ]
        with transaction.atomic():
            if sent:
                _write_sent([(item.id, wamid) for item, wamid in sent], now)
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
                if error.is_retryable:
                    self.breaker.record_failure()
        with contextlib.suppress(ratelimits.RateLimitUnavailable):
            if sent:
                ratelimits.number_succeeded(self.phone.phone_number_id)
            refused = [item.index for item, _error, verdict in verdicts if verdict.meta_refused]
            ratelimits.release_pairs(self.phone.phone_number_id, refused)
            if any(verdict.throttled for _item, _error, verdict in verdicts):
                ratelimits.number_throttled(self.phone.phone_number_id)

    def _write_failures(self, verdicts: list[tuple[_Item, GraphError, Any]], now: datetime) -> None:
        from whatsapp.dispatch import State as OutboundState

        rows: list[tuple[int, str, datetime | None, int | None, str]] = []
        pause_reason = ""
        for item, error, verdict in verdicts:
            if verdict.template_blocked:
                # Not the recipient's fault: back in the queue, the campaign pauses (resumed later).
                rows.append((item.id, State.QUEUED, None, error.code, verdict.detail))
                pause_reason = pause_reason or f"Meta refused the template: {verdict.detail}"
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
        _write_outcomes(rows, now)
        if pause_reason:
            _pause(self.campaign.pk, pause_reason)


def _plus_one() -> Any:
    from django.db.models import F

    return F("attempts") + 1


def _values(rows: list[tuple], types: list[str]) -> tuple[str, list[Any]]:
    row_sql = "(" + ", ".join(f"%s::{kind}" for kind in types) + ")"
    return ", ".join([row_sql] * len(rows)), [value for row in rows for value in row]


def _write_sent(rows: list[tuple[int, str]], now: datetime) -> None:
    values, params = _values(rows, ["bigint", "text"])
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE campaigns_campaignmessage m
            SET state = 'sent', wamid = v.wamid, sent_at = %s, error_code = NULL, error_detail = '', updated_at = %s
            FROM (VALUES {values}) AS v(id, wamid)
            WHERE m.id = v.id AND m.state = 'sending'
            """,  # noqa: S608
            [now, now, *params],
        )


def _write_outcomes(rows: list[tuple[int, str, datetime | None, int | None, str]], now: datetime) -> None:
    """Failures: retries back to `queued` at their time, `unknown`, `failed` (with failed_at)."""
    if not rows:
        return
    values, params = _values(
        [(row_id, state, at, code, detail[:500]) for row_id, state, at, code, detail in rows],
        ["bigint", "text", "timestamptz", "integer", "text"],
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE campaigns_campaignmessage m
            SET state = v.state, next_attempt_at = v.at, error_code = v.code,
                error_detail = v.detail,
                hold_reason = CASE WHEN v.state = 'queued' THEN left('Retrying after: ' || v.detail, 255) ELSE '' END,
                failed_at = CASE WHEN v.state = 'failed' THEN %s ELSE NULL END, updated_at = %s
            FROM (VALUES {values}) AS v(id, state, at, code, detail)
            WHERE m.id = v.id AND m.state = 'sending'
            """,  # noqa: S608
            [now, now, *params],
        )


def _write_skipped(rows: list[tuple[int, str]], now: datetime) -> None:
    if not rows:
        return
    values, params = _values([(row_id, reason[:500]) for row_id, reason in rows], ["bigint", "text"])
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE campaigns_campaignmessage m SET state = 'skipped', error_detail = v.reason, hold_reason = '',
                next_attempt_at = NULL, updated_at = %s
            FROM (VALUES {values}) AS v(id, reason)
            WHERE m.id = v.id AND m.state = 'queued'
            """,  # noqa: S608
            [now, *params],
        )


def _write_held(rows: list[tuple[int, datetime, str]], now: datetime) -> None:
    if not rows:
        return
    values, params = _values(
        [(row_id, at, reason[:255]) for row_id, at, reason in rows], ["bigint", "timestamptz", "text"]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE campaigns_campaignmessage m SET next_attempt_at = v.at, hold_reason = v.reason, updated_at = %s
            FROM (VALUES {values}) AS v(id, at, reason)
            WHERE m.id = v.id AND m.state = 'queued'
            """,  # noqa: S608
            [now, *params],
        )


def _note_hold(campaign_id: int, reason: str) -> None:
    Campaign.objects.filter(pk=campaign_id, status=Status.RUNNING).exclude(status_reason=reason[:255]).update(
        status_reason=reason[:255], updated_at=timezone.now()
    )


def _pause(campaign_id: int, reason: str) -> None:
    from aerostic.core import audit

    changed = Campaign.objects.filter(pk=campaign_id, status__in=(Status.RUNNING, Status.SCHEDULED)).update(
        status=Status.PAUSED, status_reason=reason[:255], updated_at=timezone.now()
    )
    if changed:
        campaign = Campaign.objects.get(pk=campaign_id)
        audit.record("campaign.pause", tenant=campaign.tenant_id, target=campaign, metadata={"reason": reason[:255]})


def send_batch(campaign_id: int, batch: int) -> dict[str, Any]:
    """Sends what the batch may send now. Inside the tenant's context (campaigns.jobs.send_batch)."""
    from whatsapp.services import ConnectionProblem

    with _batch_lock(campaign_id, batch) as keep_alive:
        if keep_alive is None:
            return {"result": "another job is on this batch"}
        campaign = Campaign.objects.select_related("phone_number__account", "tenant").filter(pk=campaign_id).first()
        if campaign is None or campaign.status != Status.RUNNING:
            return {"result": f"campaign {campaign.status if campaign else 'gone'}"}
        try:
            engine = _Batch(campaign, batch)
        except ConnectionProblem as problem:
            _pause(campaign_id, problem.message)
            return {"result": "paused", "reason": problem.message}
        result = "done"
        pending: tuple[list[_Item], list[Future]] | None = None
        pool = _pool()
        switch_interval = sys.getswitchinterval()
        # The sending threads would keep the GIL for 5 ms slices while this thread waits on
        # Postgres after every query (a convoy): shorter slices hand it back sooner.
        sys.setswitchinterval(SWITCH_INTERVAL)
        try:
            while True:
                keep_alive()
                stop = engine.stop_reason()
                if stop:
                    result = f"stopped: {stop}"
                    break
                try:
                    count, wait, why = engine.tokens()
                except ratelimits.RateLimitUnavailable:
                    result = "stopped: rate limits unavailable"  # the sweeper re-enqueues the batch
                    break
                if not count:
                    if wait > QUOTA_WAIT_MAX:
                        _hold_batch(campaign_id, batch, timezone.now() + timedelta(seconds=wait), why)
                        result = f"held: {why}"
                        break
                    time.sleep(min(wait, CHUNK_SECONDS))
                    continue
                try:
                    items = engine.claim(count, timezone.now())
                except ratelimits.RateLimitUnavailable:
                    result = "stopped: rate limits unavailable"
                    break
                if not items:
                    if pending is not None:
                        engine.record_sent(pending)
                        pending = None
                    if not _claimable(campaign_id, batch):
                        break
                    continue
                chunk = engine.send(pool, items)
                if pending is not None:
                    engine.record_sent(pending)
                pending = chunk
        finally:
            if pending is not None:
                engine.record_sent(pending)  # whatever stopped the loop, what was sent is written
            sys.setswitchinterval(switch_interval)
        _schedule_next(campaign)
    finish_if_done(campaign_id)
    return {"result": result, **engine.counts}


_POOLS: dict[int, ThreadPoolExecutor] = {}


def _pool() -> ThreadPoolExecutor:
    """One pool per worker process (RQ runs jobs in-process here: aerostic/worker.py), so a batch
    job does not start and stop its threads."""
    pool = _POOLS.get(os.getpid())
    if pool is None:
        pool = _POOLS[os.getpid()] = ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="campaign-send")
    return pool


def _claimable(campaign_id: int, batch: int) -> bool:
    return (
        CampaignMessage.objects.filter(campaign_id=campaign_id, batch=batch, state=State.QUEUED)
        .exclude(next_attempt_at__gt=timezone.now())
        .exists()
    )


def _hold_batch(campaign_id: int, batch: int, until: datetime, reason: str) -> None:
    CampaignMessage.objects.filter(campaign_id=campaign_id, batch=batch, state=State.QUEUED).exclude(
        next_attempt_at__gt=until
    ).update(next_attempt_at=until, hold_reason=reason[:255], updated_at=timezone.now())


def _schedule_next(campaign: Campaign) -> None:
    """Recipients held for a few seconds or minutes (pair limit, retries): the batch job comes back
    for them on RQ's scheduler; later ones are the sweeper's."""
    from django.db.models import Min

    from campaigns.jobs import send_batch

    now = timezone.now()
    due = (
        CampaignMessage.objects.filter(campaign=campaign, state=State.QUEUED, next_attempt_at__gt=now)
        .values("batch")
        .annotate(at=Min("next_attempt_at"))
    )
    queue = queues.get_queue(queues.CAMPAIGNS)
    for row in due:
        if row["at"] - now <= SCHEDULE_AHEAD:
            delay = row["at"] - now + timedelta(seconds=1)
            with contextlib.suppress(Exception):
                queue.enqueue_in(
                    delay, send_batch, tenant_id=campaign.tenant_id, campaign_id=campaign.pk, batch=row["batch"]
                )


def finish_if_done(campaign_id: int) -> bool:
    """Completed when nothing is queued or in flight (`unknown` ones are settled by statuses later)."""
    now = timezone.now()
    in_flight = CampaignMessage.objects.filter(campaign_id=campaign_id, state__in=(State.QUEUED, State.SENDING))
    changed = (
        Campaign.objects.filter(pk=campaign_id, status=Status.RUNNING)
        .exclude(pk__in=in_flight.values("campaign_id"))
        .update(status=Status.COMPLETED, status_reason="", finished_at=now, updated_at=now)
    )
    return bool(changed)


# --- the sweeper (platform scope)


def start_scheduled(now: datetime | None = None) -> list[Campaign]:
    """Scheduled campaigns whose time has come start running."""
    now = now or timezone.now()
    started = []
    for campaign in Campaign.all_tenants.filter(status=Status.SCHEDULED, send_at__lte=now):
        changed = Campaign.all_tenants.filter(pk=campaign.pk, status=Status.SCHEDULED).update(
            status=Status.RUNNING, started_at=now, updated_at=now
        )
        if changed:
            started.append(campaign)
    return started


def due_batches(
    now: datetime | None = None, *, tenant_id: int | None = None, quiet_for: timedelta = LOST_JOB_AFTER
) -> list[tuple[int, int, int]]:
    """(tenant_id, campaign_id, batch) of running campaigns' batches with due recipients, untouched
    for `quiet_for`, and no live job: their job was lost (killed worker, Redis restarted), a hold
    ended, a switch came back on. Platform scope; `tenant_id` narrows it to one workspace."""
    now = now or timezone.now()
    rows = CampaignMessage.all_tenants.filter(
        campaign__status=Status.RUNNING, state=State.QUEUED, updated_at__lt=now - quiet_for
    )
    if tenant_id is not None:
        rows = rows.filter(tenant_id=tenant_id)
    rows = rows.exclude(next_attempt_at__gt=now).values_list("tenant_id", "campaign_id", "batch").distinct()
    return [row for row in rows if not batch_is_running(row[1], row[2])]


def stale_sends_mark_unknown(now: datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - SENDING_TIMEOUT
    return CampaignMessage.all_tenants.filter(state=State.SENDING, claimed_at__lt=cutoff).update(
        state=State.UNKNOWN,
        error_detail="The worker stopped before Meta answered; the status will tell.",
        updated_at=timezone.now(),
    )


def running_campaigns_finish() -> int:
    return sum(
        finish_if_done(campaign_id)
        for campaign_id in Campaign.all_tenants.filter(status=Status.RUNNING).values_list("pk", flat=True)
    )


# --- statuses from Meta's webhooks


_STATUS_ORDER = {"sent": 1, "delivered": 2, "read": 3}
_TIMESTAMP = {"sent": "sent_at", "delivered": "delivered_at", "read": "read_at", "failed": "failed_at"}


def campaign_status_apply(*, status: dict[str, Any]) -> bool:
    """A status webhook for a campaign message (found by `biz_opaque_callback_data`, else by wamid):
    moves it forward (sent → delivered → read, or failed), and settles an `unknown` or `sending` one.
    A status never moves a message back (Meta may deliver them out of order or twice)."""
    name = str(status.get("status") or "")
    if name not in _TIMESTAMP:
        return False
    data = str(status.get("biz_opaque_callback_data") or "")
    key = data[len(CALLBACK_PREFIX) :] if data.startswith(CALLBACK_PREFIX) else ""
    wamid = str(status.get("id") or "")
    if key.isdigit():
        rows = CampaignMessage.objects.filter(pk=int(key))
    elif wamid:
        rows = CampaignMessage.objects.filter(wamid=wamid)
    else:
        return False
    at = _when(status.get("timestamp"))
    if name == "failed":
        errors = [e for e in status.get("errors") or [] if isinstance(e, dict)]
        code = errors[0].get("code") if errors else None
        code = code if isinstance(code, int) else None
        detail = (
            EXPLANATIONS.get(code or 0) or (str(errors[0].get("title") or "") if errors else "") or "Meta failed it."
        )
        changed = rows.filter(state__in=(State.SENDING, State.UNKNOWN, State.SENT, State.DELIVERED)).update(
            state=State.FAILED, failed_at=at, error_code=code, error_detail=detail[:500], updated_at=timezone.now()
        )
        if changed and wamid:
            rows.filter(wamid="").update(wamid=wamid)
        return bool(changed)
    earlier = [state for state, rank in _STATUS_ORDER.items() if rank < _STATUS_ORDER[name]]
    movable = [State.SENDING, State.UNKNOWN, *earlier]
    updates: dict[str, Any] = {"state": name, _TIMESTAMP[name]: at, "updated_at": timezone.now()}
    changed = rows.filter(state__in=movable).update(**updates)
    if changed and wamid:
        rows.filter(wamid="").update(wamid=wamid)
        rows.filter(sent_at__isnull=True).update(sent_at=at)
    # A later status may already have moved it on: still record when this one happened.
    rows.filter(**{f"{_TIMESTAMP[name]}__isnull": True}).exclude(state__in=(State.QUEUED, State.FAILED)).update(
        **{_TIMESTAMP[name]: at}
    )
    return bool(changed)


def _when(unix: Any) -> datetime:
    from datetime import UTC

    try:
        return datetime.fromtimestamp(int(unix), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return timezone.now()
