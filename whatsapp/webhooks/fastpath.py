"""Meta's webhook POSTs skip Django's middleware stack and URL resolution.

Meta can deliver thousands of webhooks a second; the intake view needs none of what the middleware
does for people (sessions, CSRF, messages, tenant resolution, lockouts), and on a 2-core machine
that stack cost more than storing the event. This WSGI wrapper hands `POST /webhooks/meta/` straight
to the same view (`intake.meta_webhook`) and keeps what still matters on that path: Django's
request_started / request_finished signals (database connection upkeep), the host check, and
HTTPS-only in production. Everything else goes to Django unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse, JsonResponse

WEBHOOK_PATH = "/webhooks/meta/"


class WebhookFastPath:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != WEBHOOK_PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        signals.request_started.send(sender=self.__class__, environ=environ)
        try:
            response = self.handle(WSGIRequest(environ))
        finally:
            signals.request_finished.send(sender=self.__class__)
        content = response.content
        headers = [(name, value) for name, value in response.items() if name.lower() != "content-length"]
        # A length lets the server keep the connection open for Meta's next delivery.
        start_response(
            f"{response.status_code} {response.reason_phrase}", [*headers, ("Content-Length", str(len(content)))]
        )
        return [content]

    @staticmethod
    def handle(request: WSGIRequest) -> HttpResponse:
        from whatsapp.webhooks.intake import meta_webhook

        try:
            request.get_host()
        except DisallowedHost:
            return JsonResponse({"error": "Unknown host."}, status=400)
        if getattr(settings, "SECURE_SSL_REDIRECT", False) and not request.is_secure():
            return JsonResponse({"error": "HTTPS required."}, status=403)
        return meta_webhook(request)
