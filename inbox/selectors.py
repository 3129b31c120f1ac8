"""What the inbox reads: who may see which conversation, the list (views, states, filters, search,
keyset pages in order of last activity), the unread counts and a conversation's timeline.

Reads that may lag a moment (the list, search, counts) go to the read replica when one is set
(aerostic.dbrouting: `DATABASE_REPLICA_URL`); a conversation someone acts on is read from the
primary. Every query is scoped to the workspace by the tenant manager.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.roles import Perm, role_has_perm
from aerostic.core.dbrouting import replica
from aerostic.core.errors import DomainError
from aerostic.core.tenant_context import require_tenant_id
from contacts.phones import index_for_search
from contacts.selectors import default_country
from inbox.conversations import SERVICE_WINDOW
from inbox.models import (
    AgentStatus,
    Conversation,
    ConversationEvent,
    ConversationLabel,
    Label,
    MediaFile,
    Message,
    Team,
    TeamMember,
)
from inbox.search_terms import query_hashes
from whatsapp.models import OutboundMessage

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
VIEWS = ("mine", "unassigned", "team", "all")
STATES = ("open", "pending", "snoozed", "resolved", "any")


@dataclass(frozen=True)
class Agent:
    """Who is looking: the user and what their role lets them see."""

    user_id: int
    role: str
    team_ids: tuple[int, ...] = ()

    @classmethod
    def of(cls, membership: Any) -> Agent:
        teams = tuple(TeamMember.objects.filter(user_id=membership.user_id).values_list("team_id", flat=True))
        return cls(user_id=membership.user_id, role=membership.role, team_ids=teams)

    @property
    def sees_all(self) -> bool:
        return role_has_perm(self.role, Perm.INBOX_VIEW_ALL)

    def visible(self) -> Q:
        """Every conversation for those who may see all; otherwise theirs, their teams' and the
        unassigned ones (DESIGN §2)."""
        if self.sees_all:
            return Q()
        return Q(assignee_id=self.user_id) | Q(assignee__isnull=True) | Q(team_id__in=self.team_ids)


def conversation_get(agent: Agent, conversation_id: int) -> Conversation:
    """One conversation the agent may see (Conversation.DoesNotExist otherwise, another
    workspace's included), with what its page shows beside it."""
    return (
        Conversation.objects.select_related("phone_number", "contact", "assignee", "team")
        .filter(agent.visible())
        .get(pk=conversation_id)
    )


@dataclass(frozen=True)
class ListFilters:
    view: str = "all"
    state: str = "open"
    phone_id: int | None = None
    label_id: int | None = None
    team_id: int | None = None
    unread: bool = False
    window_open: bool = False
    query: str = ""


@dataclass
class Page:
    conversations: list[Conversation]
    next_cursor: str | None
    previews: dict[int, Message] = field(default_factory=dict)
    labels: dict[int, list[Label]] = field(default_factory=dict)


def _encode_cursor(conversation: Conversation) -> str:
    raw = f"{conversation.last_message_at.isoformat()}|{conversation.pk}"  # type: ignore[union-attr]
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at_text, _, id_text = raw.partition("|")
        at = parse_datetime(at_text)
        if at is None:
            raise ValueError
        return at, int(id_text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise DomainError("That page cursor is not one of ours: start from the first page.") from None


# Written as SQL, not composed with the ORM: compiling the grouped UNION cost ≈ 3.5 ms, more than
# running it (as inbox.badges found). Every value is a parameter.
_HAVING_EVERY_TERM = (
    "(SELECT conversation_id FROM inbox_searchterm WHERE tenant_id = %s AND term = ANY(%s)"
    " GROUP BY conversation_id HAVING COUNT(DISTINCT term) = %s)"
)


def _search(conversations: QuerySet[Conversation], query: str) -> QuerySet[Conversation]:
    """A full number (found by its blind index), else the conversations whose customer's name has
    words starting with every searched word, with those having every searched word in their
    messages (message words are kept within the workspace's retention only).

    Words are found through their keyed hashes (inbox.search_terms): `=` on a bigint is leakproof,
    so Postgres uses the (tenant, term) index under row-level security, as it may not for `@@`."""

    tenant = require_tenant_id()
    if sum(ch.isdigit() for ch in query) >= 6:
        index = index_for_search(query, tenant=tenant, default_country=default_country())
        if index:
            return conversations.filter(customer_index=index)
    # Conversations having every searched name prefix, with those having every searched word: a
    # subquery of the list's statement, so the ids never leave Postgres.
    params: list[object] = []
    for kind in ("name", "word"):
        hashes = query_hashes(query, tenant=tenant, kind=kind)
        if hashes:
            params += [tenant, sorted(hashes), len(hashes)]
    if not params:
        return conversations.none()
    statement = " UNION ALL ".join([_HAVING_EVERY_TERM] * (len(params) // 3))
    return conversations.filter(pk__in=RawSQL(statement, params))  # noqa: S611 - our constant; values are parameters


# What a list row shows of the conversation's related rows (wide ones: read only these columns).
_LIST_COLUMNS = (
    *(field.name for field in Conversation._meta.concrete_fields),
    "contact__phone_hint",
    "assignee__full_name",
    "assignee__email",
    "team__name",
)


def conversation_page(
    agent: Agent, filters: ListFilters, *, cursor: str = "", limit: int = PAGE_SIZE, using_replica: bool = True
) -> Page:
    """One page of the list, newest activity first: `next_cursor` reads the next page (keyset on
    last activity and id, never OFFSET). A constant number of queries whatever the page size."""
    if filters.view not in VIEWS:
        raise DomainError(f"Unknown view {filters.view!r}: one of {', '.join(VIEWS)}.")
    if filters.state not in STATES:
        raise DomainError(f"Unknown state {filters.state!r}: one of {', '.join(STATES)}.")
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    rows = Conversation.objects.filter(agent.visible(), last_message_at__isnull=False)
    if using_replica:
        rows = rows.using(replica())
    if filters.view == "mine":
        rows = rows.filter(assignee_id=agent.user_id)
    elif filters.view == "unassigned":
        rows = rows.filter(assignee__isnull=True)
    elif filters.view == "team":
        rows = rows.filter(team_id__in=agent.team_ids)
    if filters.state != "any":
        rows = rows.filter(status=filters.state)
    if filters.phone_id is not None:
        rows = rows.filter(phone_number_id=filters.phone_id)
    if filters.team_id is not None:
        rows = rows.filter(team_id=filters.team_id)
    if filters.label_id is not None:
        rows = rows.filter(
            Exists(ConversationLabel.objects.filter(conversation_id=OuterRef("pk"), label_id=filters.label_id))
        )
    if filters.unread:
        rows = rows.filter(unread_count__gt=0)
    if filters.window_open:
        now = timezone.now()
        # A window opens with a customer message and lasts SERVICE_WINDOW, so an open one belongs to
        # a conversation active since now - SERVICE_WINDOW: that bound lets the ordered index stop early.
        rows = rows.filter(window_expires_at__gt=now, last_message_at__gt=now - SERVICE_WINDOW)
    if filters.query.strip():
        rows = _search(rows, filters.query.strip())
    if cursor:
        at, last_id = _decode_cursor(cursor)
        # After (at, last_id) in the list's order; the redundant `<= at` is the index's range bound,
        # so the scan starts at the cursor instead of at the top.
        rows = rows.filter(last_message_at__lte=at).filter(
            Q(last_message_at__lt=at) | Q(last_message_at=at, pk__lt=last_id)
        )
    order = ("-last_message_at", "-id")
    # The page's ids first, in a LIMITed subquery Postgres plans on its own (the view's ordered
    # index, stopping after limit + 1 rows); joined with the related rows, the planner would
    # misjudge the joins' selectivity under RLS and sort every matching row instead.
    page_ids = rows.order_by(*order).values("pk")[: limit + 1]
    found = list(
        Conversation.objects.using(rows.db)
        .filter(pk__in=page_ids)
        .select_related("contact", "assignee", "team")
        .only(*_LIST_COLUMNS)
        .order_by(*order)
    )
    more = len(found) > limit
    found = found[:limit]
    page = Page(conversations=found, next_cursor=_encode_cursor(found[-1]) if more and found else None)
    page.previews = last_messages(found, using_replica=using_replica)
    page.labels = labels_of([conversation.pk for conversation in found], using_replica=using_replica)
    return page


# What a list row and the API's `last_message` say of a message.
_PREVIEW_COLUMNS = (
    "id",
    "tenant_id",
    "conversation_id",
    "direction",
    "type",
    "body",
    "payload",
    "status",
    "created_at",
)


def last_messages(conversations: list[Conversation], *, using_replica: bool = True) -> dict[int, Message]:
    """Each conversation's last message, in one query: (conversation, its last-message time)
    pairs find it through the partition key, so only the partitions of those times are read."""
    times = {conversation.last_message_at for conversation in conversations if conversation.last_message_at}
    if not times:
        return {}
    messages = Message.objects.filter(
        conversation_id__in=[conversation.pk for conversation in conversations], created_at__in=times
    ).only(*_PREVIEW_COLUMNS)
    if using_replica:
        messages = messages.using(replica())
    wanted = {conversation.pk: conversation.last_message_at for conversation in conversations}
    last: dict[int, Message] = {}
    for message in messages:
        if wanted.get(message.conversation_id) != message.created_at:
            continue
        kept = last.get(message.conversation_id)
        if kept is None or message.pk > kept.pk:
            last[message.conversation_id] = message
    return last


def labels_of(conversation_ids: list[int], *, using_replica: bool = True) -> dict[int, list[Label]]:
    links = ConversationLabel.objects.filter(conversation_id__in=conversation_ids).select_related("label")
    if using_replica:
        links = links.using(replica())
    found: dict[int, list[Label]] = {}
    for link in links.order_by("label__name"):
        found.setdefault(link.conversation_id, []).append(link.label)
    return found


# --- the timeline


@dataclass(frozen=True)
class TimelineEntry:
    """One row of a conversation's timeline: a stored message, a send still on its way (or refused
    before Meta took it), or an activity/note."""

    at: datetime
    kind: str  # "message", "outbound", "event"
    item: Any


TIMELINE_SIZE = 30  # a page of the timeline, as Chatwoot and WhatsApp Web open one: older ones load on demand
MAX_TIMELINE_SIZE = 500
_IN_FLIGHT = (
    OutboundMessage.State.QUEUED,
    OutboundMessage.State.SENDING,
    OutboundMessage.State.FAILED,
    OutboundMessage.State.SKIPPED,
    OutboundMessage.State.UNKNOWN,
)


def timeline(
    conversation: Conversation, *, before: datetime | None = None, limit: int = TIMELINE_SIZE
) -> list[TimelineEntry]:
    """The last `limit` messages (before `before`, for older pages), with the activity and the
    sends not stored as messages yet in the same span, oldest first. Three queries."""
    limit = max(1, min(limit, MAX_TIMELINE_SIZE))
    messages = Message.objects.filter(conversation=conversation)
    if before is not None:
        messages = messages.filter(created_at__lt=before)
    recent = list(messages.order_by("-created_at", "-id")[:limit])
    since = recent[-1].created_at if len(recent) == limit else None
    span = Q(created_at__gte=since) if since is not None else Q()
    if before is not None:
        span &= Q(created_at__lt=before)
    events = ConversationEvent.objects.filter(span, conversation=conversation).select_related("actor")
    # A send appears at once as queued; once Meta took it, its message is in the store and the
    # ledger row is left out (its wamid is set).
    outbound = OutboundMessage.objects.filter(
        span,
        phone_number_id=conversation.phone_number_id,
        recipient_index=conversation.customer_index,
        state__in=_IN_FLIGHT,
        wamid="",
    ).select_related("created_by")
    entries = [TimelineEntry(message.created_at, "message", message) for message in recent]
    entries += [TimelineEntry(event.created_at, "event", event) for event in events]
    entries += [TimelineEntry(row.created_at, "outbound", row) for row in outbound]
    entries.sort(key=lambda entry: (entry.at, entry.kind != "message", getattr(entry.item, "pk", 0)))
    return entries


def quoted_messages(entries: list[TimelineEntry]) -> dict[str, Message]:
    """The messages that replies and reactions in these entries point at (by wamid), one query."""
    wamids: set[str] = set()
    for entry in entries:
        if entry.kind != "message":
            continue
        payload = entry.item.payload or {}
        context = payload.get("context") or {}
        if context.get("id"):
            wamids.add(str(context["id"]))
        reaction = payload.get("reaction") or {}
        if reaction.get("message_id"):
            wamids.add(str(reaction["message_id"]))
    if not wamids:
        return {}
    return {message.wamid: message for message in Message.objects.filter(wamid__in=wamids).defer("sealed_payload")}


MOVING = (OutboundMessage.State.QUEUED, OutboundMessage.State.SENDING)  # a send still on its way


def in_flight(conversation: Conversation) -> bool:
    """Sends of this conversation still moving (the page keeps polling their state)."""
    return OutboundMessage.objects.filter(
        phone_number_id=conversation.phone_number_id,
        recipient_index=conversation.customer_index,
        state__in=MOVING,
    ).exists()


def teams() -> QuerySet[Team]:
    return Team.objects.annotate(member_count=Count("memberships")).order_by("name")


def labels() -> QuerySet[Label]:
    return Label.objects.order_by("name")


# --- single rows the API names by id


def send_get(conversation: Conversation, outbound_id: int) -> OutboundMessage:
    """A send from the conversation's number to its customer (OutboundMessage.DoesNotExist for
    any other, another workspace's included)."""
    return OutboundMessage.objects.get(
        pk=outbound_id, phone_number_id=conversation.phone_number_id, recipient_index=conversation.customer_index
    )


def message_get(conversation: Conversation, message_id: int) -> Message:
    return Message.objects.defer("sealed_payload").get(pk=message_id, conversation=conversation)


def media_types(media_ids: set[str]) -> dict[str, str]:
    """{Meta media id: MIME type} of the media files we keep (outbound media name no type)."""
    if not media_ids:
        return {}
    return dict(MediaFile.objects.filter(media_id__in=media_ids).values_list("media_id", "mime_type"))


def away_user_ids() -> set[int]:
    """Agents of the workspace who set themselves away."""
    return set(AgentStatus.objects.filter(available=False).values_list("user_id", flat=True))
