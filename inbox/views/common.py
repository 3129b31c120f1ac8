"""What the inbox pages share: the acting agent, the conversation lookup (the same 404 for another
workspace's conversation and for one the agent may not see), the list's filters as they travel in
query strings, and the workspace's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.http import HttpRequest, QueryDict
from django.utils import timezone
from django.utils.functional import cached_property

from accounts.roles import Perm
from aerostic.core.errors import DomainError
from inbox.models import Conversation
from inbox.selectors import STATES, VIEWS, Agent, ListFilters, conversation_get
from tenants.portal_base import PortalView, workspace_zone

FILTER_KEYS = ("view", "state", "phone", "label", "team", "unread", "window", "q")
DEFAULT_FILTERS = ListFilters()


class InboxView(PortalView):
    """Every inbox page and fragment: signed in, inside a workspace, allowed to read conversations."""

    required_permission: str | None = Perm.INBOX_VIEW

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        # Times read in the workspace's zone, in pages and fragments alike (rendered within).
        timezone.activate(workspace_zone(request))
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            timezone.deactivate()

    @cached_property
    def agent(self) -> Agent:
        return Agent.of(self.request.membership)  # type: ignore[attr-defined]

    def get_conversation(self) -> Conversation:
        return self.scoped_get(conversation_get, self.agent, self.kwargs["conversation_id"])

    @property
    def can_reply(self) -> bool:
        return self.can(Perm.INBOX_REPLY)


def page_size(request: HttpRequest, *, default: int, most: int) -> int:
    """`?limit=` (an integrator's or the benchmark's page size), within 1 and `most`."""
    raw = request.GET.get("limit", "")
    return max(1, min(int(raw), most)) if raw.isdigit() else default


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _optional_id(query: QueryDict, key: str, label: str) -> int | None:
    raw = query.get(key, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise DomainError(f"The {label} filter takes one of the listed {label}s.")
    return int(raw)


def filters_from(query: QueryDict) -> ListFilters:
    """The list's filters from a query string; DomainError names a value that is not one of ours."""
    view = query.get("view", DEFAULT_FILTERS.view) or DEFAULT_FILTERS.view
    state = query.get("state", DEFAULT_FILTERS.state) or DEFAULT_FILTERS.state
    if view not in VIEWS:
        raise DomainError(f"Unknown view {view!r}: one of {', '.join(VIEWS)}.")
    if state not in STATES:
        raise DomainError(f"Unknown state {state!r}: one of {', '.join(STATES)}.")
    return ListFilters(
        view=view,
        state=state,
        phone_id=_optional_id(query, "phone", "number"),
        label_id=_optional_id(query, "label", "label"),
        team_id=_optional_id(query, "team", "team"),
        unread=query.get("unread") == "1",
        window_open=query.get("window") == "1",
        query=query.get("q", "").strip()[:200],
    )


def filters_or_default(query: QueryDict) -> tuple[ListFilters, str]:
    """The filters asked for, or the default ones with the reason those were refused."""
    try:
        return filters_from(query), ""
    except DomainError as refused:
        return DEFAULT_FILTERS, refused.message


def filters_query(filters: ListFilters, **overrides: Any) -> str:
    """The query string that gives these filters back (defaults left out)."""
    values: dict[str, Any] = {
        "view": filters.view if filters.view != DEFAULT_FILTERS.view else "",
        "state": filters.state if filters.state != DEFAULT_FILTERS.state else "",
        "phone": filters.phone_id or "",
        "label": filters.label_id or "",
        "team": filters.team_id or "",
        "unread": "1" if filters.unread else "",
        "window": "1" if filters.window_open else "",
        "q": filters.query,
    }
    values.update(overrides)
    return urlencode({key: value for key, value in values.items() if value not in ("", None)})


def is_filtered(filters: ListFilters) -> bool:
    """Anything narrower than the default list (views and states aside)."""
    narrowing = (filters.phone_id, filters.label_id, filters.team_id, filters.unread, filters.window_open)
    return any(narrowing) or bool(filters.query)


def customer_label(conversation: Conversation) -> str:
    """How the inbox names a customer: their profile name, else their masked number (never the full
    one in lists), else what WhatsApp tells us of a user behind a username."""
    if conversation.customer_name:
        return conversation.customer_name
    contact = conversation.contact
    if contact is not None and contact.phone_hint:
        return contact.phone_hint
    return "WhatsApp user"


def person_name(user: Any) -> str:
    """A teammate as the inbox names them: their full name, else their e-mail's local part."""
    if user is None:
        return ""
    return user.full_name or user.email.split("@")[0]


@dataclass(frozen=True)
class Moment:
    """A stored time as a <time> element shows it, in the workspace's zone: formatted once in
    Python (the `date` filter costs more per use than a timeline's whole bubble)."""

    iso: str  # the datetime attribute
    title: str  # "7 Dec 2026 15:04", on hover
    short: str  # "15:04"


def moment(at: datetime, zone: ZoneInfo) -> Moment:
    local = at.astimezone(zone)
    return Moment(iso=local.isoformat(), title=f"{local.day} {local:%b %Y %H:%M}", short=f"{local:%H:%M}")


def relative_time(at: datetime | None, zone: ZoneInfo, *, now: datetime | None = None) -> str:
    """ "now", "5 min", "3 h", then "Yesterday", the weekday, the date: how lists say when."""
    if at is None:
        return ""
    now = now or timezone.now()
    seconds = (now - at).total_seconds()
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    local, today = at.astimezone(zone), now.astimezone(zone).date()
    if local.date() == today:
        return f"{int(seconds // 3600)} h"
    if local.date() == today - timedelta(days=1):
        return "Yesterday"
    if (today - local.date()).days < 7:
        return local.strftime("%a")
    return local.strftime("%d %b") if local.year == today.year else local.strftime("%d %b %Y")


def window_left(expires_at: datetime | None, *, now: datetime | None = None) -> str:
    """ "5 h 12 min" until the customer's 24-hour window closes ("" when closed)."""
    if expires_at is None:
        return ""
    seconds = int((expires_at - (now or timezone.now())).total_seconds())
    if seconds <= 0:
        return ""
    hours, minutes = seconds // 3600, (seconds % 3600) // 60
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else "less than a minute"
