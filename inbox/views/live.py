"""Live updates by polling (every 2 s) a cheap "changed since" endpoint, and the typing notice.

Why polling and not server-sent events: the web tier is gunicorn workers, where an open event
stream per agent tab would pin a worker; a poll works through every proxy and with the portal's
session and CSRF, and an unchanged poll costs one Redis round trip (inbox.changes.versions; two
with a conversation open, for who is typing) and no database query: it answers 204 and htmx swaps
nothing. Otherwise the answer is out-of-band fragments: the list rows, the tab counts and the
navigation badge when the workspace changed; the open conversation's header and timeline when it
changed (and the side panel is told to reload: the `inbox-conversation-changed` event); the typing
notice; and always the poller itself, carrying the new versions.

A conversation with a send still on its way is re-read on every poll even when no version moved:
the send path does not bump versions when it refuses a message.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.roles import Perm
from inbox import badges, changes
from inbox.views.common import (
    InboxView,
    filters_or_default,
    filters_query,
    is_filtered,
    is_htmx,
    person_name,
    workspace_zone,
)
from inbox.views.conversation import head_context, timeline_context
from inbox.views.list import list_rows, tabs
from inbox.views.poll import poll_state, poll_url, typing_signature
from tenants.context_processors import nav_badge_id


def _moved(given: str, current: str) -> tuple[bool, bool]:
    """(workspace moved, conversation moved) between the page's token and now; an unreadable
    token counts as both."""
    given_parts, current_parts = given.split("."), current.split(".")
    if len(given_parts) != 2 or len(current_parts) != 2:
        return True, True
    return given_parts[0] != current_parts[0], given_parts[1] != current_parts[1]


class ChangesView(InboxView):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        raw_id = request.GET.get("conversation", "")
        if raw_id and not raw_id.isdigit():
            return HttpResponse("Unknown conversation.", status=400, content_type="text/plain; charset=utf-8")
        conversation_id = int(raw_id) if raw_id else None
        state = poll_state(request, conversation_id)
        workspace_moved, conversation_moved = _moved(request.GET.get("token", ""), state["token"])
        typing_moved = conversation_id is not None and typing_signature(state["typists"]) != request.GET.get(
            "typing", ""
        )
        in_flight = conversation_id is not None and request.GET.get("inflight") == "1"
        if not (workspace_moved or (conversation_id and conversation_moved) or typing_moved or in_flight):
            return HttpResponse(status=204)

        conversation = None
        if conversation_id is not None:
            self.kwargs["conversation_id"] = conversation_id
            try:
                conversation = self.get_conversation()
            except Http404:
                # Another workspace's, or no longer the agent's (reassigned): the page goes back to
                # the list (htmx follows HX-Redirect whatever the status).
                gone = HttpResponse("Not found.", status=404, content_type="text/plain; charset=utf-8")
                if is_htmx(request):
                    gone["HX-Redirect"] = reverse("inbox:index")
                return gone
        filters, _ = filters_or_default(request.GET)
        filters_qs = filters_query(filters)
        context: dict[str, Any] = {
            "oob": True,
            "conversation": conversation,
            "filters": filters,
            "filters_qs": filters_qs,
            "is_filtered": is_filtered(filters),
        }
        if workspace_moved:
            rows, next_cursor = list_rows(
                self.agent, filters, zone=workspace_zone(request), selected_id=conversation_id
            )
            counts = badges.unread_counts(self.agent, attention=True)
            context.update(
                refresh_list=True,
                rows=rows,
                next_cursor=next_cursor,
                selected_id=conversation_id,
                tabs=tabs(filters, counts),
                badge_id=nav_badge_id("inbox:index"),
                badge_count=counts["attention"],
            )
        refresh_conversation = conversation is not None and (conversation_moved or in_flight)
        if refresh_conversation and conversation is not None:
            context.update(head_context(conversation))
            context.update(timeline_context(request, conversation, can_reply=self.can_reply))
            context["refresh_conversation"] = True
        if conversation is not None:
            context["refresh_typing"] = typing_moved
            context["typists"] = state["typists"]
        context["poll_url"] = poll_url(filters_qs=filters_qs, state=state, conversation=conversation)
        response = render(request, "inbox/_changes.html", context)
        if refresh_conversation and conversation_moved:
            response["HX-Trigger"] = "inbox-conversation-changed"
        return response


class TypingView(InboxView):
    """The composer says its agent is typing (at most every 3 s); others' polls show it."""

    required_permission = Perm.INBOX_REPLY
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        conversation = self.get_conversation()
        changes.typing_note(conversation.tenant_id, conversation.pk, request.user.pk, person_name(request.user))  # type: ignore[arg-type]
        return HttpResponse(status=204)
