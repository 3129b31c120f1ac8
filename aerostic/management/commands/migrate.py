"""`migrate`, without the session limits every other connection has (aerostic/core/db_session.py):
building an index or back-filling a large table may rightly take longer than a web statement, and
an operator runs it on purpose, watching it."""

from __future__ import annotations

from typing import Any

from django.core.management.commands import migrate

from aerostic.core.db_session import restore_options, use_timeouts


class Command(migrate.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        alias = options["database"]
        previous = use_timeouts(statement_ms=0, idle_in_transaction_ms=0, alias=alias)
        try:
            super().handle(*args, **options)
        finally:  # run in process (tests, call_command), the limits come back after it
            restore_options(previous, alias=alias)
