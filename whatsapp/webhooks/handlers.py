"""What each webhook `field` does. Tenant handlers run inside the routed tenant's context and are
idempotent (a re-delivered webhook changes nothing twice)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aerostic.core.alerts import raise_alert, resolve_alert
from aerostic.core.values import digits
from compliance import services as compliance
from contacts import services as contacts
from whatsapp import dispatch, fanout
from whatsapp.message_templates import services as templates
from whatsapp.models import PhoneNumber, WhatsAppAccount
from whatsapp.sending.ledger import status_settle_many

# Fields stored and acknowledged now, processed by the parts of the product that arrive later; a
# replay from Django admin re-runs them once their handler exists (events are kept 30 days).
NOT_YET_HANDLED: dict[str, str] = {}


def _phone_of(target: Any, value: dict[str, Any]) -> PhoneNumber | None:
    if target.phone is not None:
        return target.phone
    wanted = digits(value.get("display_phone_number"))
    for phone in PhoneNumber.objects.filter(account=target.account, is_active=True):
        if digits(phone.display_phone_number) == wanted:
            return phone
    return None


QUALITY_EVENTS = {"FLAGGED": "RED", "UNFLAGGED": "GREEN"}
TIER_ORDER = ["TIER_50", "TIER_250", "TIER_1K", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED"]


def phone_number_quality_update(target: Any, value: dict[str, Any]) -> dict[str, Any]:
    phone = _phone_of(target, value)
    if phone is None:
        return {"result": "ignored", "reason": "number not found in the account"}
    event = str(value.get("event", ""))
    changed = []
    if event in QUALITY_EVENTS and phone.quality_rating != QUALITY_EVENTS[event]:
        phone.quality_rating = QUALITY_EVENTS[event]
        changed.append("quality_rating")
    limit = str(value.get("current_limit") or value.get("old_limit") and value.get("current_limit") or "")
    if limit and limit != phone.messaging_limit_tier:
        downgrade = (
            phone.messaging_limit_tier in TIER_ORDER
            and limit in TIER_ORDER
            and TIER_ORDER.index(limit) < TIER_ORDER.index(phone.messaging_limit_tier)
        )
        phone.messaging_limit_tier = limit
        changed.append("messaging_limit_tier")
        if downgrade:
            raise_alert(
                tenant=phone.tenant_id, key=f"tier:{phone.pk}", title=f"{phone}: messaging limit lowered to {limit}"
            )
        else:  # raised again: the lowered limit is behind it
            resolve_alert(tenant=phone.tenant_id, key=f"tier:{phone.pk}")
    if changed:
        phone.save(update_fields=changed)
    key = f"quality:{phone.pk}"
    if event == "FLAGGED":
        raise_alert(
            tenant=phone.tenant_id,
            key=key,
            level="critical",
            title=f"{phone}: quality rating is low (flagged by Meta)",
            detail="Sending to new customers may be limited. Review what you send and to whom.",
        )
    elif event == "UNFLAGGED":
        resolve_alert(tenant=phone.tenant_id, key=key)
    return {"result": "processed", "event": event, "changed": changed}


def phone_number_name_update(target: Any, value: dict[str, Any]) -> dict[str, Any]:
    phone = _phone_of(target, value)
    if phone is None:
        return {"result": "ignored", "reason": "number not found in the account"}
    decision = str(value.get("decision", ""))
    phone.name_status = decision or phone.name_status
    if decision == "APPROVED" and value.get("requested_verified_name"):
        phone.verified_name = str(value["requested_verified_name"])[:200]
    phone.save(update_fields=["name_status", "verified_name"])
    if decision == "REJECTED":
        raise_alert(
            tenant=phone.tenant_id,
            key=f"name:{phone.pk}",
            title=f"{phone}: display name rejected",
            detail=str(value.get("rejection_reason") or "See WhatsApp Manager for the reason."),
        )
    return {"result": "processed", "decision": decision}


DANGEROUS_ACCOUNT_EVENTS = {
    "ACCOUNT_VIOLATION",
    "DISABLED_UPDATE",
    "ACCOUNT_RESTRICTION",
    "PARTNER_REMOVED",
    "PARTNER_APP_UNINSTALLED",
    "ACCOUNT_DELETED",
}


def account_update(target: Any, value: dict[str, Any]) -> dict[str, Any]:
    account = target.account
    event = str(value.get("event", ""))
    if event in DANGEROUS_ACCOUNT_EVENTS:
        detail = str(value.get("violation_info") or value.get("ban_info") or value.get("restriction_info") or "")[:500]
        account.status = WhatsAppAccount.Status.NEEDS_ATTENTION
        account.status_detail = f"Meta: {event}"[:255]
        account.save(update_fields=["status", "status_detail"])
        raise_alert(
            tenant=account.tenant_id,
            key=f"account:{account.pk}:{event}",
            level="critical",
            title=f"{account}: {event.replace('_', ' ').lower()}",
            detail=detail,
        )
    return {"result": "processed", "event": event}


def account_alerts(target: Any, value: dict[str, Any]) -> dict[str, Any]:
    info = value.get("alert_info") or value
    raise_alert(
        tenant=target.tenant_id,
        key=f"meta-alert:{info.get('alert_type', 'unknown')}",
        level="critical" if str(info.get("alert_severity", "")).upper() == "CRITICAL" else "warning",
        title=f"Meta: {str(info.get('alert_type', 'account alert')).replace('_', ' ').lower()}",
        detail=str(info.get("alert_description", ""))[:500],
    )
    return {"result": "processed"}


@dataclass
class MessagesChange:
    """One `messages` change read from its payload, applied later together with the other changes
    of its number in the same batch (`messages_apply`); `outcome` is filled in then."""

    inbound: list[tuple[dict[str, Any], str]]  # (Meta's message object, the sender's profile name)
    statuses: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    outcome: dict[str, Any] = field(default_factory=dict)


def messages_collect(value: dict[str, Any]) -> MessagesChange:
    """What a `messages` change carries: each inbound message with its sender's profile name (from
    the change's `contacts`), the statuses and the change-level errors. Reads only the payload."""
    names: dict[str, str] = {}
    for contact in value.get("contacts") or []:
        if isinstance(contact, dict):
            name = str((contact.get("profile") or {}).get("name", ""))
            for key in (contact.get("wa_id"), contact.get("user_id")):
                if key:
                    names[str(key)] = name
    inbound = []
    for message in value.get("messages") or []:
        if isinstance(message, dict):
            sender = str(message.get("from") or message.get("from_user_id") or "")
            inbound.append((message, names.get(sender, "")))
    return MessagesChange(
        inbound=inbound,
        statuses=[status for status in value.get("statuses") or [] if isinstance(status, dict)],
        errors=[error for error in value.get("errors") or [] if isinstance(error, dict)],
    )


def messages(target: Any, value: dict[str, Any]) -> dict[str, Any]:
    """Inbound messages (every type, stored as Meta sent them), statuses of outbound ones, and
    value-level errors (Meta reports some failures for the whole change, with no message). A new
    inbound message that is a STOP / START keyword, and a 131050 failure ("user stopped marketing"),
    become consent events; a 131047 failure closes the service window (the message store)."""
    if target.phone is None:
        return {"result": "ignored", "reason": "no phone number in the metadata"}
    change = messages_collect(value)
    messages_apply(target.phone, [change])
    return change.outcome


def messages_apply(phone: PhoneNumber, changes: list[MessagesChange]) -> None:
    """Every `messages` change of one number in a batch, together: inbound messages stored in one
    go, then every status fanned out once to each consumer, each applying all of them in a few
    statements (inside the number's tenant context and the batch's transaction)."""
    stored_by_change = _inbound_apply(phone, changes)
    statuses = [status for change in changes for status in change.statuses]
    outcomes = _statuses_apply(phone, statuses) if statuses else []
    position = 0
    for change, (stored, duplicates, consent) in zip(changes, stored_by_change, strict=True):
        counts: dict[str, int] = {}
        for status_outcome, refused in outcomes[position : position + len(change.statuses)]:
            counts[status_outcome] = counts.get(status_outcome, 0) + 1
            consent += refused
        position += len(change.statuses)
        outcome: dict[str, Any] = {
            "result": "processed",
            "stored": stored,
            "duplicates": duplicates,
            "statuses": counts,
        }
        if consent:
            outcome["consent_events"] = consent
        if change.errors:
            outcome["errors"] = [{"code": e.get("code"), "title": str(e.get("title", ""))[:255]} for e in change.errors]
        change.outcome.update(outcome)


def _inbound_apply(phone: PhoneNumber, changes: list[MessagesChange]) -> list[tuple[int, int, int]]:
    """Every inbound message of the changes stored at once, keywords applied at once, each keyword
    confirmed through the dispatcher. (stored, duplicates, consent events) per change."""
    items = [
        fanout.InboundItem(message, profile_name) for change in changes for message, profile_name in change.inbound
    ]
    results = fanout.message_store().inbound_many(phone=phone, items=items) if items else []
    kept = [result for result in results if result is not None]
    events = dict(zip((id(m) for m in kept), compliance.keyword_apply_many(messages=kept), strict=True)) if kept else {}
    counts, position = [], 0
    for change in changes:
        mine = results[position : position + len(change.inbound)]
        position += len(change.inbound)
        stored = [result for result in mine if result is not None]
        consent = 0
        for message in stored:
            event = events.get(id(message))
            if event is not None:
                consent += 1
                _confirm_keyword(phone, message, event)
        counts.append((len(stored), len(mine) - len(stored), consent))
    return counts


def _statuses_apply(phone: PhoneNumber, statuses: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """The one status fan-out: a send whose answer was lost learns its fate (any table), the layers
    above that registered in whatsapp.fanout (campaigns move their rows, billing charges once per
    message or conversation) get the whole list, the message store (inbox, registered there too)
    keeps each status once and moves its message, and a 131050 refusal becomes an opt-out.
    (the store's outcome, consent events) per status."""
    status_settle_many(statuses=statuses)
    fanout.statuses_received(phone=phone, statuses=statuses)
    recorded = fanout.message_store().statuses_many(statuses=statuses)
    results = []
    for status, outcome in zip(statuses, recorded, strict=True):
        refused = outcome != "duplicate" and compliance.marketing_refusal_apply(status=status) is not None
        results.append((outcome, int(refused)))
    return results


def _confirm_keyword(phone: PhoneNumber, message: Any, event: Any) -> None:
    """The workspace's reply to STOP / START, sent through the dispatcher as a service message
    (the keyword itself opened the window); once per keyword message, even when re-delivered."""
    reply = compliance.keyword_confirmation(event.contact, event.kind)
    if not reply.strip():
        return
    dispatch.message_enqueue(
        phone=phone,
        to=event.contact.phone.reveal(),
        content={"type": "text", "text": {"body": reply}},
        category="SERVICE",
        origin="keyword_reply",
        contact=event.contact,
        idempotency_key=f"keyword-reply:{message.wamid}",
    )


def message_echoes(target: Any, value: dict[str, Any]) -> dict[str, Any]:
    """Messages the business sent from the WhatsApp Business app on a shared number."""
    if target.phone is None:
        return {"result": "ignored", "reason": "no phone number in the metadata"}
    echo = fanout.message_store().echo
    stored = sum(
        echo(phone=target.phone, message=m) is not None
        for m in value.get("message_echoes") or []
        if isinstance(m, dict)
    )
    return {"result": "processed", "stored": stored}


def history(target: Any, value: dict[str, Any]) -> dict[str, Any]:
    """History sync of a number shared with the WhatsApp Business app: each thread's messages go
    into its conversation (inbound or outbound by sender); media placeholders are kept as such."""
    if target.phone is None:
        return {"result": "ignored", "reason": "no phone number in the metadata"}
    stored = seen = 0
    declined = []
    history_store = fanout.message_store().history
    for chunk in value.get("history") or []:
        if not isinstance(chunk, dict):
            continue
        for error in chunk.get("errors") or []:  # the business declined to share its history
            if isinstance(error, dict):
                declined.append(error.get("code"))
        for thread in chunk.get("threads") or []:
            if not isinstance(thread, dict):
                continue
            for message in thread.get("messages") or []:
                if isinstance(message, dict):
                    seen += 1
                    stored += (
                        history_store(phone=target.phone, thread_id=str(thread.get("id", "")), message=message)
                        is not None
                    )
    outcome: dict[str, Any] = {"result": "processed", "stored": stored, "duplicates": seen - stored}
    if declined:
        outcome["errors"] = declined
    return outcome


def user_preferences(target: Any, value: dict[str, Any]) -> dict[str, Any]:
    """A customer stopped or resumed marketing messages in WhatsApp itself: kept, then taken into
    the consent ledger (opt-out / opt-in) when the customer is a contact."""
    if target.phone is None:
        return {"result": "ignored", "reason": "no phone number in the metadata"}
    recorded_count = applied = 0
    for item in value.get("user_preferences") or []:
        if not isinstance(item, dict):
            continue
        preference = compliance.user_preference_record(phone=target.phone, preference=item)
        if preference is not None:
            recorded_count += 1
            applied += compliance.user_preference_apply(preference=preference)
    return {"result": "processed", "recorded": recorded_count, "applied": applied}


def app_state_sync(target: Any, value: dict[str, Any]) -> dict[str, Any]:
    """Contacts of a number shared with the WhatsApp Business app, as the app adds, edits or removes
    them. Added and edited ones become (or update) contacts; a removal in the app keeps the contact
    here (it may carry consent history), recorded in the outcome. No consent comes with them."""
    results = {"added": 0, "updated": 0, "kept": 0, "ignored": 0}
    for item in value.get("state_sync") or []:
        if not isinstance(item, dict) or item.get("type") != "contact" or not isinstance(item.get("contact"), dict):
            results["ignored"] += 1
            continue
        action = str(item.get("action") or "").lower()
        if action == "remove":
            results["kept"] += 1
            continue
        person = item["contact"]
        outcome = contacts.contact_from_business_app(
            phone=person.get("phone_number"), name=str(person.get("full_name") or person.get("first_name") or "")
        )
        results[outcome] += 1
    return {"result": "processed", **results}


def _for_account(apply: Any) -> Any:
    """Template updates name the WABA (entry id), not a number: they need the routed account."""

    def handle(target: Any, value: dict[str, Any]) -> dict[str, Any]:
        if target.account is None:
            return {"result": "ignored", "reason": "no WhatsApp account for this WABA"}
        return apply(account=target.account, value=value)

    handle.__name__ = apply.__name__
    return handle


def recorded(target: Any, value: dict[str, Any]) -> dict[str, Any]:
    """Kinds that change nothing we store today (account review, capabilities): kept for the record."""
    return {"result": "processed", "note": "recorded"}


TENANT_HANDLERS = {
    "messages": messages,
    "smb_message_echoes": message_echoes,
    "history": history,
    "message_template_status_update": _for_account(templates.template_status_apply),
    "template_category_update": _for_account(templates.template_category_apply),
    "message_template_quality_update": _for_account(templates.template_quality_apply),
    "message_template_components_update": _for_account(templates.template_components_apply),
    "user_preferences": user_preferences,
    "smb_app_state_sync": app_state_sync,
    "phone_number_quality_update": phone_number_quality_update,
    "phone_number_name_update": phone_number_name_update,
    "account_update": account_update,
    "account_alerts": account_alerts,
    "account_review_update": recorded,
    "business_capability_update": recorded,
}


def partner_app_installed(entry_id: str, value: dict[str, Any]) -> dict[str, Any]:
    """Embedded Signup's callback: match the new WABA to a workspace, or keep it as an orphan.
    Meta sends `waba_info` (waba_id, owner_business_id, partner ids) and nothing of ours."""
    from whatsapp.connections.onboarding import onboarding_match

    info = value.get("waba_info") or {}
    waba_id = str(info.get("waba_id", "") or "")
    if not waba_id:
        return {"result": "ignored", "reason": "no waba_id in waba_info"}
    kind, _ = onboarding_match(
        waba_id=waba_id,
        owner_business_id=str(info.get("owner_business_id", "") or ""),
        source="account_update:PARTNER_APP_INSTALLED",
    )
    return {"result": "processed", "matched": kind}


PLATFORM_HANDLERS = {("account_update", "PARTNER_APP_INSTALLED"): partner_app_installed}
