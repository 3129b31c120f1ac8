"""The set-based writes of an import batch: one statement each for new contacts, updated contacts
and list memberships (unnest arrays, not a statement per row). The batch's consent events are
compliance's to write (contacts.importing.consent)."""

from __future__ import annotations

from django.db import connection

from aerostic.core.sqlrows import json_rows
from aerostic.core.tenant_context import require_tenant_id
from contacts.rows import ImportRow

MAX_TAGS = 50


# New values are computed first and a row is written only when one of them differs, so a re-run
# of the same file rewrites nothing. Tags are merged (existing first, at most MAX_TAGS),
# attributes merged (the file wins), name / language / time zone replaced only by a non-empty cell.
_UPDATE_SQL = """
UPDATE contacts_contact AS c
SET name = n.name, language = n.language, timezone = n.timezone, tags = n.tags,
    attributes = n.attributes, updated_at = now()
FROM (
    SELECT c2.id,
           CASE WHEN v.name <> '' THEN v.name ELSE c2.name END AS name,
           CASE WHEN v.language <> '' THEN v.language ELSE c2.language END AS language,
           CASE WHEN v.timezone <> '' THEN v.timezone WHEN c2.timezone = '' THEN v.number_timezone
                ELSE c2.timezone END AS timezone,
           (c2.tags || ARRAY(SELECT t FROM jsonb_array_elements_text(v.tags) WITH ORDINALITY AS x(t, i)
                             WHERE t <> ALL(c2.tags) ORDER BY i)::varchar(64)[])[1:%s] AS tags,
           c2.attributes || v.attributes AS attributes
    FROM jsonb_to_recordset(%s::jsonb)
         AS v(id bigint, name text, language text, timezone text, number_timezone text, tags jsonb, attributes jsonb)
    JOIN contacts_contact AS c2 ON c2.id = v.id
) AS n
WHERE c.id = n.id AND c.erased_at IS NULL
  AND (c.name, c.language, c.timezone, c.tags, c.attributes)
      IS DISTINCT FROM (n.name, n.language, n.timezone, n.tags, n.attributes)
"""


def update_contacts(rows: list[tuple[int, ImportRow]]) -> None:
    if not rows:
        return
    batch = [
        {
            "id": pk,
            "name": row.name,
            "language": row.language,
            "timezone": row.timezone,
            "number_timezone": row.number_timezone,
            "tags": row.tags,
            "attributes": row.attributes,
        }
        for pk, row in rows
    ]
    with connection.cursor() as cursor:
        cursor.execute(_UPDATE_SQL, [MAX_TAGS, json_rows(batch)])


def add_to_list(contact_list_id: int, contact_ids: list[int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO contacts_contactlistmember (tenant_id, contact_list_id, contact_id, added_at)"
            " SELECT %s, %s, id, now() FROM unnest(%s::bigint[]) AS id"
            " ON CONFLICT (contact_list_id, contact_id) DO NOTHING",
            [require_tenant_id(), contact_list_id, contact_ids],
        )
