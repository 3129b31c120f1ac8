"""gunicorn settings read from the working directory by every `gunicorn` start (Procfile, make run,
bench). Command-line flags still win."""

import gc


def post_worker_init(worker):
    # Django's import-time objects never die: move them out of the collector's sight, so the
    # periodic full collections stay short and do not show up as latency spikes on webhook ACKs.
    gc.collect()
    gc.freeze()
