"""The sending rules: may this contact get a message of this category now, and is the 24-hour
customer service window of this conversation open? Reads only; the dispatcher asks before each send.
Conversations and messages are read through compliance.conversations (they live above compliance).

`can_send` checks, in this order (the first that says no decides; refusals before deferrals):

1. Erased contact: never.
2. SERVICE (a free-form reply): governed by the 24-hour window, not by consent — allowed while one
   of the contact's conversations has its window open. The dispatcher, which knows the exact
   conversation, asks `free_form_allowed(conversation, at)` instead.
3. Opted out: no MARKETING; no UTILITY when the workspace blocks it (the default); AUTHENTICATION
   only when the customer asked for the code (`authentication_requested=True`).
4. MARKETING needs an opt-in: no consent, no marketing sends.
5. US numbers: Meta has not delivered marketing templates to US (+1) numbers since 1 April 2025.
6. Deferrals (allowed=False with `send_after`, to be retried then, never dropped): quiet hours in
   the contact's time zone (else the workspace's) for the workspace's quiet-hour categories, and
   the per-contact marketing frequency cap. When both apply, `send_after` is the first moment
   that satisfies both.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import IntegrityError, transaction

from compliance import conversations
from compliance.models import ComplianceSettings
from contacts.models import ConsentState, Contact
from tenants.models import Tenant

logger = logging.getLogger(__name__)

MARKETING = "MARKETING"
UTILITY = "UTILITY"
AUTHENTICATION = "AUTHENTICATION"
SERVICE = "SERVICE"
CATEGORIES = (MARKETING, UTILITY, AUTHENTICATION, SERVICE)

SERVICE_WINDOW = timedelta(hours=24)
US_MARKETING_STOPPED_ON = datetime(2025, 4, 1, tzinfo=UTC)
WINDOW_CLOSED = "The 24-hour customer service window is closed: send an approved template instead."


@dataclass(frozen=True)
class ContactSendDecision:
    """May this contact get this message now (consent, window, quiet hours, cap), and if not now,
    when; compliance.selectors.KillSwitchDecision answers whether the workspace may send at all."""

    allowed: bool
    reason: str = ""
    send_after: datetime | None = None

    @property
    def is_deferred(self) -> bool:
        """Not now, but later: retry at `send_after` rather than dropping the message."""
        return not self.allowed and self.send_after is not None


def compliance_settings_for(tenant_id: int) -> ComplianceSettings:
    """The workspace's rules, created with the defaults on first use (inside the tenant's context)."""
    found = ComplianceSettings.objects.filter(tenant_id=tenant_id).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return ComplianceSettings.objects.create(tenant_id=tenant_id)
    except IntegrityError:  # created by a parallel request a moment ago
        return ComplianceSettings.objects.get(tenant_id=tenant_id)


# --- The 24-hour customer service window.


class ServiceWindow(Protocol):
    """A customer's conversation as the window rules read it (the inbox's Conversation)."""

    window_expires_at: datetime | None
    last_inbound_at: datetime | None


def window_closes_at(conversation: ServiceWindow) -> datetime | None:
    """When the window ends: last inbound + 24 h, or earlier when Meta told us it had closed
    (error 131047, see `inbox.conversations.window_close`). None when the customer never wrote."""
    if conversation.window_expires_at is not None:
        return conversation.window_expires_at
    if conversation.last_inbound_at is not None:
        return conversation.last_inbound_at + SERVICE_WINDOW
    return None


def window_open(conversation: ServiceWindow, at: datetime) -> bool:
    closes_at = window_closes_at(conversation)
    return closes_at is not None and at < closes_at


def free_form_allowed(conversation: Any, at: datetime) -> ContactSendDecision:
    """A free-form (non-template) message needs the window open; consent does not matter here.
    `conversation` is the inbox's Conversation (a ServiceWindow with its `contact`)."""
    if conversation.contact_id is not None and conversation.contact.is_erased:
        return ContactSendDecision(False, "This contact was erased.")
    if not window_open(conversation, at):
        return ContactSendDecision(False, WINDOW_CLOSED)
    return ContactSendDecision(True, "The customer wrote in the last 24 hours.")


# --- can_send


# Why can_send refuses: also the campaign snapshot's skip reasons (campaigns/engine/snapshot.py).
OPTED_OUT_MARKETING = "The contact opted out: no marketing messages."
OPTED_OUT_UTILITY = "The contact opted out, and this workspace blocks utility messages then."
OPTED_OUT_AUTHENTICATION = "The contact opted out: authentication codes only when they ask for one."
NO_MARKETING_CONSENT = "No marketing consent recorded for this contact: no consent, no marketing."
US_MARKETING_STOPPED = "Meta does not deliver marketing templates to US (+1) numbers since 1 April 2025."


def can_send(
    contact: Contact,
    category: str,
    at: datetime,
    *,
    authentication_requested: bool = False,
    settings: ComplianceSettings | None = None,
) -> ContactSendDecision:
    """May `contact` get a message of `category` (MARKETING, UTILITY, AUTHENTICATION or SERVICE)
    at `at`? See the module docstring for the order of the checks."""
    category = str(category or "").upper()
    if category not in CATEGORIES:
        raise ValueError(f"unknown message category {category!r}")
    if contact.is_erased:
        return ContactSendDecision(False, "This contact was erased.")
    if category == SERVICE:
        if any(window_open(conversation, at) for conversation in conversations.lookups().service_windows(contact)):
            return ContactSendDecision(True, "The customer wrote in the last 24 hours.")
        return ContactSendDecision(False, WINDOW_CLOSED)

    settings = settings or compliance_settings_for(contact.tenant_id)
    if contact.consent_state == ConsentState.OPTED_OUT:
        if category == MARKETING:
            return ContactSendDecision(False, OPTED_OUT_MARKETING)
        if category == UTILITY and settings.block_utility_when_opted_out:
            return ContactSendDecision(False, OPTED_OUT_UTILITY)
        if category == AUTHENTICATION and not authentication_requested:
            return ContactSendDecision(False, OPTED_OUT_AUTHENTICATION)
    if category == MARKETING:
        if contact.consent_state != ConsentState.OPTED_IN:
            return ContactSendDecision(False, NO_MARKETING_CONSENT)
        if _is_us_number(contact) and at >= US_MARKETING_STOPPED_ON:
            return ContactSendDecision(False, US_MARKETING_STOPPED)
    return _deferral(contact, category, at, settings)


def _is_us_number(contact: Contact) -> bool:
    # +1 is shared by the US, Canada and the Caribbean: the region decides; a +1 number whose region
    # is unknown is treated as American, the side on which Meta refuses.
    return contact.country == "US" or (not contact.country and contact.calling_code == 1)


def _deferral(contact: Contact, category: str, at: datetime, settings: ComplianceSettings) -> ContactSendDecision:
    """Quiet hours and the frequency cap: the earliest moment both allow, when it is not now."""
    quiet = settings.quiet_hours_enabled and category in {c.upper() for c in settings.quiet_hours_categories}
    capped = category == MARKETING and settings.marketing_cap_messages > 0
    reasons: list[str] = []
    moment = at
    # A cap deferral may land in quiet hours and a quiet-hours end may still be capped: a few
    # rounds settle it (each round only moves forward).
    for _ in range(4):
        later = moment
        if quiet:
            quiet_end = quiet_hours_end(contact, later, settings)
            if quiet_end is not None:
                later = quiet_end
                reasons.append("quiet hours")
        if capped:
            cap_free = frequency_cap_frees_at(contact, later, settings)
            if cap_free is not None:
                later = cap_free
                reasons.append("frequency cap")
        if later == moment:
            break
        moment = later
    if moment == at:
        return ContactSendDecision(True, "Allowed.")
    if "quiet hours" in reasons and "frequency cap" in reasons:
        why = "quiet hours and the marketing frequency cap"
    elif "quiet hours" in reasons:
        why = "the contact's quiet hours"
    else:
        why = f"the marketing frequency cap ({settings.marketing_cap_messages} per {settings.marketing_cap_days} days)"
    return ContactSendDecision(False, f"Deferred by {why}: send after {moment:%Y-%m-%d %H:%M} UTC.", moment)


# --- Quiet hours


def contact_zone(contact: Contact) -> ZoneInfo:
    """The contact's time zone, else the workspace's, else UTC (an unknown name is skipped)."""
    names = [contact.timezone]
    if not contact.timezone:
        names.append(Tenant.objects.filter(pk=contact.tenant_id).values_list("timezone", flat=True).first() or "")
    for name in names:
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                logger.warning("unknown time zone skipped", extra={"contact_id": contact.pk})
    return ZoneInfo("UTC")


def quiet_hours_end(contact: Contact, at: datetime, settings: ComplianceSettings) -> datetime | None:
    """When the quiet period `at` falls in ends (UTC), or None when `at` is not in quiet hours.
    A period may cross midnight (21:00–09:00) and is read in the contact's local time."""
    start, end = settings.quiet_hours_start, settings.quiet_hours_end
    if start == end:
        return None
    zone = contact_zone(contact)
    local = at.astimezone(zone)
    now = local.time().replace(tzinfo=None)
    if start < end:  # e.g. 13:00–15:00, the same day
        if start <= now < end:
            return _local_to_utc(local.date(), end, zone)
        return None
    if now >= start:  # across midnight: evening part, ends tomorrow morning
        return _local_to_utc(local.date() + timedelta(days=1), end, zone)
    if now < end:  # across midnight: morning part, ends today
        return _local_to_utc(local.date(), end, zone)
    return None


def _local_to_utc(day: date, clock: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


# --- Marketing frequency cap


def frequency_cap_frees_at(contact: Contact, at: datetime, settings: ComplianceSettings) -> datetime | None:
    """None when another marketing message fits the cap at `at`; else when the oldest message that
    keeps the contact at the cap leaves the window."""
    limit, period = settings.marketing_cap_messages, timedelta(days=settings.marketing_cap_days)
    if limit <= 0 or period <= timedelta(0):
        return None
    sent = conversations.lookups().marketing_messages_sent(contact, since=at - period, until=at)
    if len(sent) < limit:
        return None
    # With n sent in the window, n - limit + 1 must leave it: the (n - limit)-th oldest decides.
    return sent[len(sent) - limit] + period


__all__ = [
    "AUTHENTICATION",
    "MARKETING",
    "SERVICE",
    "UTILITY",
    "WINDOW_CLOSED",
    "ContactSendDecision",
    "can_send",
    "compliance_settings_for",
    "free_form_allowed",
    "window_closes_at",
    "window_open",
]
