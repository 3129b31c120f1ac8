"""Template context every page gets from the project itself (not from a domain app)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

# What each environment outside production says on every page (portal, sign-in, admin), so nobody
# mistakes a rehearsal for the live service. Production shows nothing.
ENVIRONMENT_BANNERS = {
    "development": "Generated secrets, sample data and the sandbox: not for customers.",
    "staging": "A rehearsal of production, on its own data and WhatsApp accounts.",
}


def environment(request: HttpRequest) -> dict[str, Any]:
    return {"environment_name": settings.DJANGO_ENV, "environment_banner": ENVIRONMENT_BANNERS.get(settings.DJANGO_ENV)}
