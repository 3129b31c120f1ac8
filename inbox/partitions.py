"""Monthly range partitions of inbox_message, made ahead of time by a daily job."""

from __future__ import annotations

from datetime import date

from django.db import connection
from django.utils import timezone

PARENT = "inbox_message"
# Room left on each page: a message's statuses (sent, delivered, read) rewrite it within minutes of
# its insert, and none of them changes an indexed column, so with room on its page each rewrite is
# a HOT update (the heap row alone) instead of a new entry in every index. Measured on the status
# webhook bench: a batch's UPDATE wrote 7 WAL records per message at 100 %.
FILLFACTOR = 80


def _month_start(day: date, offset: int) -> date:
    index = day.year * 12 + (day.month - 1) + offset
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{PARENT}_y{month.year}m{month.month:02d}"


def message_partitions_ensure(*, today: date | None = None, months_ahead: int = 2, schema_editor=None) -> list[str]:
    """Creates this month's and the next `months_ahead` months' partitions if missing (idempotent).

    Rows of a month without its partition land in the DEFAULT partition, so an insert never fails.
    """
    today = today or timezone.now().date()
    created = []
    execute = schema_editor.execute if schema_editor is not None else None
    with connection.cursor() as cursor:
        for offset in range(months_ahead + 1):
            start, end = _month_start(today, offset), _month_start(today, offset + 1)
            name = partition_name(start)
            cursor.execute("SELECT to_regclass(%s)", [name])
            if cursor.fetchone()[0] is not None:
                continue
            statements = [
                f"CREATE TABLE {name} PARTITION OF {PARENT} FOR VALUES FROM ('{start}') TO ('{end}')"
                f" WITH (fillfactor = {FILLFACTOR})",
                # Direct access to a partition must be scoped too, not only access through the parent.
                f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY",
                f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY",
            ]
            for statement in statements:
                (execute or cursor.execute)(statement)
            created.append(name)
    return created
