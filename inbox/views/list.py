"""The conversation list: views (mine / unassigned / team / all) with their unread counts, states,
filters and search, in keyset pages ("Load more", never OFFSET). The page at /inbox/ shows it
alone; a conversation's page shows it beside the conversation (one pane on a phone)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from aerostic.core.errors import DomainError
from inbox import badges, selectors, settings_selectors
from inbox.badges import attention_known
from inbox.formatting import preview_text
from inbox.models import Conversation, Label, Message
from inbox.selectors import Agent, ListFilters
from inbox.views.common import (
    InboxView,
    Moment,
    customer_label,
    filters_from,
    filters_or_default,
    filters_query,
    is_filtered,
    moment,
    page_size,
    person_name,
    relative_time,
    workspace_zone,
)
from inbox.views.poll import poll_state, poll_url

VIEW_LABELS = (("mine", "Mine"), ("unassigned", "Unassigned"), ("team", "Team"), ("all", "All"))
STATE_LABELS = (
    ("open", "Open"),
    ("pending", "Pending"),
    ("snoozed", "Snoozed"),
    ("resolved", "Resolved"),
    ("any", "Any state"),
)
STATUS_KIND = {"open": "success", "pending": "warning", "snoozed": "info", "resolved": "neutral"}


@dataclass
class ListRow:
    conversation: Conversation
    name: str
    preview: str
    outbound: bool
    when: str
    assignee: str
    labels: list[Label]
    window_open: bool
    url: str
    selected: bool
    at: Moment | None  # the last activity

    @property
    def status_kind(self) -> str:
        return STATUS_KIND.get(self.conversation.status, "neutral")


_ID_SLOT = 918273645  # a number no route contains but the id's place


def list_rows(
    agent: Agent,
    filters: ListFilters,
    *,
    zone: ZoneInfo,
    cursor: str = "",
    selected_id: int | None = None,
    limit: int = selectors.PAGE_SIZE,
) -> tuple[list[ListRow], str | None]:
    """One keyset page of rows (four queries whatever the page size) and the next page's cursor."""
    page = selectors.conversation_page(agent, filters, cursor=cursor, limit=limit)
    now = timezone.now()
    link_query = filters_query(filters)
    # One reverse() for the page (each costs ≈ 80 µs): a row's address is the pattern's with its id.
    address = reverse("inbox:conversation", args=[_ID_SLOT]).replace(str(_ID_SLOT), "{}")
    rows = []
    for conversation in page.conversations:
        last: Message | None = page.previews.get(conversation.pk)
        url = address.format(conversation.pk)
        rows.append(
            ListRow(
                conversation=conversation,
                name=customer_label(conversation),
                preview=(
                    preview_text(type=last.type, body=last.body, payload=last.payload, status=last.status)
                    if last is not None
                    else ""
                ),
                outbound=last is not None and last.direction == Message.Direction.OUTBOUND,
                when=relative_time(conversation.last_message_at, zone, now=now),
                assignee=person_name(conversation.assignee),
                labels=page.labels.get(conversation.pk, []),
                window_open=bool(conversation.window_expires_at and conversation.window_expires_at > now),
                url=f"{url}?{link_query}" if link_query else url,
                selected=conversation.pk == selected_id,
                at=moment(conversation.last_message_at, zone) if conversation.last_message_at else None,
            )
        )
    return rows, page.next_cursor


def tabs(filters: ListFilters, counts: dict[str, int]) -> list[dict[str, Any]]:
    """The views with their unread counts (badges.unread_counts), each keeping the other filters."""
    return [
        {"view": view, "label": label, "count": counts.get(view, 0), "qs": filters_query(filters, view=view)}
        for view, label in VIEW_LABELS
    ]


def list_page_size(request: HttpRequest) -> int:
    return page_size(request, default=selectors.PAGE_SIZE, most=selectors.MAX_PAGE_SIZE)


def list_context(
    request: HttpRequest,
    agent: Agent,
    *,
    selected_id: int | None = None,
) -> dict[str, Any]:
    """Everything the list pane shows; a filter that is not one of ours is named in `list_error`
    (the page answers 400 and shows the default list)."""
    filters, error = filters_or_default(request.GET)
    cursor = request.GET.get("cursor", "")
    zone = workspace_zone(request)
    limit = list_page_size(request)
    try:
        rows, next_cursor = list_rows(agent, filters, zone=zone, cursor=cursor, selected_id=selected_id, limit=limit)
    except DomainError as refused:  # a cursor that is not one of ours
        error, cursor = refused.message, ""
        rows, next_cursor = list_rows(agent, filters, zone=zone, selected_id=selected_id, limit=limit)
    choices = settings_selectors.filter_choices()
    counts = badges.unread_counts(agent, attention=True)
    attention_known(request, counts["attention"])
    return {
        "filters": filters,
        "filters_qs": filters_query(filters),
        "list_error": error,
        "rows": rows,
        "next_cursor": next_cursor,
        "paged": bool(cursor),
        "tabs": tabs(filters, counts),
        "states": STATE_LABELS,
        "labels": choices.labels,
        "teams": choices.teams,
        "phones": choices.phones,
        "is_filtered": is_filtered(filters),
        "selected_id": selected_id,
    }


def list_placeholder_context(request: HttpRequest) -> dict[str, Any]:
    """What a conversation's page needs of the list it loads afterwards: the filters it was
    opened with (kept by the list pane's request, the poll and the links back)."""
    filters, _ = filters_or_default(request.GET)
    return {"filters": filters, "filters_qs": filters_query(filters), "list_error": ""}


class InboxIndexView(InboxView):
    """/inbox/: the list, and on a wide screen an invitation to pick a conversation beside it."""

    template_name = "inbox/inbox.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        state = poll_state(request, None)  # before the data: a change in between shows on the next poll
        context = self.get_context_data(**kwargs)
        context.update(list_context(request, self.agent))
        context["poll_url"] = poll_url(filters_qs=context["filters_qs"], state=state, conversation=None)
        return render(request, self.template_name, context, status=400 if context["list_error"] else 200)


class ListPaneView(InboxView):
    """The list pane alone (tabs, filters, rows): a conversation's page loads it beside the
    conversation once it is on screen, so opening a conversation never waits for the list (on a
    phone, where the conversation fills the screen, it is not loaded at all)."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        selected = request.GET.get("selected", "")
        context = list_context(request, self.agent, selected_id=int(selected) if selected.isdigit() else None)
        return render(request, "inbox/_list.html", context, status=400 if context["list_error"] else 200)


class ListRowsView(InboxView):
    """The next keyset page of rows (the "Load more" button's fragment)."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            filters = filters_from(request.GET)
            selected = request.GET.get("selected", "")
            rows, next_cursor = list_rows(
                self.agent,
                filters,
                zone=workspace_zone(request),
                cursor=request.GET.get("cursor", ""),
                selected_id=int(selected) if selected.isdigit() else None,
                limit=list_page_size(request),
            )
        except DomainError as refused:
            return HttpResponse(refused.message, status=400, content_type="text/plain; charset=utf-8")
        context = {"rows": rows, "next_cursor": next_cursor, "filters_qs": filters_query(filters)}
        context["selected_id"] = int(selected) if selected.isdigit() else None
        return render(request, "inbox/_rows.html", context)
