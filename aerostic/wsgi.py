"""WSGI entry point, for servers that speak only WSGI. The Procfile runs the ASGI one
(aerostic.asgi), whose webhook intake takes Meta's bursts without a thread per request."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aerostic.settings")

application = get_wsgi_application()
