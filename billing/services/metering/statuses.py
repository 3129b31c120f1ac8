"""Status webhooks as usages: which statuses bill, what each says (recipient country, the campaign
it belongs to, read for the whole list at once), and the entry points the webhook drainer calls."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from aerostic.core.values import meta_time
from billing.services.metering.batch import Metering, Usage
from campaigns.engine.statuses import RECIPIENTS_FOUND, callback_row_id, recipients_named
from contacts.models import Contact
from contacts.phones import country_of

logger = logging.getLogger(__name__)

# Per-message pricing charges delivered messages; `read` implies delivered (statuses may arrive out
# of order, or the delivered one may be lost). A `sent` status may carry `pricing` too (Meta's
# samples do): it is not a charge yet.
BILLABLE_STATUSES = {"delivered", "read"}


def usage_record_from_status(*, status: dict[str, Any], phone: Any) -> str:
    """Meters one status of a message sent from `phone`: a list of one (`usage_record_from_statuses`
    says what each outcome means and what is written)."""
    return usage_record_from_statuses(statuses=[status], phone=phone)[0]


def usage_record_from_statuses(
    *, statuses: list[dict[str, Any]], phone: Any, found: dict[str, Any] | None = None
) -> list[str]:
    """Meters the statuses of messages sent from `phone`, in the order Meta sent them, inside the
    tenant's context (the webhook drainer calls it once per number with all of that number's
    statuses in its batch, inside its transaction). Returns, position by position, what happened:
    "charged", "free", "duplicate" (already on the ledger, or charged earlier in this list),
    "unpriced" (kept with the reason in UnpricedUsage) or "ignored" (not a billing event).

    The outcomes and the rows (ledger entries, usage counters, a prepaid balance, unpriced usage)
    are those of metering the statuses one at a time in that order: the delivered and the read of a
    message charge once, and the free service conversations counted earlier in the list count
    against the month's allowance. It costs a fixed number of statements however long the list:
    campaign recipients, ledger references, the profile and the counters are read once, the ledger
    rows are one INSERT … ON CONFLICT DO NOTHING, each counter and the balance move once by the sum
    of what that INSERT wrote, the unpriced rows are one upsert.

    Never raises for what Meta sends: a bug in pricing one status is logged and records that status
    as unpriced ("error") while the others go on, so statuses keep flowing to the inbox and
    campaigns; database errors do raise and nothing of the call is kept (the webhook job retries
    the whole event, and the unique references make the retry charge nothing twice)."""
    outcomes = ["ignored"] * len(statuses)
    billable = [(position, status) for position, status in enumerate(statuses) if _is_billable(status)]
    if not billable:
        return outcomes
    with transaction.atomic():
        usages = _usages_of([status for _, status in billable], phone, found or {})
        for (position, _), outcome in zip(billable, Metering(usages).run(), strict=True):
            outcomes[position] = outcome
    return outcomes


def _is_billable(status: Any) -> bool:
    if not isinstance(status, dict):
        return False
    wamid, name = str(status.get("id") or ""), str(status.get("status") or "").lower()
    if not wamid or name not in BILLABLE_STATUSES:
        return False
    return bool(_pricing_of(status)) or name == "delivered"  # a bare read adds nothing to its delivered


def _pricing_of(status: dict[str, Any]) -> dict[str, Any]:
    value = status.get("pricing")
    return value if isinstance(value, dict) else {}


def _status_time(status: dict[str, Any]) -> datetime:
    return meta_time(status.get("timestamp")) or timezone.now()


def _usages_of(statuses: list[dict[str, Any]], phone: Any, found: dict[str, Any]) -> list[Usage]:
    """Each billable status as a Usage; the campaign recipients of all of them read once (or taken
    from what the campaigns' consumer read for the same batch)."""
    phone_number_id = getattr(phone, "pk", None)
    recipients = _campaign_recipients(statuses, found)
    countries: dict[str, str] = {}  # one number's statuses mostly go to a few recipients
    usages: list[Usage] = []
    contacts: dict[int, int] = {}  # usage position → recipient's contact, where the number names no country
    for status in statuses:
        wamid, name = str(status["id"]), str(status["status"]).lower()
        try:
            usage, contact_id = _usage_of(status, wamid, name, phone_number_id, recipients, countries)
            if not usage.country and contact_id is not None:
                contacts[len(usages)] = contact_id
        except Exception as error:
            logger.exception("billing: pricing a status failed", extra={"wamid": wamid})
            usage = Usage(
                wamid=wamid,
                status=name,
                at=_status_time(status),
                pricing=_pricing_of(status),
                conversation={},
                country="",
                campaign_id=None,
                phone_number_id=phone_number_id,
                failure=type(error).__name__,
            )
        usages.append(usage)
    if contacts:
        # A number whose calling code names no country (or a recipient named by user id alone):
        # the contact's country, as imported.
        known = dict(Contact.objects.filter(pk__in=set(contacts.values())).values_list("pk", "country"))
        for position, contact_id in contacts.items():
            usages[position] = replace(usages[position], country=known.get(contact_id) or "")
    return usages


_Recipients = tuple[dict[int, tuple[int, int]], dict[str, tuple[int, int]]]


def _usage_of(
    status: dict[str, Any],
    wamid: str,
    name: str,
    phone_number_id: int | None,
    recipients: _Recipients,
    countries: dict[str, str],
) -> tuple[Usage, int | None]:
    """The usage, and the recipient's contact when the status names a campaign recipient."""
    by_pk, by_wamid = recipients
    key = callback_row_id(status)
    campaign_id, contact_id = (by_pk.get(key) if key is not None else by_wamid.get(wamid)) or (None, None)
    raw_conversation = status.get("conversation")
    conversation: dict[str, Any] = raw_conversation if isinstance(raw_conversation, dict) else {}
    recipient = str(status.get("recipient_id") or "")
    if recipient not in countries:
        countries[recipient] = country_of(recipient)
    usage = Usage(
        wamid=wamid,
        status=name,
        at=_status_time(status),
        pricing=_pricing_of(status),
        conversation=conversation,
        country=countries[recipient],
        campaign_id=campaign_id,
        phone_number_id=phone_number_id,
    )
    return usage, contact_id


def _campaign_recipients(statuses: list[dict[str, Any]], found: dict[str, Any]) -> _Recipients:
    """{message id: (campaign id, contact id)} for the ids the callbacks name, and the same by wamid
    for statuses without one (the lowest id when several share a wamid). The rows the campaigns'
    consumer read for this batch when it looked up all of these, else one query."""
    ids, wamids = set(), set()
    for status in statuses:
        key = callback_row_id(status)
        if key is None:
            wamids.add(str(status["id"]))
        else:
            ids.add(key)
    shared = found.get(RECIPIENTS_FOUND)
    if shared is not None and ids <= shared.ids and wamids <= shared.wamids:
        rows = list(shared.rows)
    else:
        rows = list(recipients_named(ids=ids, wamids=wamids).values_list("id", "wamid", "campaign_id", "contact_id"))
    by_pk: dict[int, tuple[int, int]] = {}
    by_wamid: dict[str, tuple[int, int]] = {}
    for pk, wamid, campaign_id, contact_id in sorted(rows, reverse=True):
        by_pk[pk] = (campaign_id, contact_id)
        if wamid in wamids:
            by_wamid[wamid] = by_pk[pk]
    return by_pk, by_wamid
