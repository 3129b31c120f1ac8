"""The workspace bench.inbox reads: conversations and messages built as the message store builds
them (encrypted number, blind index, partitioned messages with their MessageKey), inserted in bulk
(aerostic.core.sqlrows.insert_rows), with the team work an inbox accumulates."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

CHUNK = 5_000
DAYS = 75  # messages spread over the last 75 days: three to four monthly partitions
BIG_CONVERSATION_MESSAGES = 500
SEARCH_WORD = "refundable"  # in about one message in 2,000
NAMES = ["Asha", "Ravi", "Meera", "Arjun", "Priya", "Kiran", "Neha", "Vikram", "Sara", "Omar", "Lena", "Tom"]
WORDS = [
    *("order", "delivery", "payment", "invoice", "address", "courier", "package", "status", "update"),
    *("thanks", "please", "today", "tomorrow", "size", "colour", "return", "exchange", "price", "discount"),
    *("coupon", "store", "hours", "open", "closed", "help", "support", "ticket", "phone", "email", "confirm"),
    *("cancel", "change", "item", "stock", "available", "photo", "receipt", "shipping", "tracking", "late"),
]
PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway database's users


@dataclass
class Workspace:
    tenant: Any
    agent: Any  # the user whose session reads (an agent: sees theirs, their team's, unassigned)
    admin: Any
    phone: Any
    team: Any
    label: Any
    big_conversation_id: int
    search_number: str
    search_name: str


def _text(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(3, 14))
    if rng.random() < 0.0005:
        words.insert(rng.randrange(len(words)), SEARCH_WORD)
    return " ".join(words)


def _reserve_ids(sequence: str, count: int) -> int:
    """The first of `count` consecutive ids taken from `sequence` (nothing else writes meanwhile)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [sequence])
        first = cursor.fetchone()[0]
        cursor.execute("SELECT setval(%s, %s)", [sequence, first + count])
    return first


def build(conversations: int, messages: int, *, seed: int = 7) -> Workspace:
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from accounts.roles import Role
    from aerostic.core.sqlrows import insert_rows
    from aerostic.core.tenant_context import tenant_context
    from contacts.phones import customer_index
    from inbox.models import Conversation, ConversationLabel, Label, Message, MessageKey, Team, TeamMember
    from inbox.partitions import message_partitions_ensure
    from inbox.search_terms import message_pairs, name_pairs, search_terms_record
    from tenants.models import Membership, Tenant
    from whatsapp.models import PhoneNumber, WhatsAppAccount

    rng = random.Random(seed)  # noqa: S311 - sample data, repeatable
    now = timezone.now()
    tenant = Tenant.objects.create(slug="bench-inbox", name="Bench inbox", default_country="IN")
    admin = User.objects.create_user("admin@bench.test", password=PASSWORD)
    agent = User.objects.create_user("agent@bench.test", password=PASSWORD, full_name="Asha Agent")
    with tenant_context(tenant), transaction.atomic():
        Membership.objects.create(user=admin, role=Role.ADMIN)
        Membership.objects.create(user=agent, role=Role.AGENT)
        account = WhatsAppAccount.objects.create(
            waba_id="310000000000001", business_id="410000000000001", name="Bench", currency="USD",
            mode=WhatsAppAccount.Mode.SANDBOX, status=WhatsAppAccount.Status.CONNECTED, webhooks_subscribed=True,
        )  # fmt: skip
        phone = PhoneNumber.objects.create(
            account=account, phone_number_id="510000000000001", display_phone_number="+1 555 0100 0001",
            verified_name="Bench", quality_rating="GREEN", status="CONNECTED",
        )  # fmt: skip
        team = Team.objects.create(name="Support")
        TeamMember.objects.create(team=team, user=agent)
        labels = [Label.objects.create(name=f"Label {n}") for n in range(20)]
        message_partitions_ensure(today=(now - timedelta(days=DAYS)).date(), months_ahead=4)

    started = time.monotonic()
    first_conversation = _reserve_ids("inbox_conversation_id_seq", conversations)
    first_message = _reserve_ids("inbox_message_id_seq", messages)
    big_id = first_conversation  # the first conversation is the long one
    # Every other conversation gets the same share; the first ones one more, so the total is exact.
    per_other, extra = divmod(messages - BIG_CONVERSATION_MESSAGES, conversations - 1)
    message_id = first_message
    written = 0
    search_number = ""
    search_name = ""
    with tenant_context(tenant):
        for chunk_start in range(0, conversations, CHUNK):
            rows, labels_rows, message_rows, key_rows = [], [], [], []
            for offset in range(chunk_start, min(conversations, chunk_start + CHUNK)):
                pk = first_conversation + offset
                wa_id = f"91{9000000000 + offset:010d}"
                name = f"{rng.choice(NAMES)} {offset}"
                count = BIG_CONVERSATION_MESSAGES if pk == big_id else per_other + (offset <= extra)
                last = now - timedelta(seconds=rng.randint(60, DAYS * 86400 - 3600))
                share = rng.random()
                assignee = agent.pk if share < 0.05 else (admin.pk if share < 0.6 else None)
                searched = offset == conversations // 2  # the search scenarios' customer: visible to the agent
                if searched:
                    assignee, name = None, f"Zainab Searchwell {offset}"
                if pk == big_id:
                    assignee = agent.pk  # the agent opens it: it must be theirs to see
                conversation = Conversation(
                    id=pk, tenant_id=tenant.pk, phone_number_id=phone.pk, customer_wa_id=wa_id,
                    customer_index=customer_index(tenant=tenant.pk, wa_id=wa_id), customer_name=name,
                    status=rng.choices(["open", "pending", "snoozed", "resolved"], [50, 10, 5, 35])[0],
                    assignee_id=assignee, team_id=team.pk if rng.random() < 0.1 else None,
                    unread_count=rng.choice([0, 0, 0, 1, 2]), last_message_at=last,
                    last_inbound_at=last, window_expires_at=last + timedelta(hours=24), created_at=last,
                )  # fmt: skip
                if conversation.status == "snoozed":
                    conversation.snoozed_until = now + timedelta(hours=rng.randint(1, 48))
                rows.append(conversation)
                if searched:
                    search_number, search_name = wa_id, "zainab searchw"
                if rng.random() < 0.1:
                    labels_rows.append(
                        ConversationLabel(tenant_id=tenant.pk, conversation_id=pk, label_id=rng.choice(labels).pk)
                    )
                for position in range(count):
                    at = last - timedelta(minutes=7 * (count - 1 - position))
                    inbound = position % 2 == 0
                    wamid = f"wamid.bench.{message_id}"
                    body = _text(rng)
                    message_rows.append(
                        Message(
                            id=message_id,
                            tenant_id=tenant.pk,
                            conversation_id=pk,
                            direction="in" if inbound else "out",
                            type="text",
                            wamid=wamid,
                            body=body,
                            payload={"id": wamid, "type": "text", "text": {"body": body}},
                            status="received" if inbound else "read",
                            created_at=at,
                            sent_at=None if inbound else at,
                            read_at=None if inbound else at,
                        )  # fmt: skip
                    )
                    key_rows.append(MessageKey(tenant_id=tenant.pk, wamid=wamid, message_id=message_id, created_at=at))
                    message_id += 1
                written += count
            with transaction.atomic():
                insert_rows(Conversation, rows)
                if labels_rows:
                    ConversationLabel.objects.bulk_create(labels_rows)
                for start in range(0, len(message_rows), CHUNK):
                    insert_rows(Message, message_rows[start : start + CHUNK])
                MessageKey.objects.bulk_create(key_rows, batch_size=CHUNK)
                # The search index the stores write (inbox.search_terms), in batches of CHUNK.
                search_terms_record(name_pairs(rows, now) + message_pairs(message_rows))
            print(
                f"  {chunk_start + len(rows):>7} conversations, {written:>8} messages"
                f" ({time.monotonic() - started:.0f} s)",
                flush=True,
            )
    from django.db import connection

    # Statistics for the planner, and now the vacuum autovacuum would otherwise start on the fresh
    # rows in the middle of the measurement (on a small machine it takes a core for minutes).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    return Workspace(
        tenant=tenant, agent=agent, admin=admin, phone=phone, team=team, label=labels[0],
        big_conversation_id=big_id, search_number=search_number, search_name=search_name,
    )  # fmt: skip
