"""Contacts as CSV (streamed in keyset chunks), and the cell rule every CSV we hand out follows.

Spreadsheets run a cell that starts with = + - @ (or a tab / carriage return before one) as a
formula, so a contact named `=HYPERLINK(...)` could act on the machine of whoever opens the export.
`safe_cell` prefixes such cells with an apostrophe (OWASP "CSV injection"). Plain numbers, E.164
numbers and masked numbers ("+91 98••••21") are left alone: without letters, parentheses or
operators they cannot carry a formula, and an apostrophe would spoil them for re-import.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet

from aerostic.core.tenant_context import tenant_context
from contacts.models import AttributeDefinition, Contact

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_HARMLESS_NUMBER = re.compile(r"[+-]?[0-9][0-9 .•]*")

BASE_COLUMNS = [
    "phone",
    "name",
    "country",
    "language",
    "timezone",
    "tags",
    "consent_state",
    "last_inbound_at",
    "created_at",
]


def safe_cell(value: Any) -> str:
    """A value as text that a spreadsheet shows rather than runs."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, datetime | date):
        text = value.isoformat()
    else:
        text = str(value)
    if text.startswith(FORMULA_STARTS) and not _HARMLESS_NUMBER.fullmatch(text):
        return "'" + text
    return text


class _Line:
    """csv.writer target that hands back each written line instead of buffering it."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """Each row as one CSV line (\\r\\n-terminated), every cell passed through `safe_cell`."""
    writer = csv.writer(_Line())
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])


CSV_CHUNK = 2000


def _contact_row(contact: Contact, attribute_keys: list[str], include_phone: bool) -> list[Any]:
    if contact.is_erased or not contact.phone:
        phone = ""
    else:
        phone = contact.phone.reveal() if include_phone else contact.phone_hint
    attributes = contact.attributes or {}
    return [
        phone,
        contact.name,
        contact.country,
        contact.language,
        contact.timezone,
        ",".join(contact.tags or []),
        contact.consent_state,
        contact.last_inbound_at,
        contact.created_at,
        *(attributes.get(key) for key in attribute_keys),
    ]


def _attribute_keys() -> list[str]:
    return list(AttributeDefinition.objects.order_by("key").values_list("key", flat=True))


def contacts_csv(contacts: QuerySet[Contact] | Iterable[Contact], *, include_phone: bool) -> Iterator[str]:
    """The header line, then one line per contact. The full number only with `include_phone`
    (the caller checks the permission and audits the export); otherwise the masked hint. Runs
    inside the tenant's context; a queryset is streamed in chunks, never loaded whole."""
    attribute_keys = _attribute_keys()
    if isinstance(contacts, QuerySet):
        contacts = contacts.iterator(chunk_size=CSV_CHUNK)

    def rows() -> Iterator[list[Any]]:
        yield [*BASE_COLUMNS, *attribute_keys]
        for contact in contacts:
            yield _contact_row(contact, attribute_keys, include_phone)

    return csv_lines(rows())


def contacts_csv_chunks(tenant_id: int, contacts: QuerySet[Contact], *, include_phone: bool) -> Iterator[str]:
    """`contacts_csv` for a streamed response: consumed after the view returned, outside the
    request's tenant context, so each chunk (keyset by id) is read inside its own."""
    with tenant_context(tenant_id):
        attribute_keys = _attribute_keys()
    yield "".join(csv_lines([[*BASE_COLUMNS, *attribute_keys]]))
    last = 0
    while True:
        with tenant_context(tenant_id):
            chunk = list(contacts.filter(pk__gt=last).order_by("pk")[:CSV_CHUNK])
            lines = "".join(csv_lines(_contact_row(contact, attribute_keys, include_phone) for contact in chunk))
        if not chunk:
            return
        last = chunk[-1].pk
        yield lines
