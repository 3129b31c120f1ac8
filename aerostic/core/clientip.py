"""The client's IP address: the one rule every per-address decision uses (lockouts, throttles, the
webhook limit, audit rows, django-auditlog).

Each of the `TRUSTED_PROXY_COUNT` proxies in front of the app appends the address it received the
request from to `X-Forwarded-For`, so the client is the N-th entry from the right; everything left
of it was written by the client and is ignored. With no trusted proxy the header is ignored
entirely. A header with fewer entries than trusted proxies did not come through the configured
chain (a request that bypassed a proxy, or a misconfiguration), so nothing in it is trusted either:
the socket address is used. An entry that is not an IP address also falls back to the socket
address, so a malformed header never becomes a key of its own.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest | None) -> str | None:
    """The resolved client address of a Django request, or None without a request."""
    if request is None:
        return None
    return client_ip_from(request.META.get("REMOTE_ADDR"), request.META.get("HTTP_X_FORWARDED_FOR"))


def client_ip_from(remote_addr: str | None, forwarded_for: str | None) -> str | None:
    """The rule itself, for callers without a Django request (the ASGI webhook intake)."""
    # The socket address is the server's word, never refused; parsing only normalises it.
    socket_address = _parse(remote_addr) or (remote_addr or None)
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies <= 0 or not forwarded_for:
        return socket_address
    entries = forwarded_for.split(",")
    if len(entries) < proxies:
        return socket_address
    return _parse(entries[-proxies]) or socket_address


def _parse(entry: str | None) -> str | None:
    """An address from one header entry ("203.0.113.9", "203.0.113.9:4431", "[2001:db8::1]:443",
    "2001:db8::1"), normalised; None when it is not an IP address."""
    text = (entry or "").strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # IPv4 with a port; a bare IPv6 address has several colons
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address)
