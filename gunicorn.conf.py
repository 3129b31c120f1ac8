"""gunicorn settings read from the working directory by every `gunicorn` start (Procfile, make run,
bench). Command-line flags still win."""

import gc
import os


def post_worker_init(worker):
    # Django's import-time objects never die: move them out of the collector's sight, so the
    # periodic full collections stay short and do not show up as latency spikes on webhook ACKs.
    gc.collect()
    gc.freeze()


def child_exit(server, worker):
    # prometheus_client's multiprocess mode (aerostic/core/metrics.py): a dead worker's live gauges
    # must not be summed any more; its counters stay, as counters should.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
