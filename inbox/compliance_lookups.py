"""What the inbox answers compliance about conversations and messages (compliance sits below the
inbox and never names it: InboxConfig.ready() registers these with
compliance.conversations.register_conversation_lookups)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Exists, F, OuterRef, Q
from django.db.models.fields.json import KT

from compliance.conversations import ConversationLookups
from contacts.models import Contact
from inbox.models import Conversation, Message, MessageKey
from whatsapp.models import MessageTemplate


def contacts_of_conversations(conversation_ids: Iterable[int]) -> dict[int, Contact]:
    """{conversation id: its contact} for the linked ones, read in one query (the link as it is now)."""
    return {
        conversation.pk: conversation.contact
        for conversation in Conversation.objects.filter(
            pk__in=set(conversation_ids), contact__isnull=False
        ).select_related("contact")
        if conversation.contact is not None  # the filter says so; this tells the type checker
    }


def contact_of_customer(index: str) -> Contact | None:
    """The contact a conversation of this customer links (users behind a username have no number)."""
    conversation = (
        Conversation.objects.filter(customer_index=index, contact__isnull=False).select_related("contact").first()
    )
    return conversation.contact if conversation else None


def contact_of_wamid(wamid: str) -> Contact | None:
    """The contact of the conversation the message `wamid` belongs to, if it is linked."""
    key = MessageKey.objects.filter(wamid=wamid).first()
    message = key and Message.objects.filter(pk=key.message_id, created_at=key.created_at).first()
    return message.conversation.contact if message and message.conversation.contact_id else None


def service_windows(contact: Contact) -> Iterable[Conversation]:
    """The contact's conversations, each with its 24-hour window (compliance.policy.window_open)."""
    return Conversation.objects.filter(contact=contact)


def marketing_messages_sent(contact: Contact, *, since: datetime, until: datetime) -> list[datetime]:
    """When each marketing message to the contact in (since, until] was created, oldest first.

    A message counts as marketing when Meta priced it so (`pricing_category`, set by the status
    webhook: "marketing" or "marketing_lite") or, before any status arrived, when it is a template
    message whose template is in the MARKETING category on the sending account. Failed messages
    reached no one and do not count.
    """
    marketing_template = MessageTemplate.objects.filter(
        account_id=OuterRef("sending_account_id"),
        name=OuterRef("template_name"),
        category=MessageTemplate.Category.MARKETING,
    )
    return list(
        Message.objects.filter(
            conversation__contact=contact,
            direction=Message.Direction.OUTBOUND,
            created_at__gt=since,
            created_at__lte=until,
        )
        .exclude(status=Message.Status.FAILED)
        .annotate(
            sending_account_id=F("conversation__phone_number__account_id"),
            template_name=KT("payload__template__name"),
        )
        .filter(
            Q(pricing_category__istartswith="marketing")
            | (Q(type="template", pricing_category="") & Q(Exists(marketing_template)))
        )
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )


LOOKUPS = ConversationLookups(
    contacts_of_conversations=contacts_of_conversations,
    contact_of_customer=contact_of_customer,
    contact_of_wamid=contact_of_wamid,
    service_windows=service_windows,
    marketing_messages_sent=marketing_messages_sent,
)
