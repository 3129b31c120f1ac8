"""Postgres session limits: long statements and transactions left open are cut off.

Long transactions hold locks, keep vacuum from cleaning up and pin connections; the seed checklist
lists them as a no-go. Every connection starts with `statement_timeout` and
`idle_in_transaction_session_timeout` (libpq `options`, so they hold from the first statement and
for pooled connections too). Web requests get the short statement limit; RQ workers a longer one
for their set-based batches (aerostic.worker); `migrate` lifts both for its run.
"""

from __future__ import annotations

import re

_TIMEOUT_OPTION = re.compile(r"\s*-c\s*(statement_timeout|idle_in_transaction_session_timeout)=\S+")


def timeout_options(existing: str, *, statement_ms: int, idle_in_transaction_ms: int) -> str:
    """libpq `options` with these limits (0 turns one off), keeping any other option already there."""
    kept = _TIMEOUT_OPTION.sub("", existing or "").strip()
    limits = f"-c statement_timeout={statement_ms} -c idle_in_transaction_session_timeout={idle_in_transaction_ms}"
    return f"{kept} {limits}".strip()


def with_session_limits(database: dict, statement_ms: int, idle_in_transaction_ms: int) -> None:
    """A database's settings get the limits as libpq options (kept with any other option)."""
    options = database.setdefault("OPTIONS", {})
    options["options"] = timeout_options(
        options.get("options", ""), statement_ms=statement_ms, idle_in_transaction_ms=idle_in_transaction_ms
    )


def use_timeouts(*, statement_ms: int, idle_in_transaction_ms: int, alias: str = "default") -> str:
    """From this process's next connection to `alias` on, these limits (the current one is closed).
    Returns the `options` they replace, for `restore_options`."""
    from django.db import connections  # here, not above: settings import this module

    connection = connections[alias]
    previous = connection.settings_dict.get("OPTIONS", {}).get("options", "")
    with_session_limits(connection.settings_dict, statement_ms, idle_in_transaction_ms)
    connection.close()
    return previous


def restore_options(previous: str, *, alias: str = "default") -> None:
    from django.db import connections

    connection = connections[alias]
    connection.settings_dict.setdefault("OPTIONS", {})["options"] = previous
    connection.close()


def long_transactions(*, older_than_seconds: int, limit: int = 10) -> list[dict]:
    """Transactions of this database open for longer than `older_than_seconds` (oldest first), as
    /readyz reports them: who and how long, never the statement (it may carry customer data)."""
    from django.db import connections

    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT pid, state, application_name, backend_type,"
            " floor(extract(epoch FROM clock_timestamp() - xact_start))::int"
            " FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
            " AND xact_start < clock_timestamp() - make_interval(secs => %s)"
            " ORDER BY xact_start LIMIT %s",
            [older_than_seconds, limit],
        )
        return [
            {"pid": pid, "state": state, "application": application, "backend": backend, "seconds": seconds}
            for pid, state, application, backend, seconds in cursor.fetchall()
        ]
