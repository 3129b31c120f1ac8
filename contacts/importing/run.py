"""Running an import: read the file, check each row, write contacts in batches, record consent.

Each batch of rows is one short transaction (contacts, list memberships, consent events and the
import's counters together), so the progress bar moves, a crash keeps what was committed, and no
transaction holds a hundred thousand rows. Running the same file again is harmless: contacts are
matched by their number's blind index and consent events carry a dedupe key made of the file's
hash and that index, so a second run creates no contacts and records no events.

An import never opts back in a contact who opted out: an opt-out is the person's own word, and
only they (START) or a team member acting on that one contact may reverse it.
"""

from __future__ import annotations

import io
import logging
import traceback
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any
from zoneinfo import available_timezones

from django.db import transaction
from django.db.models import Q, Value
from django.utils import timezone

from aerostic.core import audit
from contacts import phones
from contacts.exporting import csv_lines
from contacts.importing.configure import ATTRIBUTE_PREFIX, IMPORT_JOB_TIMEOUT
from contacts.importing.consent import OPT_IN, OPT_OUT, record_import_consent
from contacts.importing.reading import read_rows
from contacts.importing.upload import file_text
from contacts.importing.writing import add_to_list, update_contacts
from contacts.models import AttributeDefinition, ConsentState, Contact, ContactImport
from contacts.rows import ImportRow, insert_contacts
from contacts.selectors import default_country
from contacts.services import ContactInvalid, clean_tags, coerce_attribute

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
# A run still "running" this long after it started died with its worker: it may be claimed again.
STALE_RUN = timedelta(seconds=IMPORT_JOB_TIMEOUT) + timedelta(minutes=10)

CONSENT_YES = {"yes", "y", "true", "1", "opted in", "opt in", "optin", "subscribed"}
CONSENT_NO = {"no", "n", "false", "0", "opted out", "opt out", "optout", "unsubscribed"}

_COUNTERS = ("processed_rows", "created_count", "updated_count", "skipped_count", "invalid_count", "duplicate_count")


def consent_kind_of(value: str) -> str | None:
    """opt_in / opt_out for a consent cell; None (consent unknown) for anything else."""
    text = " ".join(value.lower().replace("_", " ").replace("-", " ").split())
    if text in CONSENT_YES:
        return OPT_IN
    if text in CONSENT_NO:
        return OPT_OUT
    return None


@dataclass
class _Counts:
    processed_rows: int = 0
    created_count: int = 0
    updated_count: int = 0
    skipped_count: int = 0
    invalid_count: int = 0
    duplicate_count: int = 0
    consent_events: int = 0

    def as_fields(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in _COUNTERS}


@dataclass
class _Plan:
    """The import's settings turned into column positions and ready-made values."""

    contact_import: ContactImport
    default_country: str
    phone: int
    name: int | None = None
    language: int | None = None
    timezone: int | None = None
    consent: int | None = None
    tags: list[int] = field(default_factory=list)
    attributes: list[tuple[int, str, str, str]] = field(default_factory=list)  # position, column, key, kind
    zones: frozenset[str] = frozenset()

    @classmethod
    def of(cls, contact_import: ContactImport) -> _Plan:

        header = list(contact_import.header)
        position = {column: i for i, column in enumerate(header)}
        kinds = dict(AttributeDefinition.objects.values_list("key", "kind"))
        country = contact_import.default_country or default_country()
        phone = next(position[c] for c, t in contact_import.mapping.items() if t == "phone")
        plan = cls(contact_import=contact_import, default_country=country, phone=phone)
        for column, target in contact_import.mapping.items():
            if target in ("name", "language", "timezone"):
                setattr(plan, target, position[column])
            elif target == "tags":
                plan.tags.append(position[column])
            elif target.startswith(ATTRIBUTE_PREFIX):
                key = target[len(ATTRIBUTE_PREFIX) :]
                if key in kinds:  # deleted since the import was configured: ignored
                    plan.attributes.append((position[column], column, key, kinds[key]))
        if contact_import.consent_column:
            plan.consent = position[contact_import.consent_column]
        if plan.timezone is not None:
            plan.zones = frozenset(available_timezones())
        return plan

    def parse(self, number: int, cells: list[str]) -> ImportRow | str:
        """The row ready to write, or the reason it is refused."""

        def cell(i: int | None) -> str:
            return cells[i].strip() if i is not None and i < len(cells) else ""

        try:
            phone = phones.normalize(cell(self.phone), default_country=self.default_country)
        except phones.InvalidPhoneNumber as error:
            return f"Phone: {error}"
        language = cell(self.language)
        if len(language) > 16:
            return "Language: at most 16 characters (e.g. en_US)."
        zone = cell(self.timezone)
        if zone and zone not in self.zones:
            return f"Time zone: {zone!r} is not a time zone (e.g. Asia/Kolkata)."
        try:
            tags = clean_tags([*(t for i in self.tags for t in cell(i).split(",")), *self.contact_import.tags_to_add])
        except ContactInvalid as error:
            return f"Tags: {error.problems.get('tags', error)}"
        attributes: dict[str, Any] = {}
        for position, column, key, kind in self.attributes:
            try:
                value = coerce_attribute(kind, cell(position))
            except ValueError as error:
                return f"{column}: {error}"
            if value is not None:
                attributes[key] = value
        consent: str | None = None
        if self.consent is not None:
            consent = consent_kind_of(cell(self.consent))
        elif self.contact_import.consent_declared:
            consent = OPT_IN
        return ImportRow.of(
            phone,
            tenant_id=self.contact_import.tenant_id,
            number=number,
            name=" ".join(cell(self.name).split())[:200],
            language=language,
            timezone=zone,
            tags=tags,
            attributes=attributes,
            consent=consent,
        )


def _claim(contact_import_id: int) -> bool:
    """queued → running, or a run whose worker died long ago; a conditional UPDATE, so two workers
    never run one import."""
    now = timezone.now()
    claimable = Q(status=ContactImport.Status.QUEUED) | Q(
        status=ContactImport.Status.RUNNING, started_at__lt=now - STALE_RUN
    )
    return bool(
        ContactImport.objects.filter(claimable, pk=contact_import_id).update(
            status=ContactImport.Status.RUNNING,
            started_at=now,
            finished_at=None,
            failure="",
            **dict.fromkeys(_COUNTERS, 0),
        )
    )


def import_run(contact_import_id: int) -> ContactImport | None:
    """Runs a queued import (inside the tenant's context, outside any transaction). None when it
    is gone or not queued (already run, or running elsewhere)."""
    if not _claim(contact_import_id):
        return None
    contact_import = ContactImport.objects.select_related("created_by").get(pk=contact_import_id)
    counts = _Counts()
    try:
        report = _run(contact_import, counts)
    except Exception as error:
        _fail(contact_import, counts, error)
    else:
        _complete(contact_import, counts, report)
    contact_import.refresh_from_db()
    return contact_import


def _run(contact_import: ContactImport, counts: _Counts) -> str:
    plan = _Plan.of(contact_import)
    header = list(contact_import.header)
    report = io.StringIO()
    errors = 0

    def reject(number: int, cells: list[str], reason: str) -> None:
        nonlocal errors
        if not errors:
            report.writelines(csv_lines([["row", *header, "reason"]]))
        errors += 1
        padded = [*cells[: len(header)], *[""] * (len(header) - len(cells))]
        report.writelines(csv_lines([[number, *padded, reason]]))

    first_row_of: dict[str, int] = {}
    batch: list[ImportRow] = []
    read = 0
    for number, cells in read_rows(file_text(contact_import), contact_import.delimiter or ","):
        read += 1
        row = plan.parse(number, cells)
        if isinstance(row, str):
            counts.invalid_count += 1
            reject(number, cells, row)
        elif row.index in first_row_of:
            counts.duplicate_count += 1
            reject(number, cells, f"Same number as row {first_row_of[row.index]} (that row was imported).")
        else:
            first_row_of[row.index] = number
            batch.append(row)
        if len(batch) >= BATCH_SIZE or read - counts.processed_rows >= BATCH_SIZE:
            _write_batch(plan, batch, counts, read)
            batch = []
    _write_batch(plan, batch, counts, read)
    return report.getvalue()


def _write_batch(plan: _Plan, batch: list[ImportRow], counts: _Counts, read: int) -> None:
    """Writes one batch and the import's counters in one transaction; `counts` moves only once
    that transaction committed, so a failure reports what is really in the database."""
    contact_import = plan.contact_import
    done = replace(counts)
    # Sorted by index: two imports into one workspace lock rows in the same order (no deadlock).
    batch.sort(key=lambda row: row.index)
    with transaction.atomic():
        touched: list[tuple[int, ImportRow, str]] = []  # contact id, row, its consent state
        if batch:
            existing = {
                index: (pk, state, erased_at)
                for pk, index, state, erased_at in Contact.objects.filter(
                    phone_index__in=[row.index for row in batch]
                ).values_list("pk", "phone_index", "consent_state", "erased_at")
            }
            new_rows = [row for row in batch if row.index not in existing]
            created = insert_contacts(new_rows)
            touched.extend((created[row.index], row, ConsentState.UNKNOWN) for row in new_rows if row.index in created)
            done.created_count += len(created)
            done.skipped_count += len(new_rows) - len(created)  # created by someone else meanwhile
            live = [(existing[row.index], row) for row in batch if row.index in existing]
            if contact_import.on_existing == ContactImport.OnExisting.UPDATE:
                updatable = [(pk, state, row) for (pk, state, erased_at), row in live if erased_at is None]
                update_contacts([(pk, row) for pk, _, row in updatable])
                touched.extend((pk, row, state) for pk, state, row in updatable)
                done.updated_count += len(updatable)
                done.skipped_count += len(live) - len(updatable)
            else:
                done.skipped_count += len(live)
            if contact_import.contact_list_id and touched:
                add_to_list(contact_import.contact_list_id, [pk for pk, _, _ in touched])
            done.consent_events += record_import_consent(contact_import, touched)
        done.processed_rows = read
        ContactImport.objects.filter(pk=contact_import.pk).update(**done.as_fields())
    for name in _COUNTERS + ("consent_events",):
        setattr(counts, name, getattr(done, name))


def _complete(contact_import: ContactImport, counts: _Counts, report: str) -> None:
    with transaction.atomic():
        ContactImport.objects.filter(pk=contact_import.pk).update(
            status=ContactImport.Status.COMPLETED,
            content=Value(""),  # cleared, not an encryption of ""
            error_report=report if report else Value(""),
            finished_at=timezone.now(),
            **counts.as_fields(),
        )
        audit.record(
            "contact.import",
            actor=contact_import.created_by,
            tenant=contact_import.tenant_id,
            target=contact_import,
            metadata={
                "rows": counts.processed_rows,
                "created": counts.created_count,
                "updated": counts.updated_count,
                "skipped": counts.skipped_count,
                "invalid": counts.invalid_count,
                "duplicates": counts.duplicate_count,
                "consent_events": counts.consent_events,
            },
        )


def _fail(contact_import: ContactImport, counts: _Counts, error: Exception) -> None:
    # The exception's message may quote a row (database errors do): log its type and where it
    # happened, never its text.
    logger.error(
        "contact import %s failed after %s rows: %s\n%s",
        contact_import.pk,
        counts.processed_rows,
        type(error).__qualname__,
        "".join(traceback.format_tb(error.__traceback__)),
    )
    failure = (
        f"The import stopped after {counts.processed_rows:,} rows ({type(error).__name__}); the rows before that "
        "were imported. Upload the file again to finish: rows already imported are recognised."
    )
    with transaction.atomic():
        ContactImport.objects.filter(pk=contact_import.pk).update(
            status=ContactImport.Status.FAILED,
            failure=failure[:255],
            content=Value(""),
            finished_at=timezone.now(),
        )
        audit.record(
            "contact.import",
            actor=contact_import.created_by,
            tenant=contact_import.tenant_id,
            target=contact_import,
            metadata={"failed": type(error).__name__, "rows": counts.processed_rows},
        )


def import_error_report(contact_import: ContactImport) -> str:
    """The rejected rows as CSV text (row number, the row's cells, reason); "" when none."""
    return contact_import.error_report.reveal() if contact_import.error_report else ""
