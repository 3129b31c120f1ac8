"""Strict environment parsing: a malformed value stops start-up with an error naming the variable."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


def env_str(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (got {value!r}).")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number (got {value!r}).") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum} (got {number}).")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum} (got {number}).")
    return number


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = _raw(name)
    if value is None or value == "":
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_networks(name: str, default: list[str]) -> list[str]:
    """A list of IP networks (CIDR or single addresses), each checked at start-up."""
    values = env_list(name, default)
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {value!r} is not an IP network (e.g. 10.0.0.0/8).") from None
    return values


def env_choice(name: str, choices: list[str], default: str) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)} (got {value!r}).")
    return value


def env_url(name: str, *, schemes: tuple[str, ...], hint: str = "") -> str:
    value = env_str(name)
    if not value:
        raise ImproperlyConfigured(f"{name} is not set. {hint}".strip())
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if scheme not in schemes:
        raise ImproperlyConfigured(f"{name} must be a URL starting with {' or '.join(s + '://' for s in schemes)}.")
    return value


def require_in_production(names: list[str], *, environment: str = "production") -> None:
    """Staging and production take every secret from the environment (never generated)."""
    missing = [name for name in names if not env_str(name)]
    if missing:
        raise ImproperlyConfigured(f"DJANGO_ENV={environment} needs these variables set: " + ", ".join(missing) + ".")


def development_secrets(path: Path) -> dict[str, str]:
    """Random secrets for development and tests, made once and kept outside git (.data/).

    Production never reads this file: there every secret comes from the environment.
    """
    stored = json.loads(path.read_text()) if path.exists() else {}
    wanted = {
        "SECRET_KEY": lambda: secrets.token_urlsafe(50),
        "TOKEN_ENCRYPTION_KEYS": lambda: "dev1:" + secrets.token_urlsafe(32),
        "BLIND_INDEX_KEY": lambda: secrets.token_urlsafe(32),
        "META_APP_SECRET": lambda: secrets.token_hex(16),
        "META_WEBHOOK_VERIFY_TOKEN": lambda: secrets.token_urlsafe(16),
    }
    changed = False
    for key, make in wanted.items():
        if key not in stored:
            stored[key] = make()
            changed = True
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(stored, indent=2))
        temporary.chmod(0o600)
        if path.exists():
            # Another process won the race: keep its values so every process agrees.
            temporary.unlink()
            return json.loads(path.read_text())
        temporary.replace(path)
    return stored


def is_local_host(host: str) -> bool:
    """A host name that only this machine can reach: localhost and its subdomains (RFC 6761),
    loopback addresses, and Django's test client. Not 0.0.0.0 nor `*`: those mean "serve anyone"."""
    name = host.strip().lower().lstrip(".")
    if name in {"localhost", "testserver"} or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def refuse_public_hosts_in_development(hosts: list[str]) -> None:
    """Development mode generates its own secrets, runs DEBUG and the sandbox: a forgotten
    DJANGO_ENV on a public server must stop start-up, not serve the world in that mode."""
    public = [host for host in hosts if not is_local_host(host)]
    if public:
        raise ImproperlyConfigured(
            f"ALLOWED_HOSTS names {', '.join(public)}, which is not local, but DJANGO_ENV is development "
            "(the default). Set DJANGO_ENV=production (or staging) to serve other hosts."
        )


def refuse_sandbox_in_production(production: bool, sandbox_enabled: bool) -> None:
    if production and sandbox_enabled:
        raise ImproperlyConfigured(
            "SANDBOX_ENABLED must be false when DJANGO_ENV=production: the sandbox is for development and staging."
        )


# django-environ schemes that deliver mail to someone; the others print, keep or drop it.
_DELIVERING_EMAIL_SCHEMES = ("smtp", "smtps", "smtp+tls", "smtp+ssl")


def production_email_url(name: str = "EMAIL_URL", *, environment: str = "production") -> str:
    """Invitations and password resets must reach people: staging and production need a real mail server."""
    value = env_str(name)
    if not value:
        raise ImproperlyConfigured(
            f"DJANGO_ENV={environment} needs {name} set to a mail server, e.g. smtp+tls://user:pass@host:587."
        )
    scheme = value.split("://", 1)[0].lower() if "://" in value else ""
    if scheme not in _DELIVERING_EMAIL_SCHEMES:
        raise ImproperlyConfigured(
            f"{name} must be an SMTP URL in {environment} ({', '.join(s + '://' for s in _DELIVERING_EMAIL_SCHEMES)}); "
            f"{scheme or value!r} delivers no mail."
        )
    return value


def s3_media_storage() -> dict[str, Any]:
    """settings.STORAGES["default"] for MEDIA_STORAGE=s3: any S3-compatible store through
    django-storages, private objects, no signed URLs (files are only streamed by our views).
    Without keys, boto3's own chain (instance role, ~/.aws) finds the credentials."""
    bucket = env_str("AWS_STORAGE_BUCKET_NAME")
    if not bucket:
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME.")
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env_str("AWS_S3_REGION_NAME") or None,
            "access_key": env_str("AWS_ACCESS_KEY_ID") or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY") or None,
            "location": env_str("AWS_LOCATION"),
            "default_acl": "private",
            "querystring_auth": False,
            "file_overwrite": False,
        },
    }


def replica_database(primary: dict[str, Any]) -> dict[str, Any]:
    """settings.DATABASES["replica"] from DATABASE_REPLICA_URL: never written to (the router), the
    same role (subject to RLS) and options as the primary; in tests, a mirror of the primary."""
    import environ

    url = env_url("DATABASE_REPLICA_URL", schemes=("postgres", "postgresql", "pgsql"))
    return {
        **primary,
        **environ.Env.db_url_config(url),
        "ENGINE": "django.db.backends.postgresql",
        "ATOMIC_REQUESTS": False,
        "TEST": {"MIRROR": "default"},
    }


@dataclass(frozen=True)
class AlertThresholds:
    """When aerostic.core.alert_rules' rules fire; each is overridable as ALERT_<NAME> (upper case)."""

    window_minutes: int = 5  # the rate rules look this far back
    webhook_failure_percent: int = 5  # of the webhook events received in the window, failed processing
    webhook_failure_min_events: int = 20  # fewer events in the window: no rate (one failure is not 5 %)
    send_failure_percent: int = 20  # of a workspace's sends that ended in the window, failed
    send_failure_min_sends: int = 20
    token_expiry_days: int = 7
    dead_webhook_events: int = 0  # fires above this
    queue_depth: int = 1000
    queue_oldest_seconds: int = 300
    quiet_minutes: int = 15  # a counted event (Graph 401/403, Meta throttling) clears after this long without one
    watchdog_interval_seconds: int = 30
    watchdog_failures: int = 2  # consecutive failed checks before Redis or Postgres counts as down
    notice_max_attempts: int = 10  # a notice that cannot be delivered is given up after this many tries


def alert_thresholds() -> AlertThresholds:
    return AlertThresholds(
        **{
            name: env_int(f"ALERT_{name.upper()}", default, minimum=0)
            for name, default in vars(AlertThresholds()).items()
        }
    )


def ai_chat_defaults() -> dict[str, Any]:
    """The platform's OpenAI-compatible chat model for workspaces that name none of their own
    (AI_CHAT_BASE_URL, AI_CHAT_MODEL, AI_CHAT_API_KEY, AI_CHAT_TIMEOUT_SECONDS); empty: none."""
    return {
        "base_url": env_str("AI_CHAT_BASE_URL"),
        "model": env_str("AI_CHAT_MODEL"),
        "api_key": env_str("AI_CHAT_API_KEY"),
        "timeout": env_int("AI_CHAT_TIMEOUT_SECONDS", 15, minimum=1),
    }
