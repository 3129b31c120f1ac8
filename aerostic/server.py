"""gunicorn's worker class for the web tier: uvicorn (uvloop + httptools) under gunicorn's
process management (`gunicorn aerostic.asgi:application -k aerostic.server.Worker`)."""

from __future__ import annotations

from typing import Any

from uvicorn_worker import UvicornWorker


class Worker(UvicornWorker):
    CONFIG_KWARGS: dict[str, Any] = {
        "loop": "uvloop",
        "http": "httptools",
        # The app resolves the client address itself from the socket address and X-Forwarded-For,
        # trusting only TRUSTED_PROXY_COUNT proxies (aerostic.core.clientip: lockouts, throttles,
        # the webhook limit and audit rows all use it); uvicorn must not rewrite it first.
        "proxy_headers": False,
        # The webhook intake opens and closes its connection pool with the worker.
        "lifespan": "on",
    }
