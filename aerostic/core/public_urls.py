"""Addresses a workspace types in (an alert channel's Slack webhook, the AI's chat model) that the
platform's workers then call: deployed, each must be https to a public address, checked when it is
called (DNS may have changed since it was saved), so a workspace cannot make a worker reach the
platform's own network (SSRF: metadata services, Postgres, Redis, admin ports)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


def private_target_problem(url: str) -> str | None:
    """Why a worker must not call `url` (None: it may). Development and tests call local servers."""
    if not settings.IS_DEPLOYED:
        return None
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return "the URL must start with https://"
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except OSError:
        return f"{parts.hostname} does not resolve"
    for address in addresses:
        if not ipaddress.ip_address(address.split("%", 1)[0]).is_global:
            return f"{parts.hostname} is not a public address"
    return None
