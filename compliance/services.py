"""Compliance writes: the kill-switches (every flip audited in the same transaction; what resumes
when one comes back on registers with `on_sending_resumed`), and the consent signals that arrive
with WhatsApp traffic — STOP / START keywords, Meta's `user_preferences` and its 131050 refusals —
turned into consent ledger events (conversations read through compliance.conversations)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from aerostic.core import audit
from aerostic.core.errors import DomainError
from aerostic.core.tenant_context import require_tenant_id, tenant_context
from aerostic.core.values import digits, error_codes, meta_time
from compliance import conversations
from compliance.consent import ConsentChange, consent_events_record, consent_record
from compliance.keywords import MAX_KEYWORD_MESSAGE_LENGTH, OPT_IN, OPT_OUT, Match, match_keyword
from compliance.models import ComplianceSettings, ConsentEvent, PlatformSwitch, UserPreferenceEvent
from compliance.policy import compliance_settings_for
from contacts.models import Contact
from contacts.phones import customer_index
from contacts.selectors import contact_for_number
from tenants.models import Tenant

logger = logging.getLogger(__name__)

# Meta refused a marketing message because the customer stopped marketing from this business.
USER_STOPPED_MARKETING_ERROR = 131050


@transaction.atomic
def platform_sending_set(*, enabled: bool, reason: str, actor: Any, request: Any = None) -> PlatformSwitch:
    if not enabled and not reason.strip():
        raise ValidationError({"reason": "Say why sending is being stopped."})
    switch, _ = PlatformSwitch.objects.select_for_update().get_or_create(pk=PlatformSwitch.SINGLETON_ID)
    previous = switch.sending_enabled
    switch.sending_enabled = enabled
    switch.reason = reason.strip()
    switch.changed_by = actor if getattr(actor, "is_authenticated", False) else None
    switch.save()
    audit.record(
        "killswitch.platform_" + ("on" if enabled else "off"),
        actor=actor,
        request=request,
        metadata={"previous": previous, "reason": switch.reason},
    )
    if enabled and not previous:
        _sending_resumed(tenant_id=None)
    return switch


# What resumes when a kill-switch comes back on: registered by the apps above compliance from their
# AppConfig.ready() (campaigns wakes its held batches); compliance never names them (DESIGN.md §1).
_ON_SENDING_RESUMED: list[Callable[..., None]] = []


def on_sending_resumed(handler: Callable[..., None]) -> None:
    """`handler(*, tenant_id)` runs inside the flip's transaction when sending is turned back on:
    `tenant_id` None for the platform switch, the workspace's id for its own (enqueue after commit)."""
    if handler not in _ON_SENDING_RESUMED:  # an app's ready() run again registers nothing twice
        _ON_SENDING_RESUMED.append(handler)


def _sending_resumed(*, tenant_id: int | None) -> None:
    for handler in _ON_SENDING_RESUMED:
        handler(tenant_id=tenant_id)


@transaction.atomic
def tenant_sending_set(*, tenant: Any, enabled: bool, reason: str, actor: Any, request: Any = None) -> Any:
    if not enabled and not reason.strip():
        raise ValidationError({"sending_disabled_reason": "Say why sending is being stopped."})
    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    previous = locked.sending_enabled
    locked.sending_enabled = enabled
    locked.sending_disabled_reason = "" if enabled else reason.strip()
    locked.save(update_fields=["sending_enabled", "sending_disabled_reason", "updated_at"])
    audit.record(
        "killswitch.tenant_" + ("on" if enabled else "off"),
        actor=actor,
        tenant=locked,
        target=locked,
        request=request,
        metadata={"previous": previous, "reason": locked.sending_disabled_reason},
    )
    tenant.sending_enabled = locked.sending_enabled
    tenant.sending_disabled_reason = locked.sending_disabled_reason
    if enabled and not previous:
        _sending_resumed(tenant_id=locked.pk)
    return locked


def user_preference_record(*, phone: Any, preference: dict[str, Any]) -> UserPreferenceEvent | None:
    """Keeps one `user_preferences` item; None when it was already kept (a re-delivery) or names
    no customer. Runs inside the tenant's context (webhook processing)."""
    wa_id = digits(preference.get("wa_id"))
    index = customer_index(tenant=phone.tenant_id, wa_id=wa_id, user_id=preference.get("user_id", ""))
    value = str(preference.get("value") or "").lower()
    if not index or not value:
        return None
    occurred_at = meta_time(preference.get("timestamp")) or datetime.now(tz=UTC)
    try:
        with transaction.atomic():
            return UserPreferenceEvent.objects.create(
                tenant_id=phone.tenant_id,
                phone_number=phone,
                customer_wa_id=wa_id,
                customer_index=index,
                category=str(preference.get("category") or "")[:64],
                value=value[:16],
                detail=str(preference.get("detail") or "")[:255],
                occurred_at=occurred_at,
            )
    except IntegrityError:
        return None


# --- Consent signals from WhatsApp traffic. All run inside the tenant's context (webhook
# processing, or a job that entered it) and are idempotent through the ledger's dedupe keys.


def _contact_for_wa_id(wa_id: Any) -> Contact | None:
    """The contact with this WhatsApp number, if there is one (never created here)."""
    return contact_for_number(digits(wa_id))


def _keyword_text(payload: dict[str, Any]) -> str:
    """What the customer said in words: a text, a template quick-reply button, a reply button."""
    kind = payload.get("type")
    content = payload.get(kind) if isinstance(kind, str) else None
    if not isinstance(content, dict):
        return ""
    if kind == "text":
        return str(content.get("body") or "")
    if kind == "button":  # a template's quick-reply button (Meta's "Stop promotions" among them)
        return str(content.get("text") or "")
    if kind == "interactive" and isinstance(content.get("button_reply"), dict):
        return str(content["button_reply"].get("title") or "")
    return ""


def keyword_apply(*, message: Any) -> ConsentEvent | None:
    """An inbound message that is, as a whole, an opt-out or opt-in keyword (built-in or the
    workspace's) becomes a consent event of source "keyword" dated when the customer sent it.
    None when it is no keyword, the sender has no contact, or the message was already counted.
    `message` is the inbox's Message (direction, type, payload, wamid, conversation_id, created_at).

    The confirmation reply (`keyword_confirmation`) is not sent here: every send goes through the
    dispatcher, which sends it as a service message (the customer's keyword opened the window)."""
    return keyword_apply_many(messages=[message])[0]


def keyword_apply_many(*, messages: list[Any]) -> list[ConsentEvent | None]:
    """keyword_apply for each message (the events by position, each naming its contact), reading
    each workspace's settings once, and only when a message is short enough to be a keyword; the
    senders of the keywords found are read in one query and their events appended in one INSERT.
    The ledger's dedupe key (the wamid) keeps one event per keyword message however often it is
    seen, within the call too."""
    found: dict[int, tuple[Match, str]] = {}  # position: (kind, text)
    rules: dict[int, ComplianceSettings] = {}
    for position, message in enumerate(messages):
        if message.direction != conversations.INBOUND:
            continue
        text = _keyword_text(message.payload or {})
        if not text or len(text) > MAX_KEYWORD_MESSAGE_LENGTH * 4:  # most messages: no settings read
            continue
        if message.tenant_id not in rules:
            rules[message.tenant_id] = compliance_settings_for(message.tenant_id)
        settings = rules[message.tenant_id]
        kind = match_keyword(
            text,
            extra_opt_out=settings.extra_opt_out_words,
            extra_opt_in=settings.extra_opt_in_words,
            from_button=message.type != "text",
        )
        if kind is not None:
            found[position] = (kind, text)
    events: list[ConsentEvent | None] = [None] * len(messages)
    if not found:
        return events
    # From the database, not the messages' conversation objects: the link as it is now, and one
    # query however the messages were loaded.
    senders = conversations.lookups().contacts_of_conversations(
        {messages[position].conversation_id for position in found}
    )
    contacts = {contact.pk: contact for contact in senders.values() if contact is not None}
    changes: dict[int, ConsentChange] = {}
    for position, (matched, text) in found.items():
        message, contact = messages[position], senders.get(messages[position].conversation_id)
        if contact is None:
            continue
        changes[position] = ConsentChange(
            contact_id=contact.pk,
            kind=ConsentEvent.Kind.OPT_OUT if matched == OPT_OUT else ConsentEvent.Kind.OPT_IN,
            source=ConsentEvent.Source.KEYWORD,
            evidence=f'Sent "{text.strip()}" on WhatsApp',
            occurred_at=message.created_at,
            dedupe_key=f"keyword:{message.wamid}",
        )
    recorded = {
        (event.contact_id, event.dedupe_key): event
        for event in consent_events_record(changes.values(), contacts=contacts)
    }
    for position, change in changes.items():
        # popped: a message given twice is counted once, at its first position
        event = recorded.pop((change.contact_id, change.dedupe_key[:128]), None)
        if event is not None:
            events[position] = event
            logger.info("consent keyword recorded", extra={"contact_id": change.contact_id, "kind": event.kind})
    return events


def keyword_confirmation(contact: Contact, kind: str) -> str:
    """The workspace's reply to a keyword ("" when it chose not to reply).

    The outbound dispatcher sends it right after `keyword_apply` records the event, as a free-form
    service message; nothing in this module sends messages."""
    settings = compliance_settings_for(contact.tenant_id)
    if kind == OPT_OUT:
        return settings.opt_out_reply
    if kind == OPT_IN:
        return settings.opt_in_reply
    raise ValueError(f"unknown consent kind {kind!r}")


# Meta's `user_preferences` values for the marketing category, as consent kinds.
_PREFERENCE_KIND = {"stop": ConsentEvent.Kind.OPT_OUT, "resume": ConsentEvent.Kind.OPT_IN}
_PREFERENCE_EVIDENCE = {
    "stop": "Stopped marketing messages in WhatsApp (Meta's user preference)",
    "resume": "Resumed marketing messages in WhatsApp (Meta's user preference)",
}
MARKETING_PREFERENCE_CATEGORY = "marketing_messages"


@transaction.atomic
def user_preference_apply(*, preference: UserPreferenceEvent) -> bool:
    """Takes one `user_preferences` row into the consent ledger and marks it applied. A row of
    another category or value is marked applied with no event (there is nothing to take in). A
    row whose customer has no contact yet stays pending: `user_preferences_apply_pending` picks it
    up once the contact exists. True when the row is now applied."""
    kind = _PREFERENCE_KIND.get(preference.value) if preference.category == MARKETING_PREFERENCE_CATEGORY else None
    if kind is not None:
        contact = _contact_for_wa_id(preference.customer_wa_id.reveal() if preference.customer_wa_id else "")
        if contact is None:  # a user behind a username: their conversation knows the contact
            contact = conversations.lookups().contact_of_customer(preference.customer_index)
        if contact is None:
            return False
        detail = f": {preference.detail}" if preference.detail else ""
        consent_record(
            contact=contact,
            kind=kind,
            source=ConsentEvent.Source.META_PREFERENCE,
            evidence=f"{_PREFERENCE_EVIDENCE[preference.value]}{detail}",
            occurred_at=preference.occurred_at,
            dedupe_key=f"meta_preference:{preference.pk}",
        )
    now = timezone.now()
    UserPreferenceEvent.objects.filter(pk=preference.pk, applied_at__isnull=True).update(applied_at=now)
    preference.applied_at = preference.applied_at or now
    return True


def user_preferences_apply_pending(*, tenant_id: int | None = None, limit: int = 1000) -> int:
    """Applies the tenant's unapplied `user_preferences` rows, oldest first (rows stored before the
    ledger existed, or whose contact appeared since). Safe to run from a job and to run twice at
    once: each row is applied in its own transaction and the ledger's dedupe key counts it once.
    Takes `tenant_id` (a job's argument) or uses the current tenant. Returns how many were applied."""
    if tenant_id is not None:
        with tenant_context(tenant_id):
            return user_preferences_apply_pending(limit=limit)
    require_tenant_id()
    pending = UserPreferenceEvent.objects.filter(applied_at__isnull=True).order_by("occurred_at", "pk")[:limit]
    return sum(user_preference_apply(preference=preference) for preference in pending)


def marketing_refusal_apply(*, status: dict[str, Any]) -> ConsentEvent | None:
    """A failed status with Meta's 131050 ("user stopped marketing messages") is the customer's
    opt-out, told to us by Meta: recorded once per message (source "meta_error"). None for any
    other status, an unknown recipient, or a re-delivery."""
    if str(status.get("status") or "") != "failed":
        return None
    if USER_STOPPED_MARKETING_ERROR not in error_codes(status.get("errors")):
        return None
    wamid = str(status.get("id") or "")
    contact = _contact_for_wa_id(status.get("recipient_id")) if status.get("recipient_id") else None
    if contact is None and wamid:  # users behind a username: the message's conversation knows them
        contact = conversations.lookups().contact_of_wamid(wamid)
    if contact is None:
        return None
    return consent_record(
        contact=contact,
        kind=ConsentEvent.Kind.OPT_OUT,
        source=ConsentEvent.Source.META_ERROR,
        evidence="Meta refused a marketing message: the customer stopped marketing messages (error 131050)",
        occurred_at=meta_time(status.get("timestamp")) or timezone.now(),
        dedupe_key=f"meta131050:{wamid}",
    )


_SETTINGS_FIELDS = (
    "extra_opt_out_words",
    "extra_opt_in_words",
    "opt_out_reply",
    "opt_in_reply",
    "block_utility_when_opted_out",
    "quiet_hours_enabled",
    "quiet_hours_start",
    "quiet_hours_end",
    "quiet_hours_categories",
    "marketing_cap_messages",
    "marketing_cap_days",
    "message_retention_days",
)
_CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")


@transaction.atomic
def compliance_settings_update(*, actor: Any, request: Any = None, **values: Any) -> Any:
    """Changes the given settings of the current workspace (unknown names refused), audited."""
    unknown = set(values) - set(_SETTINGS_FIELDS)
    if unknown:
        raise DomainError(f"Unknown setting(s): {', '.join(sorted(unknown))}.")
    row = compliance_settings_for(require_tenant_id())
    for key in ("extra_opt_out_words", "extra_opt_in_words"):
        if key in values:
            words = [" ".join(str(word).split()) for word in values[key] or []]
            words = [word for word in words if word]
            if any(len(word) > 64 for word in words) or len(words) > 100:
                raise DomainError("Keywords: at most 100 words of at most 64 characters.")
            overlap = {match_keyword(word) for word in words} - {None}
            if key == "extra_opt_in_words" and OPT_OUT in overlap:
                raise DomainError("An opt-in word may not be an opt-out word too.")
            values[key] = words
    if "quiet_hours_categories" in values:
        categories = [str(category).upper() for category in values["quiet_hours_categories"] or []]
        if any(category not in _CATEGORIES for category in categories):
            raise DomainError(f"Quiet hours apply to {', '.join(_CATEGORIES)} only.")
        values["quiet_hours_categories"] = categories
    for key in ("opt_out_reply", "opt_in_reply"):
        if key in values and len(values[key] or "") > 1024:
            raise DomainError("A reply has at most 1,024 characters.")
    if values.get("marketing_cap_days") is not None and values["marketing_cap_days"] < 1:
        raise DomainError("The frequency cap period is at least one day.")
    changed = sorted(key for key, value in values.items() if getattr(row, key) != value)
    for key, value in values.items():
        setattr(row, key, value)
    row.save()
    audit.record(
        "compliance.settings_update",
        actor=actor,
        tenant=row.tenant_id,
        target=row,
        request=request,
        metadata={"fields": changed},
    )
    return row
