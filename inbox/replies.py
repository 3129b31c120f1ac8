"""Agents' replies from the composer: free text (and attachments) while the customer's 24-hour
window is open, an approved template at any time. Every reply goes through the one dispatcher
(Origin `inbox`) and shows at once in the timeline as queued (inbox.selectors.timeline), then moves
with its statuses. A reply to an unassigned conversation assigns it to the agent who replied.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from aerostic.core.errors import DomainError
from inbox import changes
from inbox.ai.selectors import ai_active_on
from inbox.ai.takeover import takeover_for_reply
from inbox.models import Conversation, MediaFile, Message
from inbox.teamwork import conversation_assign
from whatsapp import dispatch
from whatsapp.message_templates.content import template_content
from whatsapp.message_templates.selectors import template_get
from whatsapp.models import MessageTemplate, OutboundMessage

TEXT_MAX = 4096  # Meta's limit for a text message body
CAPTION_MAX = 1024

# Meta's media message kinds by MIME type (what the composer may attach).
_KIND_BY_MIME_PREFIX = (("image/", "image"), ("video/", "video"), ("audio/", "audio"))


class WindowClosed(DomainError):
    code = "window_closed"


def window_open(conversation: Conversation) -> bool:
    return conversation.window_expires_at is not None and conversation.window_expires_at > timezone.now()


def _recipient(conversation: Conversation) -> str:
    wa_id = conversation.customer_wa_id.reveal() if conversation.customer_wa_id else ""
    if not wa_id:
        raise DomainError("This customer hides their number behind a username: WhatsApp does not let us write first.")
    return wa_id


def media_kind(mime_type: str) -> str:
    for prefix, kind in _KIND_BY_MIME_PREFIX:
        if mime_type.startswith(prefix):
            return "sticker" if mime_type == "image/webp" else kind
    return "document"


def _free_form(text: str, media: MediaFile | None) -> dict[str, Any]:
    if media is None:
        if not text.strip():
            raise DomainError("Write a message first.")
        if len(text) > TEXT_MAX:
            raise DomainError(f"A WhatsApp message holds at most {TEXT_MAX} characters.")
        return {"type": "text", "text": {"body": text, "preview_url": True}}
    kind = media_kind(media.mime_type)
    body: dict[str, Any] = {"id": media.media_id}
    if text.strip():
        if kind in ("audio", "sticker"):
            raise DomainError(f"WhatsApp shows no caption under {kind} messages: send the text on its own.")
        if len(text) > CAPTION_MAX:
            raise DomainError(f"A caption holds at most {CAPTION_MAX} characters.")
        body["caption"] = text
    if kind == "document" and media.filename:
        body["filename"] = media.filename
    return {"type": kind, kind: body}


def reply_send(
    conversation: Conversation,
    *,
    actor: Any,
    text: str = "",
    media: MediaFile | None = None,
    template_id: int | None = None,
    values: dict[str, Any] | None = None,
    idempotency_key: str = "",
) -> OutboundMessage:
    """Queues the reply; DomainError says why it cannot be sent (window closed, bad template
    values, nothing written)."""
    to = _recipient(conversation)
    if ai_active_on(conversation.tenant_id, conversation.phone_number_id) is not None:
        takeover_for_reply(conversation, actor=actor)  # the AI stops before a person answers
    template: MessageTemplate | None = None
    if template_id is not None:
        try:
            template = template_get(template_id)
        except MessageTemplate.DoesNotExist:
            raise DomainError("There is no such template.") from None
        filled = template_content(template, phone=conversation.phone_number, values=values or {})
        content, category = filled.content, filled.category
    else:
        if not window_open(conversation):
            raise WindowClosed(
                "The customer's 24-hour window is closed: only an approved template can be sent until they write again."
            )
        content, category = _free_form(text, media), OutboundMessage.Category.SERVICE
    message = dispatch.message_enqueue(
        phone=conversation.phone_number,
        to=to,
        content=content,
        category=category,
        origin=OutboundMessage.Origin.INBOX,
        contact=conversation.contact,
        template=template,
        idempotency_key=idempotency_key,
        actor=actor,
    )
    if conversation.assignee_id is None and getattr(actor, "is_authenticated", False):
        conversation_assign(conversation, assignee_id=actor.pk, actor=actor)
    changes.conversations_changed(conversation.tenant_id, [conversation.pk])
    return message


def retry_send(
    conversation: Conversation, *, actor: Any, outbound_id: int | None = None, message_id: int | None = None
) -> OutboundMessage:
    """Sends a failed reply again as a new message (the failed one stays in the timeline): one the
    send path refused or failed (`outbound_id`), or one Meta failed after taking it (`message_id`).
    Free-form content needs the window open, as any reply."""
    if outbound_id is not None:
        failed = OutboundMessage.objects.filter(
            pk=outbound_id,
            phone_number_id=conversation.phone_number_id,
            recipient_index=conversation.customer_index,
            state__in=(OutboundMessage.State.FAILED, OutboundMessage.State.SKIPPED),
        ).first()
        if failed is None:
            raise DomainError("Only a failed message of this conversation can be sent again.")
        content, category, template = failed.content, failed.category, failed.template
    elif message_id is not None:
        stored = Message.objects.filter(
            pk=message_id, conversation=conversation, direction=Message.Direction.OUTBOUND, status=Message.Status.FAILED
        ).first()
        if stored is None:
            raise DomainError("Only a failed message of this conversation can be sent again.")
        payload = dict(stored.payload or {})
        content = {key: value for key, value in payload.items() if key not in ("id", "timestamp", "errors", "to")}
        category = stored.pricing_category or OutboundMessage.Category.SERVICE
        if stored.type == "text" and stored.body:
            content["text"] = {**content.get("text", {}), "body": stored.body}
        template = None
    else:
        raise DomainError("Name the failed message to send again.")
    if content.get("type") != "template" and not window_open(conversation):
        raise WindowClosed("The customer's 24-hour window is closed: send a template instead.")
    message = dispatch.message_enqueue(
        phone=conversation.phone_number,
        to=_recipient(conversation),
        content=content,
        category=category,
        origin=OutboundMessage.Origin.INBOX,
        contact=conversation.contact,
        template=template,
        actor=actor,
    )
    changes.conversations_changed(conversation.tenant_id, [conversation.pk])
    return message
