"""Content negotiation: DRF's browsable API only for signed-in users in production.

Its HTML pages describe each endpoint (name, docstring, allowed methods, forms) to anyone who
opens the URL; an anonymous caller gets the same answer as JSON instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer


class BrowsableApiForSignedInUsers(DefaultContentNegotiation):
    def select_renderer(
        self, request: Any, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer, media_type = super().select_renderer(request, renderers, format_suffix)
        if isinstance(renderer, BrowsableAPIRenderer) and settings.IS_DEPLOYED and not request.user.is_authenticated:
            json_renderer = next((r for r in renderers if isinstance(r, JSONRenderer)), JSONRenderer())
            return json_renderer, json_renderer.media_type
        return renderer, media_type
