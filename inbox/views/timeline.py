"""A conversation's timeline as the page shows it: each stored message as a bubble
(inbox.views.bubbles), reactions on the message they react to, replies with their quote, edits
and deletions on their original, sends still on their way, activity lines and notes, a divider
per day. Who sent each outbound message comes from the send ledger, one query per page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.safestring import SafeString

from inbox.formatting import note_format, preview_text
from inbox.models import Conversation, ConversationEvent, Message
from inbox.selectors import TimelineEntry, quoted_messages
from inbox.views.bubbles import OUTSIDE, Bubble, fill_content, origin_label, part
from inbox.views.common import customer_label, moment, person_name
from whatsapp.models import OutboundMessage


@dataclass
class Pending:
    """A send the ledger holds and Meta has not taken (queued, sending, refused, failed, lost)."""

    row: OutboundMessage
    text: str
    sender: str
    can_retry: bool

    @property
    def state_text(self) -> str:
        state = self.row.state
        if state == OutboundMessage.State.QUEUED:
            return f"Queued… ({self.row.hold_reason})" if self.row.hold_reason else "Queued…"
        if state == OutboundMessage.State.SENDING:
            return "Sending…"
        if state == OutboundMessage.State.UNKNOWN:
            return "Sent? WhatsApp's answer was lost; its status will tell."
        detail = self.row.error_detail or self.row.hold_reason or self.row.error_title or "refused"
        code = f" (error {self.row.error_code})" if self.row.error_code else ""
        return f"Not sent: {detail}{code}"


@dataclass
class Activity:
    """An event (a small centred line) or a private note (a highlighted box)."""

    event: ConversationEvent
    text: str
    note_html: SafeString | str = ""
    ai: bool = False  # a line of the AI ↔ person boundary (styled apart)


@dataclass
class Row:
    kind: str  # "message", "outbound", "event", "day"
    at: datetime
    item: Any = None


def _ledger(entries: list[TimelineEntry]) -> dict[str, OutboundMessage]:
    """The send ledger rows of the page's outbound messages, by wamid (one query)."""
    wamids = [
        entry.item.wamid
        for entry in entries
        if entry.kind == "message" and entry.item.direction == Message.Direction.OUTBOUND and entry.item.wamid
    ]
    if not wamids:
        return {}
    rows = (
        OutboundMessage.objects.filter(wamid__in=wamids)
        .select_related("created_by")
        .only("wamid", "origin", "created_by__full_name", "created_by__email")
    )
    return {row.wamid: row for row in rows}


def _text_of_content(content: dict[str, Any]) -> str:
    kind = str(content.get("type") or "")
    body = str(part(content, "text").get("body") or "") if kind == "text" else ""
    return preview_text(type=kind, body=body, payload=content)


def event_text(event: ConversationEvent, zone: ZoneInfo | None = None) -> str:
    who = person_name(event.actor)
    data = event.data or {}
    kind = event.kind
    Kind = ConversationEvent.Kind
    if kind == Kind.ASSIGNED:
        assignee = data.get("assignee") or "someone"
        return f"{who} assigned this to {assignee}" if who else f"Assigned to {assignee}"
    if kind == Kind.UNASSIGNED:
        return f"{who} unassigned this" if who else "Unassigned"
    if kind == Kind.TEAM:
        team = data.get("team")
        if team:
            return f"{who} moved this to team {team}" if who else f"Moved to team {team}"
        return f"{who} removed the team" if who else "Team removed"
    if kind == Kind.RESOLVED:
        return f"{who} resolved this" if who else "Resolved"
    if kind == Kind.REOPENED:
        reason = data.get("reason")
        if reason == "customer_wrote":
            return "Reopened: the customer wrote again"
        if reason == "snooze_ended":
            return "Reopened: the snooze ended"
        return f"{who} reopened this" if who else "Reopened"
    if kind == Kind.PENDING:
        return f"{who} marked this pending" if who else "Marked pending"
    if kind == Kind.SNOOZED:
        until = _snooze_until(str(data["until"]), zone) if data.get("until") else ""
        return (f"{who} snoozed this" if who else "Snoozed") + (f" until {until}" if until else "")
    if kind == Kind.LABELLED:
        return f"{who} added the label {data.get('label', '')}" if who else f"Label {data.get('label', '')} added"
    if kind == Kind.UNLABELLED:
        return f"{who} removed the label {data.get('label', '')}" if who else f"Label {data.get('label', '')} removed"
    if kind in _AI_KINDS:
        return ai_event_text(event, who)
    return event.get_kind_display()


_AI_KINDS = (
    ConversationEvent.Kind.AI_REPLIED,
    ConversationEvent.Kind.AI_HANDOVER,
    ConversationEvent.Kind.TAKEN_OVER,
    ConversationEvent.Kind.RELEASED,
)


def _percent(value: Any) -> str:
    return f"{float(value):.0%}" if isinstance(value, int | float) else ""


def ai_event_text(event: ConversationEvent, who: str) -> str:
    """The AI ↔ person boundary, as the timeline says it."""
    data = event.data or {}
    Kind = ConversationEvent.Kind
    if event.kind == Kind.AI_REPLIED:
        source = data.get("source_question")
        sure = _percent(data.get("confidence"))
        return f"AI answered ({sure} sure" + (f", from “{source}”)" if source else ")")
    if event.kind == Kind.AI_HANDOVER:
        return f"AI handed over to the team. {data.get('reason') or ''}".strip()
    if event.kind == Kind.TAKEN_OVER:
        if data.get("reason") == "agent_replied":
            return f"{who or 'An agent'} replied: the AI is off in this conversation"
        return f"{who} took over from the AI" if who else "Taken over from the AI"
    if data.get("reason") == "resolved":
        return "Resolved: the AI answers again"
    return f"{who} handed this back to the AI" if who else "Handed back to the AI"


def _snooze_until(text: str, zone: ZoneInfo | None) -> str:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return text
    return at.astimezone(zone or ZoneInfo("UTC")).strftime("%d %b %H:%M")


class TimelineBuilder:
    """Turns a page of inbox.selectors.timeline into rows for the template."""

    def __init__(self, conversation: Conversation, *, zone: ZoneInfo, can_reply: bool, window_open: bool) -> None:
        self.conversation = conversation
        self.zone = zone
        self.can_reply = can_reply
        self.window_open = window_open
        self.customer = customer_label(conversation)

    def rows(self, entries: list[TimelineEntry]) -> list[Row]:
        quoted = quoted_messages(entries)
        ledger = _ledger(entries)
        # The AI's "answered" line goes on its message's sender line when the message is on the page.
        ai_replies = {
            entry.item.data.get("outbound_id"): entry.item
            for entry in entries
            if entry.kind == "event" and entry.item.kind == ConversationEvent.Kind.AI_REPLIED
        }
        shown: set[int] = set()
        bubbles: dict[str, Bubble] = {}
        rows: list[Row] = []
        for entry in entries:
            if entry.kind == "message":
                bubble = self.bubble(entry.item, ledger, quoted)
                sent = ledger.get(bubble.message.wamid) if bubble.outbound else None
                if sent is not None and sent.origin == OutboundMessage.Origin.AI:
                    bubble.ai, bubble.sender = True, self._ai_sender(ai_replies.get(sent.pk), shown)
                if bubble.message.wamid:
                    bubbles[bubble.message.wamid] = bubble
                rows.append(Row("message", entry.at, bubble))
            elif entry.kind == "outbound":
                pending = self.pending(entry.item)
                if entry.item.origin == OutboundMessage.Origin.AI:
                    pending.sender = "AI · " + self._ai_sender(ai_replies.get(entry.item.pk), shown)
                rows.append(Row("outbound", entry.at, pending))
            else:
                rows.append(Row("event", entry.at, self.activity(entry.item)))
        rows = [row for row in rows if row.kind != "event" or row.item.event.pk not in shown]
        rows = self._fold(rows, bubbles, quoted)
        return self._days(rows)

    # --- stored messages

    def bubble(self, message: Message, ledger: dict[str, OutboundMessage], quoted: dict[str, Message]) -> Bubble:
        outbound = message.direction == Message.Direction.OUTBOUND
        payload = message.payload if isinstance(message.payload, dict) else {}
        bubble = Bubble(message=message, kind=message.type, outbound=outbound, at=moment(message.created_at, self.zone))
        if outbound:
            sent = ledger.get(message.wamid)
            bubble.sender = origin_label(sent.origin, sent.created_by) if sent else OUTSIDE
            bubble.can_retry = (
                self.can_reply
                and message.status == Message.Status.FAILED
                and (message.type == "template" or self.window_open)
            )
        if message.status == Message.Status.FAILED or message.type in ("unsupported", "unknown"):
            first = (payload.get("errors") or [{}])[0]
            first = first if isinstance(first, dict) else {}
            bubble.error = {
                "code": message.error_code or first.get("code") or "",
                "title": message.error_title or first.get("title") or "",
                "details": str(part(first, "error_data").get("details") or first.get("message") or ""),
            }
        context_id = str(part(payload, "context").get("id") or "")
        if context_id and message.type not in ("reaction", "edit", "revoke"):
            original = quoted.get(context_id)
            bubble.quote = self._quote(original) if original else {"who": "", "text": "An earlier message"}
        referral = part(payload, "referral")
        if referral:
            bubble.referral = str(referral.get("headline") or referral.get("body") or referral.get("source_url") or "")
        if message.status == Message.Status.DELETED:
            bubble.kind, bubble.deleted = "deleted", True
            return bubble
        fill_content(bubble, message, payload)
        return bubble

    @staticmethod
    def _ai_sender(event: ConversationEvent | None, shown: set[int]) -> str:
        if event is None:
            return "Auto-reply"
        shown.add(event.pk)
        data = event.data or {}
        source = data.get("source_question")
        return f"{_percent(data.get('confidence'))} sure" + (f" · from “{source}”" if source else "")

    def _quote(self, original: Message) -> dict[str, str]:
        who = "You" if original.direction == Message.Direction.OUTBOUND else self.customer
        text = preview_text(type=original.type, body=original.body, payload=original.payload, status=original.status)
        return {"who": who, "text": text}

    def pending(self, row: OutboundMessage) -> Pending:
        can_retry = (
            self.can_reply
            and row.state in (OutboundMessage.State.FAILED, OutboundMessage.State.SKIPPED)
            and (row.content.get("type") == "template" or self.window_open)
        )
        return Pending(
            row=row,
            text=_text_of_content(row.content if isinstance(row.content, dict) else {}),
            sender=origin_label(row.origin, row.created_by),
            can_retry=can_retry,
        )

    def activity(self, event: ConversationEvent) -> Activity:
        if event.kind == ConversationEvent.Kind.NOTE:
            author = person_name(event.actor) or "A teammate"
            return Activity(event=event, text=author, note_html=note_format(event.body))
        return Activity(event=event, text=event_text(event, self.zone), ai=event.kind in _AI_KINDS)

    # --- reactions, edits and deletions land on their message

    def _fold(self, rows: list[Row], bubbles: dict[str, Bubble], quoted: dict[str, Message]) -> list[Row]:
        kept: list[Row] = []
        for row in rows:
            bubble = row.item if row.kind == "message" else None
            if bubble is None or bubble.message.type not in ("reaction", "edit", "revoke"):
                kept.append(row)
                continue
            payload = bubble.message.payload or {}
            who = "You" if bubble.outbound else self.customer
            if bubble.message.type == "reaction":
                target_id = str(part(payload, "reaction").get("message_id") or "")
                target = bubbles.get(target_id)
                if target is not None:
                    # one reaction per side: the latest replaces (an empty emoji removes) the earlier one
                    target.reactions = [r for r in target.reactions if r["who"] != who]
                    if bubble.title:
                        target.reactions.append({"emoji": bubble.title, "who": who})
                    continue
                original = quoted.get(target_id)
                bubble.quote = self._quote(original) if original else {"who": "", "text": "An earlier message"}
                kept.append(row)
                continue
            key = "edit" if bubble.message.type == "edit" else "revoke"
            target = bubbles.get(str(part(payload, key).get("original_message_id") or ""))
            if target is None:
                kept.append(row)  # its original is on an earlier page: the line says what happened
                continue
            if key == "revoke":
                target.kind, target.deleted, target.html = "deleted", True, ""
                target.media, target.reactions = {}, []
            else:
                target.html, target.edited = bubble.html, True
        return kept

    def _days(self, rows: list[Row]) -> list[Row]:
        """A divider wherever the day changes (in the workspace's time zone)."""
        today = timezone.now().astimezone(self.zone).date()
        out: list[Row] = []
        last_day = None
        for row in rows:
            day = row.at.astimezone(self.zone).date()
            if day != last_day:
                if day == today:
                    label = "Today"
                elif day == today - timedelta(days=1):
                    label = "Yesterday"
                else:
                    label = day.strftime("%A %d %B %Y") if day.year != today.year else day.strftime("%A %d %B")
                out.append(Row("day", row.at, label))
                last_day = day
            out.append(row)
        return out
