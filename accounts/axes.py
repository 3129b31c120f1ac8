"""django-axes glue: the account name a failed attempt is counted against, from the form or the API."""

from __future__ import annotations

from typing import Any


def attempted_username(request: Any, credentials: dict | None) -> str | None:
    credentials = credentials or {}
    for key in ("username", "email"):
        if credentials.get(key):
            return str(credentials[key]).strip().lower()
    data = getattr(request, "data", None) or getattr(request, "POST", None) or {}
    for key in ("username", "email"):
        value = data.get(key) if hasattr(data, "get") else None
        if value:
            return str(value).strip().lower()
    return None
