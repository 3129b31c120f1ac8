"""The RQ worker every process of ours runs (settings.RQ["WORKER_CLASS"]).

On start it sweeps the webhook event store once: events that arrived while Redis was down, or that
a killed worker left behind, are processed now rather than at the next five-minute sweep.
"""

from __future__ import annotations

import logging
from typing import Any

from rq.worker import Worker

logger = logging.getLogger(__name__)


class SweepingWorker(Worker):
    def work(self, *args: Any, **kwargs: Any) -> bool:
        sweep_on_start()
        return super().work(*args, **kwargs)


def sweep_on_start() -> int:
    from datetime import timedelta

    from whatsapp.jobs import sweep_pending_webhooks

    try:
        swept = sweep_pending_webhooks(older_than=timedelta(0))
    except Exception:  # a worker must start even when Postgres is briefly away
        logger.exception("webhook sweep on worker start failed; the periodic sweep will retry")
        return 0
    if swept:
        logger.info("webhook events re-enqueued on worker start", extra={"count": swept})
    return swept
