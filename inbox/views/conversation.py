"""A conversation's page: its header, the timeline (older pages with `before=`), the composer and
the side panel, beside the list on a wide screen (loaded in its own request: views.list.ListPaneView).
Opening it (a GET, never a poll) marks it read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from aerostic.core.errors import DomainError
from inbox import selectors, teamwork
from inbox.models import Conversation
from inbox.replies import window_open
from inbox.views.common import InboxView, customer_label, page_size, person_name, window_left, workspace_zone
from inbox.views.composer_forms import composer_context
from inbox.views.list import STATUS_KIND, list_placeholder_context
from inbox.views.poll import poll_state, poll_url
from inbox.views.timeline import TimelineBuilder


def parse_before(raw: str) -> datetime | None:
    """The `before=` of an older page; DomainError when it is not a time of ours."""
    if not raw:
        return None
    at = parse_datetime(raw.replace(" ", "+"))  # a "+" left unescaped in a query string reads as a space
    if at is None or timezone.is_naive(at):
        raise DomainError("That page of the conversation is not one of ours: open the conversation again.")
    return at


def head_context(conversation: Conversation) -> dict[str, Any]:
    is_open = window_open(conversation)
    expires = conversation.window_expires_at
    contact = conversation.contact
    return {
        "conversation": conversation,
        "customer": customer_label(conversation),
        "masked_number": contact.phone_hint if contact is not None else "",
        "status_kind": STATUS_KIND.get(conversation.status, "neutral"),
        "assignee_name": person_name(conversation.assignee),
        "window_open": is_open,
        "window_left": window_left(expires) if is_open else "",
        "window_expires_iso": expires.isoformat() if is_open and expires else "",
    }


def timeline_context(
    request: HttpRequest, conversation: Conversation, *, can_reply: bool, before: datetime | None = None
) -> dict[str, Any]:
    """A page of the timeline: the latest one, or the one before `before`."""
    size = page_size(request, default=selectors.TIMELINE_SIZE, most=selectors.MAX_TIMELINE_SIZE)
    entries = selectors.timeline(conversation, before=before, limit=size)
    builder = TimelineBuilder(
        conversation, zone=workspace_zone(request), can_reply=can_reply, window_open=window_open(conversation)
    )
    messages = [entry for entry in entries if entry.kind == "message"]
    earlier = messages[0].at.isoformat() if len(messages) >= size else ""
    return {
        "timeline_rows": builder.rows(entries),
        # the latest page holds every send still on its way (selectors.in_flight's question)
        "sends_moving": None
        if before is not None
        else any(entry.kind == "outbound" and entry.item.state in selectors.MOVING for entry in entries),
        "earlier": earlier,
        "older_page": before is not None,
        "conversation": conversation,
        "can_reply": can_reply,
    }


def conversation_page(
    request: HttpRequest,
    view: InboxView,
    conversation: Conversation,
    *,
    status: int = 200,
    before: datetime | None = None,
    alert: str = "",
    **composer_state: Any,
) -> HttpResponse:
    """The whole page (a GET, or a form posted without JavaScript that needs showing again)."""
    state = poll_state(request, conversation.pk)
    context = view.get_context_data(conversation_id=conversation.pk)
    context.update(list_placeholder_context(request))
    context.update(head_context(conversation))
    context.update(timeline_context(request, conversation, can_reply=view.can_reply, before=before))
    if view.can_reply:
        context.update(composer_context(conversation, **composer_state))
    context.update(
        typists=state["typists"],
        alert=alert,
        poll_url=poll_url(
            filters_qs=context["filters_qs"], state=state, conversation=conversation, in_flight=context["sends_moving"]
        ),
    )
    return render(request, "inbox/inbox.html", context, status=status)


class ConversationView(InboxView):
    template_name = "inbox/inbox.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        conversation = self.get_conversation()
        try:
            before = parse_before(request.GET.get("before", ""))
        except DomainError as refused:
            return conversation_page(request, self, conversation, status=400, alert=refused.message)
        teamwork.conversation_opened(conversation, user=request.user)
        # A template chosen without JavaScript comes back as ?template_id= to show its fields.
        return conversation_page(
            request, self, conversation, before=before, template_id=request.GET.get("template_id"), mode="reply"
        )


class TimelineView(InboxView):
    """An older page of the timeline ("Load earlier"), or the latest one."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        conversation = self.get_conversation()
        try:
            before = parse_before(request.GET.get("before", ""))
        except DomainError as refused:
            return HttpResponse(refused.message, status=400, content_type="text/plain; charset=utf-8")
        context = timeline_context(request, conversation, can_reply=self.can_reply, before=before)
        template = "inbox/_timeline_page.html" if before is not None else "inbox/_timeline.html"
        return render(request, template, context)
