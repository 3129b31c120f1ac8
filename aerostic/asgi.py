"""ASGI entry point: gunicorn with uvicorn workers (Procfile, make run, bench).

Meta's webhook POSTs are answered on the event loop (whatsapp.webhooks.asgi); every other request
goes to Django's ASGI handler.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aerostic.settings")
# Requests run in fresh threads here: pooled connections, not one persistent one per thread.
os.environ.setdefault("DB_POOL", "true")

_django = get_asgi_application()

from whatsapp.webhooks.asgi import WebhookIntake  # noqa: E402  (after Django is set up)

application = WebhookIntake(_django)
