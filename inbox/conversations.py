"""Conversations: one per (number, customer), keyed by the customer's blind index
(contacts.phones.customer_index: for a number, the contact's phone_index); found or created one at
a time or many in one statement, read for the send rules' 24-hour window, and the window closed
early when Meta says so (131047)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from aerostic.core.sqlrows import bound_cursor, json_rows
from aerostic.core.tenant_context import NoTenantContext, current_scope
from aerostic.core.values import digits
from contacts.phones import customer_index
from inbox.models import Conversation

if TYPE_CHECKING:
    from whatsapp.models import PhoneNumber

SERVICE_WINDOW = timedelta(hours=24)


def conversation_for(
    *, phone: Any, customer_wa_id: Any = "", customer_user_id: Any = "", customer_name: str = ""
) -> Conversation | None:
    index = customer_index(tenant=phone.tenant_id, wa_id=customer_wa_id, user_id=customer_user_id)
    if not index:
        return None
    conversation = Conversation.objects.filter(phone_number=phone, customer_index=index).first()
    if conversation is None:
        try:
            with transaction.atomic():
                conversation = Conversation.objects.create(
                    tenant_id=phone.tenant_id,
                    phone_number=phone,
                    customer_wa_id=digits(customer_wa_id),
                    customer_index=index,
                    customer_user_id=str(customer_user_id or "")[:128],
                    customer_name=customer_name[:200],
                )
        except IntegrityError:  # created by a concurrent job a moment ago
            conversation = Conversation.objects.get(phone_number=phone, customer_index=index)
    elif customer_name and customer_name != conversation.customer_name:
        conversation.customer_name = customer_name[:200]
        conversation.save(update_fields=["customer_name"])
    return conversation


def conversations_of(*, phone: Any, indexes: set[str]) -> dict[str, Conversation]:
    """The number's conversations with these customers (by customer index), their contacts loaded:
    what the send rules read for the 24-hour window (whatsapp.fanout.MessageStore.conversations)."""
    if not indexes:
        return {}
    rows = Conversation.objects.filter(phone_number=phone, customer_index__in=indexes).select_related("contact")
    return {conversation.customer_index: conversation for conversation in rows}


def refuse_another_tenant(phone: PhoneNumber) -> None:
    scope = current_scope()
    if scope.tenant_id is not None and scope.tenant_id != phone.tenant_id:
        # A bulk insert skips TenantScopedModel.save(), which would refuse this.
        raise NoTenantContext(f"Refusing to store messages of tenant {phone.tenant_id} as tenant {scope.tenant_id}.")


# What the bulk writers read, write back or hand on (a stored message's conversation); the rest
# (the encrypted number among it) is loaded only if asked for.
_CONVERSATION_FIELDS = (
    "id",
    "tenant_id",
    "phone_number_id",
    "customer_index",
    "customer_user_id",
    "customer_name",
    "contact_id",
    "status",
    "last_message_at",
    "last_inbound_at",
    "window_expires_at",
)


# New conversations in one statement, returned with what callers read (_CONVERSATION_FIELDS); a
# conflict is a conversation a concurrent job created a moment ago, read by the caller's select.
# Sorted by customer index: two jobs creating the same new conversations lock them in one order.
# The returned columns come from this module; every value is bound.
_CREATE_CONVERSATIONS = (
    "INSERT INTO inbox_conversation (tenant_id, phone_number_id, customer_index, customer_wa_id,"  # noqa: S608
    " customer_user_id, customer_name, status, created_at)"
    " SELECT %s, %s, v.customer_index, v.customer_wa_id, v.customer_user_id, v.customer_name, %s, now()"
    " FROM jsonb_to_recordset(%s::jsonb)"
    " AS v(customer_index text, customer_wa_id text, customer_user_id text, customer_name text)"
    " ORDER BY v.customer_index"
    " ON CONFLICT (tenant_id, phone_number_id, customer_index) DO NOTHING"
    f" RETURNING {', '.join(_CONVERSATION_FIELDS)}"
)


def conversations_for_many(phone: PhoneNumber, customers: dict[str, dict[str, Any]]) -> dict[str, Conversation]:
    """conversation_for for many customers: the conversations by customer index, each created
    when missing with the fields given for its index (customer_wa_id, and customer_user_id and
    customer_name when known). An existing conversation is returned as it is."""
    found = {
        conversation.customer_index: conversation
        for conversation in Conversation.objects.filter(phone_number=phone, customer_index__in=list(customers)).only(
            *_CONVERSATION_FIELDS
        )
    }
    missing = [index for index in customers if index not in found]
    if missing:
        seal = Conversation._meta.get_field("customer_wa_id").get_prep_value  # the column's own format
        rows = json_rows(
            {
                "customer_index": index,
                "customer_wa_id": seal(customers[index]["customer_wa_id"]),
                "customer_user_id": customers[index].get("customer_user_id", ""),
                "customer_name": customers[index].get("customer_name", ""),
            }
            for index in missing
        )
        with bound_cursor() as cursor:
            cursor.execute(_CREATE_CONVERSATIONS, [phone.tenant_id, phone.pk, Conversation.Status.OPEN, rows])
            created = [Conversation.from_db("default", _CONVERSATION_FIELDS, row) for row in cursor.fetchall()]
        found.update((conversation.customer_index, conversation) for conversation in created)
        raced = [index for index in missing if index not in found]
        if raced:
            found.update(
                (conversation.customer_index, conversation)
                for conversation in Conversation.objects.filter(phone_number=phone, customer_index__in=raced).only(
                    *_CONVERSATION_FIELDS
                )
            )
    return found


def window_close(*, conversation: Conversation, at: datetime) -> bool:
    """Meta refused a free-form message because the service window had closed (error 131047): the
    window ends at `at`, whatever our clock said. A customer message newer than `at` opened a new
    window that this older refusal must not close. True when the window moved."""
    closed = close_window(conversation.pk, at)
    if closed:
        conversation.window_expires_at = at
    return closed


def close_window(conversation_id: int, at: datetime) -> bool:
    # One conditional UPDATE: concurrent inbound messages and refusals settle in the database.
    return bool(
        Conversation.objects.filter(pk=conversation_id)
        .filter(Q(window_expires_at__isnull=True) | Q(window_expires_at__gt=at))
        .filter(Q(last_inbound_at__isnull=True) | Q(last_inbound_at__lte=at))
        .update(window_expires_at=at)
    )
