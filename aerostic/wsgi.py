"""WSGI entry point for gunicorn. Meta's webhook POSTs take a short path (see WebhookFastPath)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aerostic.settings")

_django = get_wsgi_application()

from whatsapp.webhooks.fastpath import WebhookFastPath  # noqa: E402  (after Django is set up)

application = WebhookFastPath(_django)
