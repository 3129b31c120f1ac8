"""JSON log lines with request, tenant and user ids; phone numbers masked, message bodies dropped."""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from aerostic.core.tenant_context import current_tenant_id

request_id_var: ContextVar[str | None] = ContextVar("aerostic_request_id", default=None)
user_id_var: ContextVar[int | None] = ContextVar("aerostic_user_id", default=None)

# Attributes a caller may attach with `extra=` that could carry customer text: never emitted.
DROPPED_FIELDS = frozenset({"body", "text", "message_body", "caption", "content", "payload", "raw_body"})

# Phone-number-looking runs: an optional +, then 8–15 digits possibly split by spaces, dots or dashes.
# Not inside a UUID or other hyphenated hex id (an RQ job id "c0f43ab2-2207-4890-…" is no number).
_PHONE_RE = re.compile(r"(?<![\w/])(?<![0-9a-fA-F]-)\+?\d(?:[\s.\-]?\d){7,14}(?![\w/])(?!-[0-9a-fA-F])")

# Meta access tokens ("EAA…") and token-bearing query parameters: never emitted, at any level.
_TOKEN_RE = re.compile(r"\bEAA[A-Za-z0-9_\-]{16,}|((?:access|input)_token|client_secret)=[^&\s\"']+")

_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


def mask_phone(match_or_text: re.Match[str] | str) -> str:
    """`+919812345621` → `+91 98••••21`: enough to recognise, not enough to dial."""
    raw = match_or_text.group(0) if isinstance(match_or_text, re.Match) else match_or_text
    digits = re.sub(r"\D", "", raw)
    if len(digits) < 8:
        return raw
    prefix = "+" if raw.strip().startswith("+") else ""
    return f"{prefix}{digits[:2]} {digits[2:4]}••••{digits[-2:]}"


def _mask_token(match: re.Match[str]) -> str:
    return f"{match.group(1)}=[redacted]" if match.group(1) else "[redacted-token]"


def mask_phones(text: str) -> str:
    """Masks phone numbers and redacts access tokens (the one scrubbing step every log line gets)."""
    return _PHONE_RE.sub(mask_phone, _TOKEN_RE.sub(_mask_token, text))


def scrub(value: Any, *, dropped: frozenset[str] = DROPPED_FIELDS) -> Any:
    """`value` with phone numbers masked and tokens redacted in every string, and the fields named in
    `dropped` (customer text) replaced, at any depth."""
    if isinstance(value, str):
        return mask_phones(value)
    if isinstance(value, dict):
        return {k: ("[dropped]" if k in dropped else scrub(v, dropped=dropped)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v, dropped=dropped) for v in value]
    return value


class RequestContextFilter(logging.Filter):
    """Adds request_id, tenant_id and user_id from the current context to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.tenant_id = current_tenant_id()
        record.user_id = user_id_var.get()
        return True


class PiiFilter(logging.Filter):
    """Masks phone numbers in the message and extras; drops message-body fields entirely."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = str(record.msg)
        record.msg = mask_phones(message)
        record.args = None
        for key in list(vars(record)):
            if key in _STANDARD_ATTRS:
                continue
            if key in DROPPED_FIELDS:
                setattr(record, key, "[dropped]")
            else:
                setattr(record, key, scrub(getattr(record, key)))
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key in _STANDARD_ATTRS or key.startswith("_"):
                continue
            entry[key] = value
        if record.exc_info:
            entry["exc"] = mask_phones(self.formatException(record.exc_info))
        return json.dumps(entry, default=lambda value: mask_phones(str(value)), ensure_ascii=False)


def logging_config(level: str) -> dict[str, Any]:
    """settings.LOGGING: one JSON line per record on stdout, every record through the context and
    PII filters above; `level` for the root logger and RQ's worker."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": "aerostic.core.logging.RequestContextFilter"},
            "pii": {"()": "aerostic.core.logging.PiiFilter"},
        },
        "formatters": {"json": {"()": "aerostic.core.logging.JsonFormatter"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["context", "pii"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "INFO"},
            "axes": {"level": "WARNING"},
            # urllib3 logs full URLs at DEBUG, and Graph's debug_token carries a token in its query.
            "urllib3": {"level": "WARNING"},
            "rq.worker": {"level": level},
        },
    }
