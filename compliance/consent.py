"""The consent ledger's writes and reads: append an event, derive a contact's state from it.

`ConsentEvent` rows are never changed (a database trigger refuses it); the contact's
`consent_state` column is the latest event's kind, written in the same transaction so audience
filters need no ledger scan. An event older than the latest one (a late import of old consent)
is kept in the history but does not change the state. `dedupe_key` makes re-runs harmless: the
same import row, webhook item or keyword message records one event however often it is seen.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from aerostic.core import audit
from aerostic.core.tenant_context import require_tenant_id
from compliance.models import ConsentEvent
from contacts.models import ConsentState, Contact
from contacts.services import contact_update

Kind = ConsentEvent.Kind
Source = ConsentEvent.Source
_STATE_OF: dict[str, ConsentState] = {
    Kind.OPT_IN: ConsentState.OPTED_IN,
    Kind.OPT_OUT: ConsentState.OPTED_OUT,
    Kind.RESET: ConsentState.UNKNOWN,
}
# Events a person records by hand are audited; automatic ones (keywords, Meta's signals, imports,
# whose own run is audited) are evidence enough in the ledger itself.
_AUDITED_SOURCES = {Source.AGENT, Source.API, Source.FORM}


@dataclass(frozen=True)
class ConsentChange:
    contact_id: int
    kind: str
    source: str
    evidence: str = ""
    occurred_at: datetime | None = None
    dedupe_key: str = ""
    channel: str = "whatsapp"


def consent_record(
    *,
    contact: Contact,
    kind: str,
    source: str,
    evidence: str = "",
    actor: Any = None,
    occurred_at: datetime | None = None,
    dedupe_key: str = "",
    request: Any = None,
) -> ConsentEvent | None:
    """Appends one event and moves the contact's state when it is the newest. None when the
    dedupe key was already recorded (nothing changes)."""
    if kind not in Kind.values:
        raise ValueError(f"unknown consent kind {kind!r}")
    if source not in Source.values:
        raise ValueError(f"unknown consent source {source!r}")
    if contact.is_erased:
        return None
    occurred_at = occurred_at or timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = ConsentEvent.objects.create(
                    tenant_id=contact.tenant_id,
                    contact=contact,
                    kind=kind,
                    source=source,
                    evidence=(evidence or "")[:2000],
                    actor=actor if getattr(actor, "is_authenticated", False) else None,
                    occurred_at=occurred_at,
                    dedupe_key=dedupe_key[:128],
                )
        except IntegrityError:
            if not dedupe_key:
                raise
            return None
        _move_state([(contact.pk, kind, occurred_at)])
        if source in _AUDITED_SOURCES:
            audit.record(
                f"consent.{kind}",
                actor=actor,
                tenant=contact.tenant_id,
                target=contact,
                request=request,
                metadata={"source": source},
            )
    contact.refresh_from_db(fields=["consent_state", "consent_changed_at"])
    return event


@transaction.atomic
def contact_edit(*, contact: Contact, actor: Any, source: str, request: Any = None, **changes: Any) -> Contact:
    """A person's edit of a contact (`contacts.services.contact_update`, same arguments), with the
    consent rule a new number brings: consent given for the old number does not speak for whoever
    has the new one, so a reset event (state unknown) is recorded in the same transaction. Lives
    here because contacts sits below compliance and must not write the ledger; the portal and the
    API edit contacts through this function, never `contact_update` directly."""
    old_index = contact.phone_index
    contact = contact_update(contact=contact, actor=actor, request=request, **changes)
    if contact.phone_index != old_index and ConsentEvent.objects.filter(contact=contact).exists():
        consent_record(
            contact=contact,
            kind=Kind.RESET,
            source=source,
            evidence="The number changed: consent given for the previous number does not carry over.",
            actor=actor,
            request=request,
        )
    return contact


def consent_record_many(changes: Iterable[ConsentChange], *, actor: Any = None) -> int:
    """Bulk append (imports): every change carries a dedupe key; one INSERT per few thousand rows,
    keys already in the ledger skipped, states moved in one UPDATE. Returns how many were new.
    Runs inside the caller's transaction."""
    return len(consent_events_record(changes, actor=actor))


def consent_events_record(
    changes: Iterable[ConsentChange], *, actor: Any = None, contacts: Mapping[int, Contact] | None = None
) -> list[ConsentEvent]:
    """consent_record_many giving back the events that were new, as stored (a key already in the
    ledger, or repeated in the call, gives none). `contacts` ({id: contact}) are contacts the
    caller already loaded: their erasure is not read again, they take their new consent state (as
    consent_record refreshes its contact) and the events name them."""
    tenant_id = require_tenant_id()
    now = timezone.now()
    actor = actor if getattr(actor, "is_authenticated", False) else None
    changes = list(changes)
    contacts = contacts or {}
    erased = {pk for pk, contact in contacts.items() if contact.is_erased}
    unknown = {change.contact_id for change in changes} - set(contacts)
    if unknown:
        erased.update(Contact.objects.filter(pk__in=unknown, erased_at__isnull=False).values_list("pk", flat=True))
    rows = []
    for change in changes:
        if not change.dedupe_key:
            raise ValueError("consent_record_many needs a dedupe key on every change")
        if change.kind not in Kind.values or change.source not in Source.values:
            raise ValueError(f"unknown consent kind or source: {change.kind!r}, {change.source!r}")
        if change.contact_id in erased:  # a tombstone takes no new consent
            continue
        rows.append(
            ConsentEvent(
                tenant_id=tenant_id,
                contact_id=change.contact_id,
                kind=change.kind,
                source=change.source,
                channel=change.channel,
                evidence=change.evidence[:2000],
                actor=actor,
                occurred_at=change.occurred_at or now,
                dedupe_key=change.dedupe_key[:128],
            )
        )
    if not rows:
        return []
    with transaction.atomic():
        inserted = _insert_new(rows)
        moved = _move_state([(event.contact_id, event.kind, event.occurred_at) for event in inserted])
    for event in inserted:
        contact = contacts.get(event.contact_id)
        if contact is not None:
            event.contact = contact
    for pk, (state, changed_at) in moved.items():
        if pk in contacts:
            contacts[pk].consent_state, contacts[pk].consent_changed_at = state, changed_at
    return inserted


# Every column of the ledger, read back into ConsentEvent objects.
_RETURNED = (
    "id",
    "tenant_id",
    "contact_id",
    "kind",
    "channel",
    "source",
    "evidence",
    "actor_id",
    "occurred_at",
    "recorded_at",
    "dedupe_key",
)


def _insert_new(rows: list[ConsentEvent]) -> list[ConsentEvent]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: exactly the rows that were new, as the database
    stored them (a key repeated inside one batch is stored once)."""
    from django.db import connection

    columns = tuple(column for column in _RETURNED if column not in ("id", "recorded_at"))
    new: list[ConsentEvent] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            batch = rows[start : start + 5000]
            arrays = [[getattr(row, column) for row in batch] for column in columns]
            cursor.execute(
                "INSERT INTO compliance_consentevent (tenant_id, contact_id, kind, channel, source, evidence,"
                " actor_id, occurred_at, dedupe_key, recorded_at)"
                " SELECT *, now() FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[], %s::text[],"
                " %s::text[], %s::bigint[], %s::timestamptz[], %s::text[])"
                " ON CONFLICT (tenant_id, contact_id, dedupe_key) WHERE dedupe_key <> '' DO NOTHING"
                " RETURNING id, tenant_id, contact_id, kind, channel, source, evidence, actor_id, occurred_at,"
                " recorded_at, dedupe_key",
                arrays,
            )
            for row in cursor.fetchall():
                event = ConsentEvent(**dict(zip(_RETURNED, row, strict=True)))
                event._state.adding, event._state.db = False, connection.alias  # as Model.from_db leaves it
                new.append(event)
    return new


def _move_state(events: list[tuple[int, str, datetime]]) -> dict[int, tuple[str, datetime]]:
    """Sets each contact's state to its newest event's kind unless a newer event already spoke.
    The contacts moved: {id: (state, changed at)}."""
    newest: dict[int, tuple[str, datetime]] = {}
    for contact_id, kind, occurred_at in events:
        if contact_id not in newest or newest[contact_id][1] <= occurred_at:
            newest[contact_id] = (kind, occurred_at)
    if not newest:
        return {}
    from django.db import connection

    newest = dict(sorted(newest.items()))  # by id: concurrent batches lock shared contacts in the same order
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE contacts_contact AS c SET consent_state = v.state, consent_changed_at = v.at"
            " FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[]) AS v(id, state, at)"
            " WHERE c.id = v.id AND (c.consent_changed_at IS NULL OR c.consent_changed_at <= v.at)"
            " RETURNING c.id, c.consent_state, c.consent_changed_at",
            [
                list(newest),
                [str(_STATE_OF[kind]) for kind, _ in newest.values()],
                [at for _, at in newest.values()],
            ],
        )
        return {pk: (state, changed_at) for pk, state, changed_at in cursor.fetchall()}


@contextmanager
def ledger_unlocked() -> Iterator[None]:
    """Lets this transaction change or delete consent ledger rows (the trigger checks the setting):
    GDPR erasure only (compliance.privacy)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.erasing', 'on', true)")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('app.erasing', '', true)")


def consent_history(contact: Contact) -> list[ConsentEvent]:
    return list(ConsentEvent.objects.filter(contact=contact).select_related("actor").order_by("-occurred_at", "-id"))


def consent_state_from_ledger(contact: Contact) -> str:
    """The state derived from the ledger alone (what `consent_state` must equal)."""
    latest = ConsentEvent.objects.filter(contact=contact).order_by("-occurred_at", "-id").first()
    return _STATE_OF[latest.kind] if latest else ConsentState.UNKNOWN


__all__ = [
    "ConsentChange",
    "consent_events_record",
    "consent_history",
    "consent_record",
    "consent_record_many",
    "consent_state_from_ledger",
    "ledger_unlocked",
]
