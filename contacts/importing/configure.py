"""Configuring an uploaded import: the column mapping, what to do with existing contacts, the
consent basis; then queue the run (after commit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import phonenumbers
from django.db import transaction
from django.utils import timezone

from aerostic.core import audit, queues
from aerostic.core.errors import Conflict
from aerostic.core.jobs import enqueue_on_commit
from aerostic.core.tenant_context import require_tenant_id
from contacts.importing.errors import ImportRefused
from contacts.models import AttributeDefinition, ContactImport, ContactList
from contacts.services import ContactInvalid, clean_tags

SINGLE_TARGETS = ("phone", "name", "language", "timezone")
TARGETS = (*SINGLE_TARGETS, "tags", "ignore")
ATTRIBUTE_PREFIX = "attr:"
# An import of a large file runs for minutes; RQ's default timeout (DEFAULT_TIMEOUT) is for short jobs.
IMPORT_JOB_TIMEOUT = 2 * 60 * 60

NO_CONSENT_WARNING = (
    "No consent basis given (no consent column, and consent was not declared with its source and date): "
    "the contacts are imported without consent, so marketing templates will not be sent to them."
)


def validate_mapping(mapping: Any, header: list[str]) -> dict[str, str]:
    """The mapping cleaned (every column present, unknown columns refused), or ImportRefused."""
    if not isinstance(mapping, dict):
        raise ImportRefused("The mapping must say, for each column, what it holds.", code="mapping")
    attribute_keys = set(AttributeDefinition.objects.values_list("key", flat=True))
    cleaned: dict[str, str] = {}
    problems: list[str] = []
    for column, raw_target in mapping.items():
        target = str(raw_target or "ignore").strip()
        if column not in header:
            problems.append(f"The file has no column {column!r}.")
        elif target.startswith(ATTRIBUTE_PREFIX):
            if target[len(ATTRIBUTE_PREFIX) :] not in attribute_keys:
                problems.append(
                    f"Column {column!r}: no attribute {target[len(ATTRIBUTE_PREFIX) :]!r}; define it under "
                    "Contacts → Attributes first, or ignore the column."
                )
        elif target not in TARGETS:
            problems.append(f"Column {column!r}: {target!r} is not something a column can be imported as.")
        cleaned[column] = target
    for column in header:
        cleaned.setdefault(column, "ignore")
    phone_columns = [column for column, target in cleaned.items() if target == "phone"]
    if not phone_columns:
        problems.append("Choose the column that holds the phone numbers.")
    for target in {t for t in cleaned.values() if t in SINGLE_TARGETS or t.startswith(ATTRIBUTE_PREFIX)}:
        columns = [column for column, t in cleaned.items() if t == target]
        if len(columns) > 1:
            names = ", ".join(repr(c) for c in columns)
            problems.append(f"Only one column can be the {target.removeprefix(ATTRIBUTE_PREFIX)}: {names} are.")
    if problems:
        raise ImportRefused(" ".join(problems), code="mapping")
    return {column: cleaned[column] for column in header}


def _clean_country(value: str) -> str:
    country = (value or "").strip().upper()
    if country and country not in phonenumbers.SUPPORTED_REGIONS:
        raise ImportRefused(f"{value!r} is not a country code (use two letters, e.g. IN, DE, US).", code="country")
    return country


@transaction.atomic
def import_configure(
    *,
    contact_import: ContactImport,
    mapping: dict[str, str],
    on_existing: str,
    default_country: str = "",
    tags_to_add: Any = None,
    contact_list: ContactList | None = None,
    consent_column: str = "",
    consent_declared: bool = False,
    consent_source: str = "",
    consent_collected_at: datetime | None = None,
    actor: Any,
    request: Any = None,
) -> list[str]:
    """Checks and saves the import's settings and queues its run; returns warnings for the person
    (e.g. "no consent will be recorded"). Raises ImportRefused for a configuration that cannot run."""
    header = list(contact_import.header)
    cleaned_mapping = validate_mapping(mapping, header)
    if on_existing not in ContactImport.OnExisting.values:
        raise ImportRefused("Choose whether existing contacts are updated or skipped.", code="on_existing")
    try:
        tags = clean_tags(tags_to_add)
    except ContactInvalid as error:
        raise ImportRefused(error.problems.get("tags", str(error)), code="tags") from None
    if contact_list is not None and contact_list.tenant_id != require_tenant_id():
        raise ImportRefused("No such list.", code="contact_list")
    consent_column = (consent_column or "").strip()
    consent_source = " ".join((consent_source or "").split())[:255]
    if consent_column and consent_column not in header:
        raise ImportRefused(f"The file has no column {consent_column!r} for consent.", code="consent")
    if consent_column and cleaned_mapping[consent_column] != "ignore":
        raise ImportRefused(
            f"Column {consent_column!r} is the consent column: it cannot also be imported as "
            f"{cleaned_mapping[consent_column]}.",
            code="consent",
        )
    if consent_declared:
        if not consent_source:
            raise ImportRefused("Say where and how the consent was collected.", code="consent")
        if consent_collected_at is None:
            raise ImportRefused("Give the date the consent was collected.", code="consent")
        if consent_collected_at > timezone.now():
            raise ImportRefused("The consent collection date is in the future.", code="consent")
    warnings = [] if consent_column or consent_declared else [NO_CONSENT_WARNING]

    claimed = ContactImport.objects.filter(pk=contact_import.pk, status=ContactImport.Status.UPLOADED).update(
        status=ContactImport.Status.QUEUED,
        mapping=cleaned_mapping,
        on_existing=on_existing,
        default_country=_clean_country(default_country),
        tags_to_add=tags,
        contact_list=contact_list,
        consent_column=consent_column,
        consent_declared=bool(consent_declared),
        consent_source=consent_source,
        consent_collected_at=consent_collected_at if consent_declared or consent_column else None,
    )
    if claimed != 1:
        raise Conflict("This import was already started.")
    contact_import.refresh_from_db()
    audit.record(
        "contact.import_queue",
        actor=actor,
        tenant=contact_import.tenant_id,
        target=contact_import,
        request=request,
        metadata={
            "on_existing": on_existing,
            "consent": "column" if consent_column else "declared" if consent_declared else "none",
        },
    )
    from contacts.jobs import run_contact_import

    enqueue_on_commit(
        run_contact_import,
        queue=queues.DEFAULT,
        tenant_id=contact_import.tenant_id,
        contact_import_id=contact_import.pk,
        job_timeout=IMPORT_JOB_TIMEOUT,
    )
    return warnings
