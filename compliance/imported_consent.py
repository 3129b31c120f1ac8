"""Consent that arrives with a CSV import of contacts: the events one import batch records.
Registered from ComplianceConfig.ready() with contacts.importing.consent (contacts sits below the
ledger and never names it); runs in the batch's transaction, one bulk insert for the batch."""

from __future__ import annotations

from datetime import datetime

from compliance.consent import ConsentChange, consent_record_many
from compliance.models import ConsentEvent
from contacts.models import ConsentState, ContactImport
from contacts.rows import ImportRow


def import_consent_record(contact_import: ContactImport, touched: list[tuple[int, ImportRow, str]]) -> int:
    """The ledger events of one import batch, in the batch's transaction (registered with
    contacts.importing.consent.on_import_consent): one per contact and file, never an opt-in over an
    opt-out. Returns how many were new."""
    occurred_at: datetime = contact_import.consent_collected_at or contact_import.created_at
    if contact_import.consent_column:
        basis = f"column {contact_import.consent_column!r}"
        if contact_import.consent_source:
            basis += f"; collected via {contact_import.consent_source}"
    else:
        basis = f"declared by the uploader: collected via {contact_import.consent_source}"
    evidence = f"CSV import {contact_import.filename!r} (sha256 {contact_import.sha256[:16]}…), {basis}"
    changes = [
        ConsentChange(
            contact_id=pk,
            kind=row.consent,
            source=ConsentEvent.Source.IMPORT,
            evidence=evidence,
            occurred_at=occurred_at,
            # One event per contact and file (the ledger's key is per contact). 56 hex digits of the
            # hash, as keys written before (compliance migration 0005 cut their phone index off).
            dedupe_key=f"import:{contact_import.sha256[:56]}",
        )
        for pk, row, state in touched
        if row.consent is not None and not (row.consent == ConsentEvent.Kind.OPT_IN and state == ConsentState.OPTED_OUT)
    ]
    return consent_record_many(changes, actor=contact_import.created_by) if changes else 0
