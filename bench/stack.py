"""The pieces every benchmark shares: staging (production's settings) with throwaway secrets, `manage.py`
commands, the web server as production runs it, Django set up in the bench's own process, stopping
on SIGTERM, and percentiles."""

from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

from bench.processes import ROOT
from devstack.run import web_server_command


def staging_env(port: int) -> dict[str, str]:
    """Staging, with throwaway secrets: production's settings (no DEBUG, HTTPS, hashed static files,
    the role under row-level security), and the sandbox the benches send to, which production
    refuses. The per-IP limit is lifted because every request comes from one address here, while
    Meta delivers from many. Staging requires an SMTP EMAIL_URL; the benches send no mail, so
    nothing needs to listen on its port."""
    return {
        **os.environ,
        "DJANGO_ENV": "staging",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "TOKEN_ENCRYPTION_KEYS": "bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "BLIND_INDEX_KEY": secrets.token_urlsafe(32),
        "META_APP_SECRET": secrets.token_hex(16),
        "META_WEBHOOK_VERIFY_TOKEN": secrets.token_urlsafe(16),
        "ALLOWED_HOSTS": "127.0.0.1",
        "EMAIL_URL": "smtp://127.0.0.1:1025",
        "CSRF_TRUSTED_ORIGINS": f"https://127.0.0.1:{port}",
        "TRUSTED_PROXY_COUNT": "0",
        "WEBHOOK_RATE_PER_MINUTE": "10000000",
        "LOG_LEVEL": "WARNING",
    }


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, text=True, capture_output=True
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def start_web_server(port: int, env: dict[str, str], workers: int, log: Path | None = None) -> subprocess.Popen:
    """gunicorn with uvicorn workers serving aerostic.asgi, as production runs it (Procfile); its
    logs go to `log` when given (a table is unreadable between tracebacks), else to our stderr."""
    command = web_server_command(port, workers, "--backlog", "4096", "--log-level", "warning")
    if log is None:
        return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as stderr:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True, stderr=stderr)  # noqa: S603


def stop_on_sigterm() -> None:
    """A stop (Ctrl-C or kill) unwinds through `finally`, so no server outlives the benchmark."""
    signal.signal(signal.SIGTERM, lambda signum, frame: (_ for _ in ()).throw(KeyboardInterrupt()))


def setup_django(env: dict[str, str]) -> None:
    """This process takes the stack's settings and sets Django up (its queries count and check)."""
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aerostic.settings")
    import django

    django.setup()
