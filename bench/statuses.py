"""The status modes of bench.webhooks: outbound messages that exist before the load, and the check
that every status update acknowledged was recorded once and moved its message.

Seeding writes what the send path leaves behind after Meta accepted a send, through the same
writes: half the messages are a campaign's recipients (`CampaignMessage`), half one-off API sends
(`OutboundMessage`); each row is inserted `queued` (as the launch snapshot and `message_enqueue`
insert them), moved by its ledger's claim and `write_sent` (state `sent`, the wamid), and stored in
the inbox by `outbound_store_many` (the `Message` and its `MessageKey`), in chunks, one
transaction each. Statuses then reach every consumer as in production: the ledger's settle, the
campaign's progress, the inbox, billing (its rate cards are loaded: `manage.py seed_pricing`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from bench.loadgen import wamid

CHUNK = 2000
RANK = {"sent": 2, "delivered": 3, "read": 4}
CAMPAIGN_TEMPLATE = {"name": "bench_offer", "text": "Our spring offer is here.", "category": "MARKETING"}
API_TEMPLATE = {"name": "order_update", "category": "UTILITY"}


def recipient(first: int, index: int) -> str:
    """Message `index`'s customer: a new Indian mobile number (+91 9…) per message."""
    return f"919{first + index:09d}"


def seed_outbound(*, tenant: Any, phone: Any, tag: str, count: int, first: int) -> list[list[str]]:
    """`count` outbound messages `sent`, wamid.<tag>.<i>: even i a campaign's, odd i a one-off API
    send. Returns, per message, [recipient digits, biz_opaque_callback_data, pricing category] for
    the load generator's statuses."""
    from django.db import transaction

    from aerostic.core.tenant_context import tenant_context

    with tenant_context(tenant):
        campaign, variant = _campaign(phone, f"bench {tag}")
        plan: list[list[str]] = []
        for start in range(0, count, CHUNK):
            indexes = range(start, min(count, start + CHUNK))
            with transaction.atomic():
                callbacks = _campaign_sends(tenant, campaign, variant, tag, first, [i for i in indexes if i % 2 == 0])
                callbacks |= _api_sends(tenant, phone, tag, first, [i for i in indexes if i % 2 == 1])
                _store_in_inbox(phone, tag, first, indexes, callbacks)
            for i in indexes:
                category = (CAMPAIGN_TEMPLATE if i % 2 == 0 else API_TEMPLATE)["category"].lower()
                plan.append([recipient(first, i), callbacks[i][0], category])
        _campaign_finished(campaign, count)
    return plan


def _campaign(phone: Any, name: str) -> tuple[Any, Any]:
    """A campaign of an approved marketing template, created by the service (a draft: the bench
    writes its recipients as the launch and the batch jobs would)."""
    from campaigns.services import campaign_create
    from whatsapp.models import MessageTemplate

    template, _ = MessageTemplate.objects.get_or_create(
        account=phone.account,
        name=CAMPAIGN_TEMPLATE["name"],
        language="en_US",
        defaults={
            "category": CAMPAIGN_TEMPLATE["category"],
            "status": MessageTemplate.Status.APPROVED,
            "components": [{"type": "BODY", "text": CAMPAIGN_TEMPLATE["text"]}],
            "meta_template_id": "9100000000001",
        },
    )
    campaign = campaign_create(
        name=name,
        phone_number_id=phone.pk,
        variants=[{"template_id": template.pk, "percentage": 100, "mapping": {}}],
        actor=None,
    )
    return campaign, campaign.variants.get()


def _campaign_finished(campaign: Any, count: int) -> None:
    """Where the engine leaves a campaign whose every recipient was sent."""
    from django.utils import timezone

    from campaigns.models import Campaign

    now = timezone.now()
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.COMPLETED,
        recipients_total=(count + 1) // 2,
        launched_at=now,
        started_at=now,
        finished_at=now,
    )


def _campaign_sends(tenant, campaign, variant, tag: str, first: int, indexes: list[int]) -> dict[int, tuple]:
    """Recipients as contacts (the import's bulk insert), their rows queued, claimed and sent by the
    campaign ledger. Returns message index → (callback data, contact id)."""
    from campaigns.engine.source import CAMPAIGN
    from campaigns.models import CampaignMessage
    from contacts import phones
    from contacts.rows import ImportRow, insert_contacts

    rows, index_of = [], {}
    for i in indexes:
        number = phones.normalize("+" + recipient(first, i))
        index_of[number.index_for(tenant=tenant.pk)] = i
        rows.append(ImportRow.of(number, tenant_id=tenant.pk, number=i, name=f"Customer {i}"))
    contact_of = {index_of[index]: contact_id for index, contact_id in insert_contacts(rows).items()}
    created = CampaignMessage.objects.bulk_create(
        CampaignMessage(tenant_id=tenant.pk, campaign=campaign, variant=variant, contact_id=contact_of[i])
        for i in indexes
    )
    ids = {i: row.pk for i, row in zip(indexes, created, strict=True)}
    _sent_by(CAMPAIGN, [(ids[i], wamid(tag, i)) for i in indexes])
    return {i: (CAMPAIGN.callback_data(ids[i]), contact_of[i]) for i in indexes}


def _api_sends(tenant, phone, tag: str, first: int, indexes: list[int]) -> dict[int, tuple]:
    """One-off template sends as `message_enqueue` stores them (no contact, as an integrator's API
    send to a number), claimed and sent by the outbound ledger. Returns index → (callback data, None)."""
    from contacts.phones import customer_index
    from whatsapp.dispatch import OUTBOUND
    from whatsapp.models import OutboundMessage

    created = OutboundMessage.objects.bulk_create(
        OutboundMessage(
            tenant_id=tenant.pk,
            phone_number=phone,
            recipient=recipient(first, i),
            recipient_index=customer_index(tenant=tenant.pk, wa_id=recipient(first, i)),
            category=API_TEMPLATE["category"],
            content=_template_content(API_TEMPLATE["name"]),
            origin=OutboundMessage.Origin.API,
        )
        for i in indexes
    )
    ids = {i: row.pk for i, row in zip(indexes, created, strict=True)}
    _sent_by(OUTBOUND, [(ids[i], wamid(tag, i)) for i in indexes])
    return {i: (OUTBOUND.callback_data(ids[i]), None) for i in indexes}


def _sent_by(ledger: Any, rows: list[tuple[int, str]]) -> None:
    """The send path's own writes for a chunk Meta accepted: the claim, then `sent` with the wamids."""
    from django.utils import timezone

    now = timezone.now()
    ledger.claim([row_id for row_id, _ in rows], now)
    ledger.write_sent(rows, now)


def _store_in_inbox(phone, tag: str, first: int, indexes: range, callbacks: dict[int, tuple]) -> None:
    from inbox.outbound import outbound_store_many
    from whatsapp.fanout import SentItem

    outbound_store_many(
        phone=phone,
        items=[
            SentItem(
                to=recipient(first, i),
                wamid=wamid(tag, i),
                content=_template_content((CAMPAIGN_TEMPLATE if i % 2 == 0 else API_TEMPLATE)["name"]),
                category=(CAMPAIGN_TEMPLATE if i % 2 == 0 else API_TEMPLATE)["category"],
                contact_id=callbacks[i][1],
            )
            for i in indexes
        ],
    )


def _template_content(name: str) -> dict[str, Any]:
    return {"type": "template", "template": {"name": name, "language": {"code": "en_US"}}}


# --- after the stage


def status_check(*, tenant: Any, tag: str, acknowledged: list[tuple[int, str]]) -> dict[str, int]:
    """What the stage's acknowledged updates left behind. `lost`: an acknowledged (wamid, status)
    with no MessageStatusEvent row, plus a message (inbox row or campaign recipient) short of the
    furthest status acknowledged for it; `duplicated`: MessageStatusEvent rows beyond one per
    (wamid, status) and billing entries beyond one per message; `billed` / `delivered`: messages
    charged by metering out of those whose `delivered` was acknowledged."""
    from django.db.models import Count

    from aerostic.core.tenant_context import tenant_context
    from billing.models import LedgerEntry
    from campaigns.models import CampaignMessage
    from inbox.models import Message, MessageKey, MessageStatusEvent

    prefix = wamid(tag, 0)[:-1]
    furthest: dict[str, int] = {}
    for message, status in acknowledged:
        key = wamid(tag, message)
        furthest[key] = max(furthest.get(key, 0), RANK[status])
    with tenant_context(tenant):
        events = MessageStatusEvent.objects.filter(wamid__startswith=prefix)
        recorded = Counter({(w, s): n for w, s, n in events.values_list("wamid", "status").annotate(n=Count("id"))})
        keys = dict(MessageKey.objects.filter(wamid__startswith=prefix).values_list("message_id", "wamid"))
        inbox = {keys[pk]: status for pk, status in Message.objects.filter(pk__in=keys).values_list("pk", "status")}
        campaign = dict(CampaignMessage.objects.filter(wamid__startswith=prefix).values_list("wamid", "state"))
        charges = Counter(LedgerEntry.objects.filter(wamid__startswith=prefix).values_list("wamid", flat=True))
    missing = {(wamid(tag, m), s) for m, s in acknowledged} - set(recorded)
    behind = sum(RANK.get(inbox.get(w, ""), 0) < rank for w, rank in furthest.items())
    behind += sum(RANK.get(campaign[w], 0) < rank for w, rank in furthest.items() if w in campaign)
    delivered = {w for w, rank in furthest.items() if rank >= RANK["delivered"]}
    return {
        "lost": len(missing) + behind,
        "missing": len(missing),
        "behind": behind,
        "duplicated": sum(n - 1 for n in recorded.values()) + sum(n - 1 for n in charges.values()),
        "billed": len(delivered & set(charges)),
        "delivered": len(delivered),
    }
