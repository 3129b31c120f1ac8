"""The RQ worker every process of ours runs (settings.RQ["WORKER_CLASS"]).

On start it refuses, in production, a database role that skips row-level security (see
aerostic/core/checks.py), then sweeps the webhook event store once: events that arrived while Redis was down, or that
a killed worker left behind, are processed now rather than at the next five-minute sweep.

It runs jobs in its own process instead of forking a child per job (RQ's default): a fork costs a
new Postgres connection per job, which capped webhook processing at a few dozen events per second
and starved the web processes of CPU (see `make bench-webhooks`). Database connections are
checked between jobs, so a restarted Postgres costs one failed job, not a dead worker; a job that
must not share a process can still be isolated by scaling workers, and `--max-jobs N` recycles a
worker after N jobs.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from rq.worker import SimpleWorker

from aerostic.core.checks import database_role_status
from aerostic.core.db_session import restore_options, use_timeouts
from whatsapp.jobs import sweep_pending_webhooks

logger = logging.getLogger(__name__)


class SweepingWorker(SimpleWorker):
    def work(self, *args: Any, **kwargs: Any) -> bool:
        # A job's set-based batch may run longer than a web request's statement may.
        previous = use_timeouts(
            statement_ms=settings.DB_WORKER_STATEMENT_TIMEOUT_MS,
            idle_in_transaction_ms=settings.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
        )
        try:
            refuse_a_role_that_skips_rls()
            sweep_on_start()
            return super().work(*args, **kwargs)
        finally:  # a burst run in a process that goes on (tests, `rqworker --burst`) gets the web limits back
            restore_options(previous)

    def execute_job(self, job: Any, queue: Any) -> Any:
        close_old_connections()  # drops a connection that broke or outlived CONN_MAX_AGE
        try:
            return super().execute_job(job, queue)
        finally:
            close_old_connections()


def refuse_a_role_that_skips_rls() -> None:
    """Stop the worker at start, naming the role, rather than let every job fail on it."""
    try:
        database_role_status(connection)  # raises DatabaseRoleRefused in production
    except DatabaseError:
        # Postgres is briefly away: each new connection is checked when it comes.
        logger.warning("database role not checked on worker start: Postgres unreachable")


def sweep_on_start() -> int:
    try:
        swept = sweep_pending_webhooks(older_than=timedelta(0))
    except Exception:  # a worker must start even when Postgres is briefly away
        logger.exception("webhook sweep on worker start failed; the periodic sweep will retry")
        return 0
    if swept:
        logger.info("webhook events re-enqueued on worker start", extra={"count": swept})
    return swept
