"""Contacts written in bulk: one checked row per number (`ImportRow`, from a file or an inbound
message) and one INSERT for any number of them. The contact import and the inbound webhook path
both create contacts here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aerostic.core.sqlrows import bound_cursor, json_rows
from aerostic.core.tenant_context import require_tenant_id
from contacts.models import ConsentState, Contact


@dataclass
class ImportRow:
    """One checked row of the file, ready to write."""

    number: int
    e164: str
    index: str
    hint: str
    country: str
    calling_code: int
    number_timezone: str
    name: str
    language: str
    timezone: str
    tags: list[str]
    attributes: dict[str, Any]
    consent: str | None

    @classmethod
    def of(
        cls,
        phone: Any,
        *,
        tenant_id: int,
        number: int,
        name: str,
        language: str = "",
        timezone: str = "",
        tags: list[str] | None = None,
        attributes: dict[str, Any] | None = None,
        consent: str | None = None,
    ) -> ImportRow:
        """The row of a normalized number (contacts.phones.normalize); `number` is its row number."""
        return cls(
            number=number,
            e164=phone.e164,
            index=phone.index_for(tenant=tenant_id),
            hint=phone.hint,
            country=phone.country,
            calling_code=phone.calling_code,
            number_timezone=phone.timezone,
            name=name,
            language=language,
            timezone=timezone,
            tags=tags or [],
            attributes=attributes or {},
            consent=consent,
        )


# Each batch travels as one JSON document (aerostic.core.sqlrows): far cheaper to send than ten
# parameter arrays, which the driver would quote element by element.
_INSERT_SQL = """
INSERT INTO contacts_contact (
    tenant_id, phone, phone_index, phone_hint, country, calling_code, name, language, timezone,
    tags, attributes, source, consent_state, last_inbound_at, created_at, updated_at
)
SELECT %s, v.phone, v.phone_index, v.hint, v.country, v.calling_code, v.name, v.language, v.timezone,
       ARRAY(SELECT jsonb_array_elements_text(v.tags))::varchar(64)[], v.attributes, %s, %s, v.last_inbound_at,
       now(), now()
FROM jsonb_to_recordset(%s::jsonb) AS v(
    phone text, phone_index text, hint text, country text, calling_code int, name text, language text,
    timezone text, tags jsonb, attributes jsonb, last_inbound_at timestamptz
)
ON CONFLICT (tenant_id, phone_index) WHERE phone_index <> '' DO NOTHING
RETURNING id, phone_index
"""


def insert_contacts(
    rows: list[ImportRow], *, source: str = Contact.Source.IMPORT, last_inbound_at: dict[str, datetime] | None = None
) -> dict[str, int]:
    """phone index → id of each contact created (a number created elsewhere meanwhile is left out),
    in one statement: the import's rows, and the new customers of an inbound webhook batch (source
    "inbound", with when each last wrote, by phone index)."""
    if not rows:
        return {}
    last_inbound_at = last_inbound_at or {}
    seal = Contact._meta.get_field("phone").get_prep_value  # the column's own format: the ORM reads it back
    batch = [
        {
            "phone": seal(row.e164),
            "phone_index": row.index,
            "hint": row.hint,
            "country": row.country,
            "calling_code": row.calling_code,
            "name": row.name,
            "language": row.language,
            "timezone": row.timezone or row.number_timezone,
            "tags": row.tags,
            "attributes": row.attributes,
            "last_inbound_at": last_inbound_at.get(row.index),
        }
        for row in rows
    ]
    with bound_cursor() as cursor:
        cursor.execute(_INSERT_SQL, [require_tenant_id(), source, ConsentState.UNKNOWN, json_rows(batch)])
        return {index: pk for pk, index in cursor.fetchall()}
