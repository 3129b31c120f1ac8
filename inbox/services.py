"""Writes to the message store: inbound messages, echoes, and statuses — idempotent under Meta's
re-deliveries and out-of-order arrivals (a late `delivered` never overwrites `read`). An inbound
message links its conversation to the sender's contact; a 131047 failure closes the service window."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from aerostic.core.crypto import blind_index
from aerostic.core.sqlrows import bound_cursor, insert_rows, json_rows
from aerostic.core.values import digits, error_codes, meta_time
from inbox.models import Conversation, Message, MessageKey, MessageStatusEvent
from inbox.payloads import payload_split
from tenants.context import NoTenantContext, current_scope, require_tenant_id

if TYPE_CHECKING:
    from whatsapp.models import PhoneNumber

CUSTOMER_INDEX_PURPOSE = "customer.wa_id"
SERVICE_WINDOW = timedelta(hours=24)
STATUS_RANK = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "read": 4}
TIMESTAMP_FIELD = {"sent": "sent_at", "delivered": "delivered_at", "read": "read_at", "failed": "failed_at"}


def _when(unix: Any) -> datetime:
    """When Meta says it happened, or now when the payload does not say."""
    return meta_time(unix) or datetime.now(tz=UTC)


def customer_index(*, tenant: int, wa_id: Any = "", user_id: Any = "") -> str:
    """The workspace's lookup key of a customer: their phone number when Meta gives it, else their
    business-scoped user id (users with a username may hide their number). "" when neither."""
    number = digits(wa_id)
    if number:
        return blind_index(number, purpose=CUSTOMER_INDEX_PURPOSE, tenant=tenant)
    if user_id:
        return blind_index(f"user:{user_id}", purpose=CUSTOMER_INDEX_PURPOSE, tenant=tenant)
    return ""


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


# One statement claims the wamid and reserves the message's id: a re-delivery conflicts and gets
# nothing back, so nothing is stored twice, with no savepoint and no second write to the key.
_CLAIM_WAMID = (
    "INSERT INTO inbox_messagekey (tenant_id, wamid, message_id, created_at)"
    " VALUES (%s, %s, nextval('inbox_message_id_seq'), %s)"
    " ON CONFLICT (wamid) DO NOTHING RETURNING message_id"
)


def _claim_wamid(tenant_id: int, wamid: str, created_at: datetime) -> int | None:
    """The new message's id when this wamid is new; None for a re-delivery."""
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_WAMID, [tenant_id, wamid, created_at])
        row = cursor.fetchone()
    return row[0] if row else None


def _store(*, conversation: Conversation, direction: str, message: dict[str, Any], status: str) -> Message | None:
    wamid = str(message.get("id") or "")
    if not wamid:
        return None
    created_at = _when(message.get("timestamp"))
    message_id = _claim_wamid(conversation.tenant_id, wamid, created_at)
    if message_id is None:
        return None
    stored = _new_message(
        message_id=message_id,
        conversation=conversation,
        direction=direction,
        message=message,
        status=status,
        created_at=created_at,
    )
    stored.save(force_insert=True)
    if direction == Message.Direction.OUTBOUND:  # statuses only ever concern what the business sent
        _apply_waiting_statuses(stored)
    return stored


def _new_message(
    *,
    message_id: int,
    conversation: Conversation,
    direction: str,
    message: dict[str, Any],
    status: str,
    created_at: datetime,
) -> Message:
    """The unsaved row of a claimed wamid; `created_at` must be the one written to its MessageKey."""
    text = message.get("text", {}).get("body", "") if isinstance(message.get("text"), dict) else ""
    errors = message.get("errors") or []
    payload, sealed = payload_split(message)  # numbers live on the conversation, encrypted
    return Message(
        id=message_id,
        tenant_id=conversation.tenant_id,
        conversation=conversation,
        direction=direction,
        type=str(message.get("type") or "unknown"),
        wamid=str(message.get("id") or ""),
        body=str(text),
        payload=payload,
        sealed_payload=sealed,
        status=status,
        created_at=created_at,
        error_code=(errors[0].get("code") if errors and isinstance(errors[0], dict) else None),
        error_title=(str(errors[0].get("title", ""))[:255] if errors and isinstance(errors[0], dict) else ""),
        sent_at=created_at if direction == Message.Direction.OUTBOUND else None,
    )


@dataclass(frozen=True)
class InboundItem:
    """One customer message of a `messages` webhook, for `inbound_store_many`."""

    message: dict[str, Any]  # Meta's message object
    profile_name: str = ""  # the sender's profile name from the change's `contacts`


def inbound_store(*, phone: Any, message: dict[str, Any], profile_name: str = "") -> Message | None:
    """A customer's message. Opens (or extends) the 24-hour service window. None for a re-delivery
    (or a message naming no sender at all)."""
    return inbound_store_many(phone=phone, items=[InboundItem(message, profile_name)])[0]


@dataclass
class _Customer:
    """What one call brings to one conversation."""

    wa_id: str  # digits; "" for a user behind a username
    user_id: str
    name: str  # the latest non-empty profile name (the first item's when none is)
    at: datetime | None = None  # the newest message stored
    contact_id: int | None = None


def inbound_store_many(*, phone: PhoneNumber, items: list[InboundItem]) -> list[Message | None]:
    """Customers' messages to one number, in order of arrival: the same rows as inbound_store for
    each item in turn, in a constant number of statements per call. The stored messages by
    position; None for a wamid already stored (or repeated earlier in the call), a message without
    a wamid, or one naming no sender.

    Per item, as one call after another: the conversation is created when missing (the customer's
    number, user id and profile name) and takes a newer non-empty profile name even when the message
    is a re-delivery; a stored message moves `last_message_at` forward, and when it is at least as
    new as `last_inbound_at` opens the 24-hour service window from its time; its sender's contact is
    found or created and linked (not for users behind a username, nor for system notices, which
    the customer did not write). The conversation is written by one monotonic UPDATE, so two
    concurrent calls never move it backwards. Runs inside the tenant's context and the caller's
    transaction."""
    _refuse_another_tenant(phone)
    customers: dict[str, _Customer] = {}
    indexes: list[str] = []
    for item in items:
        sender, user_id = item.message.get("from", ""), item.message.get("from_user_id", "")
        index = customer_index(tenant=phone.tenant_id, wa_id=sender, user_id=user_id)
        indexes.append(index)
        if not index:
            continue
        name = item.profile_name[:200]
        if index not in customers:
            customers[index] = _Customer(wa_id=digits(sender), user_id=str(user_id or "")[:128], name=name)
        elif name:
            customers[index].name = name
    if not customers:
        return [None] * len(items)
    times = [_when(item.message.get("timestamp")) for item in items]
    claims: dict[str, datetime] = {}
    for index, item, at in zip(indexes, items, times, strict=True):
        if index:  # the first item of a wamid claims it, with its time
            claims.setdefault(str(item.message.get("id") or ""), at)
    # Without the caller's transaction, a claimed wamid could be committed without its message.
    with transaction.atomic(savepoint=False):
        conversations = _conversations_for_many(
            phone,
            {
                index: {"customer_wa_id": c.wa_id, "customer_user_id": c.user_id, "customer_name": c.name}
                for index, c in customers.items()
            },
        )
        claimed = _claim_wamids(phone.tenant_id, claims)
        stored: list[Message | None] = []
        for index, item, at in zip(indexes, items, times, strict=True):
            # popped: a wamid twice in the call is stored once, by its first item
            message_id = claimed.pop(str(item.message.get("id") or ""), None) if index else None
            if message_id is None:
                stored.append(None)
                continue
            stored.append(
                _new_message(
                    message_id=message_id,
                    conversation=conversations[index],
                    direction=Message.Direction.INBOUND,
                    message=item.message,
                    status=Message.Status.RECEIVED,
                    created_at=at,
                )
            )
            customer = customers[index]
            customer.at = at if customer.at is None else max(customer.at, at)
        rows = [row for row in stored if row is not None]
        if rows:
            insert_rows(Message, rows)
            _senders_link(customers, indexes, items, stored)
        _conversations_seen(conversations, customers)
    return stored


def _senders_link(
    customers: dict[str, _Customer], indexes: list[str], items: list[InboundItem], stored: list[Message | None]
) -> None:
    """Finds or creates the contact of each stored message's sender (`last_inbound_at` kept) and
    notes it on the customer. Users who hide their number behind a username have none, and system
    notices, which Meta sends "from" the customer but which the customer did not write, make none."""
    from contacts.services import InboundSender, contacts_for_customers

    senders: list[tuple[str, InboundSender]] = []
    for index, item, row in zip(indexes, items, stored, strict=True):
        wa_id = digits(item.message.get("from"))
        if row is not None and wa_id and row.type != "system":
            senders.append((index, InboundSender(wa_id=wa_id, profile_name=item.profile_name, at=row.created_at)))
    if not senders:
        return
    contacts = contacts_for_customers(senders=[sender for _, sender in senders])
    for (index, _), contact in zip(senders, contacts, strict=True):
        if contact is not None:
            customers[index].contact_id = contact.pk


# Every change is decided in the statement against the row as it is now (GREATEST / CASE), so two
# concurrent calls touching the same conversation leave the newest values whatever their order.
# The same test opens the window three times: the newest message stored is at least as new as the
# last inbound one was (SET expressions all read the row as it was before the update).
_CONVERSATIONS_SEEN = (
    "UPDATE inbox_conversation AS conversation SET"
    " customer_name = CASE WHEN seen.name <> '' THEN seen.name ELSE conversation.customer_name END,"
    " contact_id = COALESCE(seen.contact_id, conversation.contact_id),"
    " last_message_at = GREATEST(conversation.last_message_at, seen.at),"
    " last_inbound_at = CASE WHEN seen.at >= conversation.last_inbound_at"
    " OR (seen.at IS NOT NULL AND conversation.last_inbound_at IS NULL)"
    " THEN seen.at ELSE conversation.last_inbound_at END,"
    " window_expires_at = CASE WHEN seen.at >= conversation.last_inbound_at"
    " OR (seen.at IS NOT NULL AND conversation.last_inbound_at IS NULL)"
    " THEN seen.at + %s::interval ELSE conversation.window_expires_at END,"
    " status = CASE WHEN seen.at >= conversation.last_inbound_at"
    " OR (seen.at IS NOT NULL AND conversation.last_inbound_at IS NULL)"
    " THEN %s ELSE conversation.status END"
    " FROM unnest(%s::bigint[], %s::text[], %s::bigint[], %s::timestamptz[]) AS seen(id, name, contact_id, at)"
    " WHERE conversation.id = seen.id"  # on the id alone: aerostic.core.sqlrows, rows by id from a list
    " RETURNING conversation.id, conversation.customer_name, conversation.contact_id, conversation.status,"
    " conversation.last_message_at, conversation.last_inbound_at, conversation.window_expires_at"
)
_SEEN_FIELDS = ("customer_name", "contact_id", "status", "last_message_at", "last_inbound_at", "window_expires_at")


def _conversations_seen(conversations: dict[str, Conversation], customers: dict[str, _Customer]) -> None:
    """Writes what the call brought to each conversation in one statement; the objects take the
    stored values. A conversation that only saw re-deliveries under the name it has is left alone."""
    seen = []
    for index, customer in customers.items():
        conversation = conversations[index]
        if customer.at is not None or (customer.name and customer.name != conversation.customer_name):
            seen.append((conversation.pk, customer.name, customer.contact_id, customer.at))
    seen.sort()  # by id: concurrent calls lock shared conversations in the same order
    if not seen:
        return
    ids, names, contact_ids, times = (list(column) for column in zip(*seen, strict=True))
    with bound_cursor() as cursor:
        cursor.execute(
            _CONVERSATIONS_SEEN,
            [SERVICE_WINDOW, Conversation.Status.OPEN, ids, names, contact_ids, times],
        )
        stored = {row[0]: row[1:] for row in cursor.fetchall()}
    for conversation in conversations.values():
        if conversation.pk in stored:
            for field, value in zip(_SEEN_FIELDS, stored[conversation.pk], strict=True):
                setattr(conversation, field, value)


def outbound_store(
    *, phone: Any, to: str, wamid: str, content: dict[str, Any], category: str = "", contact: Any = None
) -> Message | None:
    """A message the dispatcher just sent (Meta answered with its wamid): kept in the conversation
    as outbound `sent`, so its status webhooks find it. None when the wamid is already stored."""
    conversation = conversation_for(phone=phone, customer_wa_id=to)
    if conversation is None:
        return None
    if contact is not None and conversation.contact_id is None:
        Conversation.objects.filter(pk=conversation.pk).update(contact=contact)
    message = _outbound_payload(to=to, wamid=wamid, content=content, timestamp=_now_timestamp())
    stored = _store(conversation=conversation, direction=Message.Direction.OUTBOUND, message=message, status="sent")
    if stored is not None:
        updates: dict[str, Any] = {"last_message_at": stored.created_at}
        if category:
            stored.pricing_category = category
            Message.objects.filter(pk=stored.pk, created_at=stored.created_at).update(pricing_category=category)
        Conversation.objects.filter(pk=conversation.pk).update(**updates)
    return stored


def _now_timestamp() -> str:
    # Meta's format, so the stored time has the same (whole second) precision as a webhook's.
    return str(int(datetime.now(tz=UTC).timestamp()))


def _outbound_payload(*, to: str, wamid: str, content: dict[str, Any], timestamp: str) -> dict[str, Any]:
    # Meta's message object as a webhook would show it; `to` is dropped when stored (inbox.payloads).
    return {**content, "id": wamid, "to": digits(to), "timestamp": timestamp}


@dataclass(frozen=True)
class SentItem:
    """One message the campaign engine just sent, for `outbound_store_many`."""

    to: str  # recipient digits (wa_id)
    wamid: str
    content: dict[str, Any]  # Graph message object without "to", e.g. {"type": "template", "template": {...}}
    category: str = ""  # MARKETING / UTILITY / AUTHENTICATION / SERVICE, kept as pricing_category
    contact_id: int | None = None


def outbound_store_many(*, phone: PhoneNumber, items: list[SentItem]) -> int:
    """Same result as calling outbound_store for each item (conversation created when missing,
    contact linked when the conversation has none, message stored as outbound `sent`, wamid unique,
    conversation.last_message_at updated, statuses that arrived before the message applied), in a
    constant number of statements per call. Returns how many messages were stored (a wamid already
    stored is skipped). Runs inside the tenant's context and the caller's transaction."""
    _refuse_another_tenant(phone)
    indexed = [(customer_index(tenant=phone.tenant_id, wa_id=item.to), item) for item in items]
    indexed = [(index, item) for index, item in indexed if index]
    if not indexed:
        return 0
    timestamp = _now_timestamp()
    created_at = _when(timestamp)
    # Without the caller's transaction, a claimed wamid could be committed without its message.
    with transaction.atomic(savepoint=False):
        conversations = _conversations_for_many(
            phone, {index: {"customer_wa_id": digits(item.to)} for index, item in indexed}
        )
        _link_contacts(conversations, indexed)
        claimed = _claim_wamids(phone.tenant_id, dict.fromkeys((item.wamid for _, item in indexed), created_at))
        rows: list[Message] = []
        categories: list[str] = []
        for index, item in indexed:
            message_id = claimed.pop(item.wamid, None)  # popped: a wamid twice in the call is stored once
            if message_id is None:
                continue
            row = _new_message(
                message_id=message_id,
                conversation=conversations[index],
                direction=Message.Direction.OUTBOUND,
                message=_outbound_payload(to=item.to, wamid=item.wamid, content=item.content, timestamp=timestamp),
                status=Message.Status.SENT,
                created_at=created_at,
            )
            rows.append(row)
            categories.append(item.category)
        if not rows:
            return 0
        # Applied to the rows before they are inserted, so no row is written twice.
        _apply_waiting_statuses_many(rows)
        for row, category in zip(rows, categories, strict=True):
            if category:  # after the statuses, as in outbound_store: the category we sent wins over Meta's
                row.pricing_category = category
        insert_rows(Message, rows)
        Conversation.objects.filter(pk__in={row.conversation_id for row in rows}).update(last_message_at=created_at)
    return len(rows)


def _refuse_another_tenant(phone: PhoneNumber) -> None:
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


def _conversations_for_many(phone: PhoneNumber, customers: dict[str, dict[str, Any]]) -> dict[str, Conversation]:
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


# The IS NULL test is in the statement: a contact linked meanwhile (an inbound message) is kept.
# Joined on the id alone (aerostic.core.sqlrows: rows by id from a list).
_LINK_CONTACTS = (
    "UPDATE inbox_conversation AS conversation SET contact_id = link.contact_id"
    " FROM unnest(%s::bigint[], %s::bigint[]) AS link(id, contact_id)"
    " WHERE conversation.id = link.id AND conversation.contact_id IS NULL"
)


def _link_contacts(conversations: dict[str, Conversation], indexed: list[tuple[str, SentItem]]) -> None:
    links: dict[int, int] = {}
    for index, item in indexed:
        conversation = conversations[index]
        if item.contact_id is not None and conversation.contact_id is None:
            links.setdefault(conversation.pk, item.contact_id)  # the first item's, as one call after another
    if not links:
        return
    ordered = sorted(links.items())  # by id: concurrent calls lock shared conversations in one order
    with bound_cursor() as cursor:
        cursor.execute(_LINK_CONTACTS, [[pk for pk, _ in ordered], [contact for _, contact in ordered]])
    for conversation in conversations.values():
        if conversation.pk in links:
            conversation.contact_id = links[conversation.pk]


# _CLAIM_WAMID for many wamids: RETURNING lists only the rows inserted, so a wamid already stored
# (or claimed by a concurrent job) is left out, and each message id is reserved with its claim.
# The ids are drawn in the order given (the subquery keeps nextval from being moved past the sort),
# so messages of the same second keep their order of arrival; the keys are inserted in wamid order,
# so two jobs claiming overlapping wamids wait for each other instead of deadlocking.
_CLAIM_WAMIDS = (
    "INSERT INTO inbox_messagekey (tenant_id, wamid, message_id, created_at)"
    " SELECT %s, claim.wamid, claim.message_id, claim.created_at FROM ("
    "SELECT wamid, created_at, nextval('inbox_message_id_seq') AS message_id"
    " FROM unnest(%s::varchar[], %s::timestamptz[]) WITH ORDINALITY AS given(wamid, created_at, position)"
    " ORDER BY position) AS claim"
    " ORDER BY claim.wamid"
    " ON CONFLICT (wamid) DO NOTHING RETURNING wamid, message_id"
)


def _claim_wamids(tenant_id: int, claims: dict[str, datetime]) -> dict[str, int]:
    """{wamid: new message id} of the wamids that are new; `claims` gives each wamid the time of
    its message (its partition), in order of arrival. Empty wamids are skipped."""
    claims = {wamid: created_at for wamid, created_at in claims.items() if wamid}
    if not claims:
        return {}
    with bound_cursor() as cursor:
        cursor.execute(_CLAIM_WAMIDS, [tenant_id, list(claims), list(claims.values())])
        return dict(cursor.fetchall())


def echo_store(*, phone: Any, message: dict[str, Any]) -> Message | None:
    """A message the business sent from the WhatsApp Business app (coexistence): shown as outbound."""
    conversation = conversation_for(
        phone=phone, customer_wa_id=message.get("to", ""), customer_user_id=message.get("to_user_id", "")
    )
    if conversation is None:
        return None
    stored = _store(
        conversation=conversation, direction=Message.Direction.OUTBOUND, message=message, status=Message.Status.SENT
    )
    if stored is not None and (
        conversation.last_message_at is None or stored.created_at > conversation.last_message_at
    ):
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=stored.created_at)
    return stored


HISTORY_STATUS = {"READ": "read", "PLAYED": "read", "DELIVERED": "delivered", "SENT": "sent", "ERROR": "failed"}


def history_store(*, phone: Any, thread_id: str, message: dict[str, Any]) -> Message | None:
    """One message of a history sync (a number moved from the WhatsApp Business app brings up to
    six months of chats). Kept as history: it moves no window and no last-message time backwards."""
    customer = digits(thread_id)
    conversation = conversation_for(phone=phone, customer_wa_id=customer)
    if conversation is None:
        return None
    inbound = digits(message.get("from")) == customer
    context = message.get("history_context") or {}
    status = (
        Message.Status.RECEIVED
        if inbound
        else HISTORY_STATUS.get(str(context.get("status", "")).upper(), Message.Status.SENT)
    )
    stored = _store(
        conversation=conversation,
        direction=Message.Direction.INBOUND if inbound else Message.Direction.OUTBOUND,
        message=message,
        status=status,
    )
    if stored is not None and (
        conversation.last_message_at is None or stored.created_at > conversation.last_message_at
    ):
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=stored.created_at)
        conversation.last_message_at = stored.created_at
    return stored


# Meta's "re-engagement message" error: more than 24 hours since the customer last wrote.
WINDOW_CLOSED_ERROR = 131047


def window_close(*, conversation: Conversation, at: datetime) -> bool:
    """Meta refused a free-form message because the service window had closed (error 131047): the
    window ends at `at`, whatever our clock said. A customer message newer than `at` opened a new
    window that this older refusal must not close. True when the window moved."""
    closed = _close_window(conversation.pk, at)
    if closed:
        conversation.window_expires_at = at
    return closed


def _close_window(conversation_id: int, at: datetime) -> bool:
    # One conditional UPDATE: concurrent inbound messages and refusals settle in the database.
    return bool(
        Conversation.objects.filter(pk=conversation_id)
        .filter(Q(window_expires_at__isnull=True) | Q(window_expires_at__gt=at))
        .filter(Q(last_inbound_at__isnull=True) | Q(last_inbound_at__lte=at))
        .update(window_expires_at=at)
    )


def status_record(*, status: dict[str, Any]) -> str:
    """Keep the status once (wamid, status); apply it to its message if we have it, else later."""
    return status_record_many(statuses=[status])[0]


def _apply_waiting_statuses(message: Message) -> None:
    waiting = list(MessageStatusEvent.objects.filter(wamid=message.wamid, applied=False))
    if waiting:
        _apply(message, waiting)


def _apply_waiting_statuses_many(messages: list[Message]) -> None:
    """_apply_waiting_statuses for messages not inserted yet: their objects take the statuses."""
    waiting: dict[str, list[MessageStatusEvent]] = defaultdict(list)
    for event in MessageStatusEvent.objects.filter(
        wamid__in=[message.wamid for message in messages], applied=False
    ).order_by("pk"):
        waiting[event.wamid].append(event)
    if not waiting:
        return
    for message in messages:
        if message.wamid in waiting:
            _apply_to(message, waiting[message.wamid])
    MessageStatusEvent.objects.filter(pk__in=[event.pk for events in waiting.values() for event in events]).update(
        applied=True
    )


def _apply(message: Message, events: list[MessageStatusEvent]) -> None:
    changed = _apply_to(message, events)
    if changed:
        Message.objects.filter(pk=message.pk, created_at=message.created_at).update(
            **{field: getattr(message, field) for field in changed}
        )
    MessageStatusEvent.objects.filter(pk__in=[event.pk for event in events]).update(applied=True)


def _apply_to(message: Message, events: list[Any]) -> set[str]:
    """The events' effect on the object (the row is the caller's to write; only a closed service
    window is written here): the fields that changed."""
    changed: set[str] = set()
    for event in events:
        field = TIMESTAMP_FIELD.get(event.status)
        if field and getattr(message, field) is None:
            setattr(message, field, event.occurred_at)
            changed.add(field)
        if event.status == "failed":
            if message.status not in ("delivered", "read"):
                message.status = Message.Status.FAILED
                changed.add("status")
            errors = event.errors or []
            if errors and isinstance(errors[0], dict):
                message.error_code = errors[0].get("code")
                message.error_title = str(errors[0].get("title", ""))[:255]
                changed.update({"error_code", "error_title"})
            if WINDOW_CLOSED_ERROR in error_codes(errors):
                _close_window(message.conversation_id, event.occurred_at)
        elif event.status == "deleted":
            message.status = Message.Status.DELETED
            changed.add("status")
        elif STATUS_RANK.get(event.status, -1) > STATUS_RANK.get(message.status, -1) and message.status not in (
            "failed",
            "deleted",
            "received",
        ):
            message.status = event.status
            changed.add("status")
        if event.pricing and not message.pricing:
            message.pricing = event.pricing
            message.pricing_category = str(event.pricing.get("category", ""))[:32]
            changed.update({"pricing", "pricing_category"})
    return changed


# --- statuses in bulk: what the webhook drainer calls for every status of a batch ---------------

# Each status once: a (wamid, status) already kept is a re-delivery and comes back with no row.
_KEEP_STATUSES = (
    "INSERT INTO inbox_messagestatusevent"
    " (tenant_id, wamid, status, occurred_at, recipient_index, errors, pricing, conversation_info, applied,"
    " received_at)"
    " SELECT %s, s.wamid, s.status, s.occurred_at, s.recipient_index, s.errors, s.pricing, s.conversation_info,"
    " s.applied, now()"
    " FROM jsonb_to_recordset(%s::jsonb) AS s(wamid varchar, status varchar, occurred_at timestamptz,"
    " recipient_index varchar, errors jsonb, pricing jsonb, conversation_info jsonb, applied boolean)"
    " ON CONFLICT (wamid, status) DO NOTHING"
    " RETURNING id, wamid, status"
)

# The message columns a status may change (with their types), written back in one statement for
# every changed row.
_STATUS_COLUMNS = {
    "status": "varchar",
    "sent_at": "timestamptz",
    "delivered_at": "timestamptz",
    "read_at": "timestamptz",
    "failed_at": "timestamptz",
    "error_code": "integer",
    "error_title": "varchar",
    "pricing": "jsonb",
    "pricing_category": "varchar",
}
# Identifiers come from this module; every value is bound.
_WRITE_MESSAGES = (
    f"UPDATE inbox_message AS m SET {', '.join(f'{column} = v.{column}' for column in _STATUS_COLUMNS)}"  # noqa: S608
    " FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, created_at timestamptz,"
    f" {', '.join(f'{column} {kind}' for column, kind in _STATUS_COLUMNS.items())})"
    " WHERE m.id = v.id AND m.created_at = v.created_at"
)


def status_record_many(*, statuses: list[dict[str, Any]]) -> list[str]:
    """`status_record` for many statuses (Meta's objects, in the order they arrived), in a constant
    number of statements: one read finds the statuses' messages and locks them (in id order, so two
    drainers holding statuses of the same messages neither overwrite each other nor deadlock), one
    INSERT keeps the new statuses (ON CONFLICT skips re-deliveries; `applied` already set for those
    whose message exists, so no row is written twice), the new ones are folded into each message
    in order (the rules of `_apply_to`: the outcome a status-by-status application gives) and one
    UPDATE writes the changed messages. Returns one outcome per status: "applied", "waiting" (its
    message is not stored yet), "duplicate" or "ignored" (no wamid or no status). Runs in the
    tenant's context."""
    tenant_id = require_tenant_id()
    outcomes = ["ignored"] * len(statuses)
    first: dict[tuple[str, str], int] = {}
    for position, status in enumerate(statuses):
        key = (str(status.get("id") or ""), str(status.get("status") or ""))
        if not key[0] or not key[1]:
            continue
        if key in first:
            outcomes[position] = "duplicate"
        else:
            first[key] = position
    if not first:
        return outcomes
    messages = _messages_locked({wamid for wamid, _ in first})
    kept = _keep_statuses(tenant_id, [statuses[position] for position in first.values()], stored=set(messages))
    for key, position in first.items():
        outcomes[position] = ("applied" if key[0] in messages else "waiting") if key in kept else "duplicate"
    by_wamid: dict[str, list[Any]] = defaultdict(list)
    for event in kept.values():
        if event.applied:
            by_wamid[event.wamid].append(event)
    changed = [messages[wamid] for wamid, events in by_wamid.items() if _apply_to(messages[wamid], events)]
    if changed:
        _write_status_columns(changed)
    return outcomes


def _messages_locked(wamids: set[str]) -> dict[str, Message]:
    """The stored messages of these wamids, locked for the batch's transaction."""
    keys = dict(MessageKey.objects.filter(wamid__in=list(wamids)).values_list("message_id", "created_at"))
    if not keys:
        return {}
    # A range, not the list of times: the partitions are pruned by it, and planning a long IN
    # list against every partition cost more than the read.
    messages = (
        Message.objects.filter(pk__in=list(keys), created_at__range=(min(keys.values()), max(keys.values())))
        .order_by("pk")
        .select_for_update(of=("self",))
        # What a status reads and writes: the payload (a JSON document per row) is never needed.
        .only("wamid", "conversation_id", "created_at", *_STATUS_COLUMNS)
    )
    return {message.wamid: message for message in messages if keys.get(message.pk) == message.created_at}


@dataclass
class _KeptStatus:
    """A status as `_apply_to` reads it (a model object per status cost more than its INSERT)."""

    wamid: str
    status: str
    occurred_at: datetime
    recipient_index: str
    errors: Any
    pricing: Any
    conversation_info: Any
    applied: bool
    pk: int | None = None


def _keep_statuses(tenant_id: int, statuses: list[dict[str, Any]], *, stored: set[str]) -> dict[tuple[str, str], Any]:
    """The statuses that are new, carrying their new ids; those of a stored message are kept as
    applied (the caller applies them in the same transaction)."""
    indexes: dict[tuple[Any, Any], str] = {}  # a message's statuses name one recipient
    events = []
    for status in statuses:
        recipient = (status.get("recipient_id"), status.get("recipient_user_id"))
        if recipient not in indexes:
            indexes[recipient] = customer_index(tenant=tenant_id, wa_id=recipient[0], user_id=recipient[1])
        wamid = str(status.get("id") or "")
        events.append(
            _KeptStatus(
                wamid=wamid,
                status=str(status.get("status") or ""),
                occurred_at=_when(status.get("timestamp")),
                recipient_index=indexes[recipient],
                errors=status.get("errors") or [],
                pricing=status.get("pricing") or {},
                conversation_info=status.get("conversation") or {},
                applied=wamid in stored,
            )
        )
    rows = json_rows(
        {
            "wamid": event.wamid[:255],
            "status": event.status[:12],
            "occurred_at": event.occurred_at,
            "recipient_index": event.recipient_index,
            "errors": event.errors,
            "pricing": event.pricing,
            "conversation_info": event.conversation_info,
            "applied": event.applied,
        }
        for event in events
    )
    with bound_cursor() as cursor:
        cursor.execute(_KEEP_STATUSES, [tenant_id, rows])
        new_ids = {(wamid, status): event_id for event_id, wamid, status in cursor.fetchall()}
    kept: dict[tuple[str, str], _KeptStatus] = {}
    for event in events:
        event_id = new_ids.get((event.wamid[:255], event.status[:12]))
        if event_id is not None:
            event.pk = event_id
            kept[(event.wamid, event.status)] = event
    return kept


def _write_status_columns(messages: list[Message]) -> None:
    rows = json_rows(
        {
            "id": message.pk,
            "created_at": message.created_at,
            **{column: getattr(message, column) for column in _STATUS_COLUMNS},
        }
        for message in messages
    )
    with bound_cursor() as cursor:
        cursor.execute(_WRITE_MESSAGES, [rows])
