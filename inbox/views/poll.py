"""The live poll's state as a page carries it: the change versions it was rendered at (read before
the page's data, so a change in between is never missed), who was typing, and whether a send was
still on its way. inbox.views.live answers the poll."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse

from inbox import changes, selectors
from inbox.models import Conversation


def typing_signature(names: list[str]) -> str:
    return hashlib.sha256("|".join(names).encode()).hexdigest()[:10] if names else ""


def poll_state(request: HttpRequest, conversation_id: int | None) -> dict[str, Any]:
    """Read first: the versions and typists (Redis only)."""
    tenant_id = request.tenant.pk  # type: ignore[attr-defined]
    versions = changes.versions(tenant_id, conversation_id)
    typists = changes.typists(tenant_id, conversation_id, except_user=request.user.pk) if conversation_id else []
    return {"token": versions.token, "typists": typists}


def poll_url(
    *, filters_qs: str, state: dict[str, Any], conversation: Conversation | None, in_flight: bool | None = None
) -> str:
    """The changes endpoint as the page polls it next (`in_flight` when the caller already knows
    whether a send is on its way, saving the query)."""
    params: dict[str, Any] = {"token": state["token"]}
    if conversation is not None:
        params["conversation"] = conversation.pk
        params["typing"] = typing_signature(state["typists"])
        if selectors.in_flight(conversation) if in_flight is None else in_flight:
            params["inflight"] = "1"
    query = urlencode({key: value for key, value in params.items() if value != ""})
    return reverse("inbox:changes") + "?" + (f"{filters_qs}&" if filters_qs else "") + query
