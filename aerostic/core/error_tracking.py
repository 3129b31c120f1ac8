"""Optional error tracking (Sentry, when SENTRY_DSN is set), with nothing of a customer's in it.

Every event and breadcrumb passes `scrub_event` / `scrub_breadcrumb` before it leaves the process:
phone numbers masked and Meta tokens redacted in every string (aerostic.core.logging's rules), the
fields that carry customer text (bodies, captions, payloads) and secrets (tokens, passwords,
cookies, authorization, SQL parameters, request bodies) dropped at any depth. The SDK is also told to send no
request bodies, no local variables and no personal data, so the scrubbing is a second line.
"""

from __future__ import annotations

from typing import Any

from aerostic.core.logging import DROPPED_FIELDS, scrub

# Keys whose values never leave: customer text (DROPPED_FIELDS) and secrets, in any casing.
_SECRET_FIELDS = frozenset(
    {
        "token",
        "access_token",
        "input_token",
        "password",
        "secret",
        "client_secret",
        "authorization",
        "cookie",
        "cookies",
        "set-cookie",
        "x-hub-signature-256",
        "api_key",
        "pin",
        "params",  # SQL breadcrumbs' parameters: numbers' indexes, bodies, tokens
        "vars",  # a stack frame's local variables
    }
)
_DROPPED = frozenset({*DROPPED_FIELDS, *_SECRET_FIELDS, *(name.title() for name in _SECRET_FIELDS)})


def scrub_event(event: Any, hint: Any = None) -> Any:
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("data", None)  # a body (the SDK is told to send none; this makes sure)
    return scrub(event, dropped=_DROPPED)


def scrub_breadcrumb(crumb: Any, hint: Any = None) -> Any:
    return scrub(crumb, dropped=_DROPPED)


def init_error_tracking(*, dsn: str, environment: str, release: str = "") -> bool:
    """Starts the Sentry SDK for this process (web and workers alike: settings call it); False
    without a DSN."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.rq import RqIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration(), RqIntegration()],
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        traces_sample_rate=0.0,
        before_send=scrub_event,
        before_send_transaction=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
    )
    return True
