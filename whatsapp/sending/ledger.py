"""The state tables of sends and the only code that moves their states.

Two tables hold sends: `whatsapp.OutboundMessage` (one-off sends: API, inbox, keyword replies,
AI and automations later) and `campaigns.CampaignMessage` (a campaign's audience). They stay two
because a campaign's row is cheap by design: launch snapshots 100,000 of them in a few set-based
statements from contact ids alone (no recipient to encrypt, no content to store: the template is
rendered per chunk at send time), and it carries what only a campaign has (variant, batch, cost
estimate, delivered/read progress for the report). Their send columns are the same (state,
attempts, next_attempt_at, hold_reason, wamid, error_code, error_detail, claimed_at, sent_at), so
one `Ledger` per table writes both with the same statements: one claim, one set of outcome
writes, one `unknown` marking, one settle-from-status. The campaign app registers its ledger
(`register_ledger`) so whatsapp never imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from django.db.models import F, Manager
from django.db.models.options import Options
from django.utils import timezone

from aerostic.core.ids import parse_row_id
from aerostic.core.sqlrows import bound_cursor, json_rows
from aerostic.core.tenant_scoped import TenantScopedManager

QUEUED, SENDING, SENT, FAILED, SKIPPED, UNKNOWN = "queued", "sending", "sent", "failed", "skipped", "unknown"
LOST_ANSWER = "The worker stopped before Meta answered; the status will tell."
RETRYING = "Retrying after: "


def _rows(rows: list[tuple], columns: dict[str, str]) -> tuple[str, list[Any]]:
    """The rows as one JSON parameter (aerostic.core.sqlrows): the FROM item `v` with these
    columns and types, and its parameter."""
    source = f"jsonb_to_recordset(%s::jsonb) AS v({', '.join(f'{name} {kind}' for name, kind in columns.items())})"
    return source, [json_rows(dict(zip(columns, row, strict=True)) for row in rows)]


_OUTCOME_COLUMNS = {
    "id": "bigint",
    "state": "text",
    "at": "timestamptz",
    "code": "integer",
    "title": "text",
    "detail": "text",
}
_SETTLE_COLUMNS = {"id": "bigint", "state": "text", "wamid": "text", "code": "integer", "detail": "text"}


@dataclass(frozen=True)
class Outcome:
    """A send's end after Meta answered with an error: back to `queued` at `retry_at`, `unknown`
    or `failed` (with Meta's code, title and what it means)."""

    id: int
    state: str
    retry_at: datetime | None
    code: int | None
    title: str
    detail: str


class SendTable(Protocol):
    """What a Ledger needs of its model: a tenant-scoped model (both managers) with the send columns
    (state, attempts, claimed_at, …). The columns are on no shared base, so the type checker cannot
    check their lookups; the ledger's tests do."""

    objects: ClassVar[TenantScopedManager]
    all_tenants: ClassVar[Manager[Any]]
    _meta: ClassVar[Options[Any]]


@dataclass(frozen=True)
class Ledger:
    model: type[SendTable]
    callback_prefix: str  # biz_opaque_callback_data = prefix + row id: a status finds its row by it
    reference: str  # consent dedupe references of Meta's 131050 refusals: f"{reference}:{id}"
    has_failed_at: bool = False
    has_error_title: bool = False
    # After a lost answer is settled by a status (inbox storage of one-off sends).
    on_settled: Callable[[list[Any], dict[str, Any]], None] | None = field(default=None, compare=False)

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    def callback_data(self, row_id: int) -> str:
        return f"{self.callback_prefix}{row_id}"

    # -- the claim

    def claim(self, ids: list[int], now: datetime) -> int:
        """queued → sending in one conditional UPDATE, committed before Meta is called: a second
        worker or a re-run job finds nothing to send, a crash after it leaves `sending`."""
        if not ids:
            return 0
        return self.model.objects.filter(pk__in=ids, state=QUEUED).update(
            state=SENDING, claimed_at=now, attempts=F("attempts") + 1, hold_reason="", updated_at=now
        )

    # -- outcomes, one statement per kind

    def write_sent(self, rows: list[tuple[int, str]], now: datetime) -> None:
        if not rows:
            return
        values, params = _rows(rows, {"id": "bigint", "wamid": "text"})
        title = ", error_title = ''" if self.has_error_title else ""
        self._execute(
            f"""
            UPDATE {self.table} m
            SET state = 'sent', wamid = v.wamid, sent_at = %s, error_code = NULL, error_detail = ''{title},
                updated_at = %s
            FROM {values}
            WHERE m.id = v.id AND m.state = 'sending'
            """,  # noqa: S608
            [now, now, *params],
        )

    def write_outcomes(self, rows: list[Outcome], now: datetime) -> None:
        if not rows:
            return
        values, params = _rows(
            [(row.id, row.state, row.retry_at, row.code, row.title[:255], row.detail[:500]) for row in rows],
            _OUTCOME_COLUMNS,
        )
        extra, stamps = "", [now]
        if self.has_failed_at:
            extra, stamps = ", failed_at = CASE WHEN v.state = 'failed' THEN %s ELSE NULL END", [now, now]
        if self.has_error_title:
            extra += ", error_title = v.title"
        self._execute(
            f"""
            UPDATE {self.table} m
            SET state = v.state, next_attempt_at = v.at, error_code = v.code, error_detail = v.detail,
                hold_reason = CASE WHEN v.state = 'queued' THEN left('{RETRYING}' || v.detail, 255) ELSE '' END,
                updated_at = %s{extra}
            FROM {values}
            WHERE m.id = v.id AND m.state = 'sending'
            """,  # noqa: S608
            [*stamps, *params],
        )

    def write_skipped(self, rows: list[tuple[int, str]], now: datetime) -> None:
        """Refused by a rule: `skipped` with the reason (only a queued row: a claimed one is Meta's)."""
        if not rows:
            return
        values, params = _rows([(row_id, reason[:500]) for row_id, reason in rows], {"id": "bigint", "reason": "text"})
        self._execute(
            f"""
            UPDATE {self.table} m SET state = 'skipped', error_detail = v.reason, hold_reason = '',
                next_attempt_at = NULL, updated_at = %s
            FROM {values}
            WHERE m.id = v.id AND m.state = 'queued'
            """,  # noqa: S608
            [now, *params],
        )

    def write_held(self, rows: list[tuple[int, datetime, str]], now: datetime) -> None:
        """Not now: stays queued, due again at its time, saying why it waits."""
        if not rows:
            return
        values, params = _rows(
            [(row_id, at, reason[:255]) for row_id, at, reason in rows],
            {"id": "bigint", "at": "timestamptz", "reason": "text"},
        )
        self._execute(
            f"""
            UPDATE {self.table} m SET next_attempt_at = v.at, hold_reason = v.reason, updated_at = %s
            FROM {values}
            WHERE m.id = v.id AND m.state = 'queued'
            """,  # noqa: S608
            [now, *params],
        )

    def _execute(self, sql: str, params: list[Any]) -> None:
        with bound_cursor() as cursor:
            cursor.execute(sql, params)

    # -- reconciling

    def stale_mark_unknown(self, cutoff: datetime) -> int:
        """Claimed before `cutoff` and never answered (the worker died): `unknown`, never re-sent
        blindly; a status webhook settles it. Every workspace (the sweeper's platform scope)."""
        return self.model.all_tenants.filter(state=SENDING, claimed_at__lt=cutoff).update(
            state=UNKNOWN, error_detail=LOST_ANSWER, updated_at=timezone.now()
        )

    def settle_many(self, items: list[tuple[int, dict[str, Any]]]) -> set[int]:
        """Statuses for sends whose answer was lost (`unknown`) or never came (`sending`): Meta has
        them, so they were sent (or failed, with Meta's code); their wamids are learnt here. One
        UPDATE for all; a row is settled by its first status (the next ones find it settled).
        Returns the ids of the rows that changed. Later statuses (delivered, read) are the caller's
        to apply."""
        # failures reads the ledger's states: imported here, where it is used, to keep the pair acyclic.
        from whatsapp.sending.failures import status_failure

        firsts: dict[int, dict[str, Any]] = {}
        for row_id, status in items:
            firsts.setdefault(row_id, status)
        if not firsts:
            return set()
        rows = []
        for row_id, status in firsts.items():
            code, detail, state = None, "", SENT
            if status.get("status") == "failed":
                state, (code, detail) = FAILED, status_failure(status)
            rows.append((row_id, state, str(status.get("id") or ""), code, detail))
        now = timezone.now()
        settled = {}
        if self.on_settled is not None:  # rare (lost answers): the rows as they were, for the callback
            settled = {row.pk: row for row in self.model.objects.filter(pk__in=firsts, state__in=(UNKNOWN, SENDING))}
        values, params = _rows(
            rows, {"id": "bigint", "state": "text", "wamid": "text", "code": "integer", "detail": "text"}
        )
        failed_at = (
            ", failed_at = CASE WHEN v.state = 'failed' THEN %s ELSE m.failed_at END" if self.has_failed_at else ""
        )
        with bound_cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {self.table} m
                SET state = v.state, wamid = v.wamid, error_detail = v.detail, updated_at = %s,
                    sent_at = CASE WHEN v.state = 'failed' THEN NULL ELSE %s END,
                    error_code = CASE WHEN v.state = 'failed' THEN v.code ELSE m.error_code END{failed_at}
                FROM {values}
                WHERE m.id = v.id AND m.state IN ('unknown', 'sending')
                RETURNING m.id
                """,  # noqa: S608
                [now, now, *([now] if self.has_failed_at else []), *params],
            )
            changed = {row_id for (row_id,) in cursor.fetchall()}
        if self.on_settled is not None:
            for row_id in changed:
                if firsts[row_id].get("id") and row_id in settled:
                    self.on_settled([settled[row_id]], firsts[row_id])
        return changed


_LEDGERS: list[Ledger] = []


def register_ledger(ledger: Ledger) -> Ledger:
    if all(existing.model is not ledger.model for existing in _LEDGERS):
        _LEDGERS.append(ledger)
    return ledger


def ledgers() -> tuple[Ledger, ...]:
    return tuple(_LEDGERS)


def ledger_for_callback(data: str) -> tuple[Ledger, int] | None:
    """The ledger and row a status's `biz_opaque_callback_data` names, or None."""
    for ledger in _LEDGERS:
        if data.startswith(ledger.callback_prefix):
            key = parse_row_id(data[len(ledger.callback_prefix) :])
            return (ledger, key) if key is not None else None
    return None


def status_settle(*, status: dict[str, Any]) -> bool:
    """`status_settle_many` for one status."""
    return status_settle_many(statuses=[status])[0]


def status_settle_many(*, statuses: list[dict[str, Any]]) -> list[bool]:
    """The one settle-from-status, whichever table each send is in: one UPDATE per table for any
    number of statuses. True per status whose send it settled."""
    wanted: dict[Ledger, list[tuple[int, dict[str, Any]]]] = {}
    named: list[tuple[Ledger, int] | None] = []
    for status in statuses:
        found = ledger_for_callback(str(status.get("biz_opaque_callback_data") or ""))
        named.append(found)
        if found is not None:
            wanted.setdefault(found[0], []).append((found[1], status))
    changed = {ledger: ledger.settle_many(items) for ledger, items in wanted.items()}
    seen: set[tuple[Ledger, int]] = set()
    results = []
    for found in named:
        # Only the first status of a row settles it, as one status after another would.
        results.append(found is not None and found not in seen and found[1] in changed[found[0]])
        if found is not None:
            seen.add(found)
    return results


def stale_sends_mark_unknown(*, cutoff: datetime) -> int:
    """The one `unknown` marking, over every table of sends."""
    return sum(ledger.stale_mark_unknown(cutoff) for ledger in _LEDGERS)
