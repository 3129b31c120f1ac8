"""can_send: categories × consent states, authentication on request, US marketing, quiet hours in
the contact's (or the workspace's) time zone, and the marketing frequency cap — refusals and
deferrals with the moment to retry."""

from datetime import UTC, datetime, time, timedelta

import pytest

from aerostic.core.tenant_context import tenant_context
from aerostic.testsupport.webhooks import deliver_webhook
from compliance.consent import consent_record
from compliance.policy import can_send, compliance_settings_for
from contacts.models import Contact
from contacts.services import contact_create, contact_update
from whatsapp.models import MessageTemplate

pytestmark = pytest.mark.django_db

# 11:30 in India (UTC+05:30), 08:00 in São Paulo (UTC-03:00): outside the default quiet hours in
# India, inside them in São Paulo.
MIDDAY_IN_INDIA = datetime(2025, 6, 2, 6, 0, tzinfo=UTC)
INDIAN_NUMBER = "+919812345621"


def _contact(workspace, phone: str = INDIAN_NUMBER, consent: str | None = None, **fields) -> Contact:
    with tenant_context(workspace.tenant):
        contact = contact_create(phone=phone, actor=workspace.admin.user, **fields)
        if consent:
            consent_record(
                contact=contact, kind=consent, source="form", occurred_at=MIDDAY_IN_INDIA - timedelta(days=30)
            )
        return contact


def _can_send(workspace, contact, category, at=MIDDAY_IN_INDIA, **kwargs):
    with tenant_context(workspace.tenant):
        return can_send(Contact.objects.get(pk=contact.pk), category, at, **kwargs)


MATRIX = [
    # consent, category, allowed
    (None, "MARKETING", False),
    ("opt_in", "MARKETING", True),
    ("opt_out", "MARKETING", False),
    (None, "UTILITY", True),
    ("opt_in", "UTILITY", True),
    ("opt_out", "UTILITY", False),
    (None, "AUTHENTICATION", True),
    ("opt_in", "AUTHENTICATION", True),
    ("opt_out", "AUTHENTICATION", False),
]


@pytest.mark.parametrize(
    ("consent", "category", "allowed"), MATRIX, ids=[f"{c or 'unknown'}-{cat.lower()}" for c, cat, _ in MATRIX]
)
def test_categories_by_consent_state(alpha, consent, category, allowed):
    contact = _contact(alpha, consent=consent)
    decision = _can_send(alpha, contact, category)
    assert decision.allowed is allowed, decision.reason
    assert decision.send_after is None
    assert decision.reason


def test_no_consent_no_marketing(alpha):
    decision = _can_send(alpha, _contact(alpha), "MARKETING")
    assert not decision.allowed and "no consent" in decision.reason.lower()


def test_opted_out_contact_gets_a_code_they_asked_for(alpha):
    contact = _contact(alpha, consent="opt_out")
    assert _can_send(alpha, contact, "AUTHENTICATION", authentication_requested=True).allowed
    assert not _can_send(alpha, contact, "AUTHENTICATION").allowed


def test_utility_to_opted_out_contacts_when_the_workspace_allows_it(alpha):
    contact = _contact(alpha, consent="opt_out")
    with tenant_context(alpha.tenant):
        settings = compliance_settings_for(alpha.tenant.pk)
        settings.block_utility_when_opted_out = False
        settings.save()
    assert _can_send(alpha, contact, "UTILITY").allowed
    assert not _can_send(alpha, contact, "MARKETING").allowed


def test_erased_contact_gets_nothing(alpha):
    contact = _contact(alpha, consent="opt_in")
    with tenant_context(alpha.tenant):
        Contact.objects.filter(pk=contact.pk).update(erased_at=MIDDAY_IN_INDIA)
    for category in ("MARKETING", "UTILITY", "AUTHENTICATION", "SERVICE"):
        decision = _can_send(alpha, contact, category, authentication_requested=True)
        assert not decision.allowed and "erased" in decision.reason


def test_unknown_category_is_a_programming_error(alpha):
    with pytest.raises(ValueError):
        _can_send(alpha, _contact(alpha), "PROMOTION")


def test_category_is_case_insensitive(alpha):
    assert _can_send(alpha, _contact(alpha, consent="opt_in"), "marketing").allowed


def test_us_numbers_get_no_marketing_templates_since_april_2025(alpha):
    contact = _contact(alpha, phone="+14155552671", consent="opt_in")
    decision = _can_send(alpha, contact, "MARKETING", at=datetime(2025, 6, 2, 18, 0, tzinfo=UTC))
    assert not decision.allowed and decision.send_after is None
    assert "US" in decision.reason and "1 April 2025" in decision.reason
    # Before Meta stopped, the same send was fine; utility messages still are.
    assert _can_send(alpha, contact, "MARKETING", at=datetime(2025, 3, 31, 18, 0, tzinfo=UTC)).allowed
    assert _can_send(alpha, contact, "UTILITY", at=datetime(2025, 6, 2, 18, 0, tzinfo=UTC)).allowed


def test_canadian_numbers_share_plus_one_but_still_get_marketing(alpha):
    contact = _contact(alpha, phone="+16135550123", consent="opt_in", timezone_name="America/Toronto")
    assert _can_send(alpha, contact, "MARKETING", at=datetime(2025, 6, 2, 18, 0, tzinfo=UTC)).allowed


QUIET = [
    # UTC moment, India local time, deferred until (UTC)
    (datetime(2025, 6, 2, 16, 0, tzinfo=UTC), "21:30 same evening", datetime(2025, 6, 3, 3, 30, tzinfo=UTC)),
    (datetime(2025, 6, 2, 20, 0, tzinfo=UTC), "01:30 after midnight", datetime(2025, 6, 3, 3, 30, tzinfo=UTC)),
    (datetime(2025, 6, 2, 3, 0, tzinfo=UTC), "08:30 early morning", datetime(2025, 6, 2, 3, 30, tzinfo=UTC)),
]


@pytest.mark.parametrize(("at", "local", "until"), QUIET, ids=[local for _, local, _ in QUIET])
def test_marketing_in_quiet_hours_is_deferred_to_their_end_in_the_contacts_zone(alpha, at, local, until):
    contact = _contact(alpha, consent="opt_in")
    assert contact.timezone in ("Asia/Calcutta", "Asia/Kolkata")
    decision = _can_send(alpha, contact, "MARKETING", at=at)
    assert (decision.allowed, decision.send_after) == (False, until)
    assert decision.is_deferred and "deferred" in decision.reason.lower() and "quiet hours" in decision.reason


def test_quiet_hours_end_is_allowed(alpha):
    contact = _contact(alpha, consent="opt_in")
    assert _can_send(alpha, contact, "MARKETING", at=datetime(2025, 6, 2, 3, 30, tzinfo=UTC)).allowed  # 09:00


def test_quiet_hours_apply_to_the_workspaces_categories_only(alpha):
    contact = _contact(alpha, consent="opt_in")
    night = datetime(2025, 6, 2, 20, 0, tzinfo=UTC)
    assert _can_send(alpha, contact, "UTILITY", at=night).allowed
    with tenant_context(alpha.tenant):
        settings = compliance_settings_for(alpha.tenant.pk)
        settings.quiet_hours_categories = ["MARKETING", "UTILITY"]
        settings.save()
    assert _can_send(alpha, contact, "UTILITY", at=night).is_deferred
    with tenant_context(alpha.tenant):
        settings.quiet_hours_enabled = False
        settings.save()
    assert _can_send(alpha, contact, "MARKETING", at=night).allowed


def test_quiet_hours_within_one_day(alpha):
    contact = _contact(alpha, consent="opt_in")
    with tenant_context(alpha.tenant):
        settings = compliance_settings_for(alpha.tenant.pk)
        settings.quiet_hours_start, settings.quiet_hours_end = time(13, 0), time(15, 0)
        settings.save()
    lunch = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)  # 13:30 in India
    assert _can_send(alpha, contact, "MARKETING", at=lunch).send_after == datetime(2025, 6, 2, 9, 30, tzinfo=UTC)
    assert _can_send(alpha, contact, "MARKETING", at=datetime(2025, 6, 2, 16, 0, tzinfo=UTC)).allowed  # 21:30


def test_contact_without_a_time_zone_uses_the_workspaces(alpha):
    alpha.tenant.timezone = "America/Sao_Paulo"
    alpha.tenant.save()
    contact = _contact(alpha, consent="opt_in")
    with tenant_context(alpha.tenant):
        contact_update(contact=contact, actor=alpha.admin.user, timezone_name="")
    # 06:00 UTC is 03:00 in São Paulo: quiet until 09:00 there (12:00 UTC).
    decision = _can_send(alpha, contact, "MARKETING", at=MIDDAY_IN_INDIA)
    assert decision.send_after == datetime(2025, 6, 2, 12, 0, tzinfo=UTC)


def test_service_messages_ignore_consent_and_follow_the_window(alpha):
    contact = _contact(alpha, consent="opt_out")
    decision = _can_send(alpha, contact, "SERVICE")
    assert not decision.allowed and "24-hour" in decision.reason


# --- The frequency cap counts marketing messages stored in the inbox (a real conversation, fed by
# webhooks as Meta sends them).


def _deliver(phone, field: str, value: dict) -> None:
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": phone.phone_number_id}, **value}
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": phone.account.waba_id, "changes": [{"value": value, "field": field}]}],
    }
    assert deliver_webhook(payload).status == "processed"


def _outbound(phone, wamid: str, at: datetime, *, pricing: str = "marketing", template: str = "") -> None:
    """A message the business sent (an echo), then Meta's `sent` status with its pricing."""
    message = {"from": "15550100100", "to": INDIAN_NUMBER[1:], "id": wamid, "timestamp": str(int(at.timestamp()))}
    if template:
        message.update(type="template", template={"name": template, "language": {"code": "en"}})
    else:
        message.update(type="text", text={"body": "Our summer sale"})
    _deliver(phone, "smb_message_echoes", {"message_echoes": [message]})
    if pricing:
        status = {"id": wamid, "status": "sent", "timestamp": str(int(at.timestamp()))}
        status.update(recipient_id=INDIAN_NUMBER[1:], pricing={"billable": True, "category": pricing})
        _deliver(phone, "messages", {"statuses": [status]})


@pytest.fixture
def customer(phone, alpha):
    """An opted-in contact who wrote to us once (their conversation is linked to the contact)."""
    inbound = {"from": INDIAN_NUMBER[1:], "id": "wamid.hello", "timestamp": "1740000000", "type": "text"}
    inbound["text"] = {"body": "Hello"}
    _deliver(phone, "messages", {"messages": [inbound]})
    with tenant_context(alpha.tenant):
        contact = Contact.objects.get()
        consent_record(contact=contact, kind="opt_in", source="form", occurred_at=MIDDAY_IN_INDIA - timedelta(days=30))
        assert contact.conversations.count() == 1
    return contact


def test_frequency_cap_defers_until_the_oldest_counted_message_leaves_the_window(alpha, phone, customer):
    _outbound(phone, "wamid.m1", MIDDAY_IN_INDIA - timedelta(days=3))
    _outbound(phone, "wamid.m2", MIDDAY_IN_INDIA - timedelta(days=1))
    decision = _can_send(alpha, customer, "MARKETING")
    assert not decision.allowed
    assert decision.send_after == MIDDAY_IN_INDIA - timedelta(days=3) + timedelta(days=7)
    assert "frequency cap" in decision.reason and "deferred" in decision.reason.lower()


def test_frequency_cap_counts_marketing_only_within_the_period(alpha, phone, customer):
    _outbound(phone, "wamid.old", MIDDAY_IN_INDIA - timedelta(days=8))
    _outbound(phone, "wamid.util", MIDDAY_IN_INDIA - timedelta(days=2), pricing="utility")
    _outbound(phone, "wamid.m1", MIDDAY_IN_INDIA - timedelta(days=1))
    assert _can_send(alpha, customer, "MARKETING").allowed
    assert _can_send(alpha, customer, "UTILITY").allowed


def test_frequency_cap_counts_marketing_templates_before_meta_prices_them(alpha, phone, customer):
    with tenant_context(alpha.tenant):
        MessageTemplate.objects.create(
            tenant_id=alpha.tenant.pk,
            account=phone.account,
            name="summer_sale",
            language="en",
            category="MARKETING",
            status="APPROVED",
        )
    _outbound(phone, "wamid.t1", MIDDAY_IN_INDIA - timedelta(days=2), pricing="", template="summer_sale")
    _outbound(phone, "wamid.t2", MIDDAY_IN_INDIA - timedelta(days=1), pricing="", template="order_update")
    assert _can_send(alpha, customer, "MARKETING").allowed  # one marketing message so far
    _outbound(phone, "wamid.t3", MIDDAY_IN_INDIA - timedelta(hours=2), pricing="", template="summer_sale")
    assert _can_send(alpha, customer, "MARKETING").send_after == MIDDAY_IN_INDIA - timedelta(days=2) + timedelta(days=7)


def test_a_cap_deferral_that_lands_in_quiet_hours_waits_for_the_morning(alpha, phone, customer):
    # The oldest counted message was sent at 23:00 in India: it leaves the window at night.
    night = datetime(2025, 5, 30, 17, 30, tzinfo=UTC)
    _outbound(phone, "wamid.n1", night)
    _outbound(phone, "wamid.n2", MIDDAY_IN_INDIA - timedelta(hours=1))
    decision = _can_send(alpha, customer, "MARKETING")
    assert decision.send_after == datetime(2025, 6, 7, 3, 30, tzinfo=UTC)  # 09:00 the next morning
    assert "quiet hours" in decision.reason and "frequency cap" in decision.reason


def test_no_cap_when_the_workspace_sets_zero(alpha, phone, customer):
    for n in range(3):
        _outbound(phone, f"wamid.z{n}", MIDDAY_IN_INDIA - timedelta(hours=n + 1))
    with tenant_context(alpha.tenant):
        settings = compliance_settings_for(alpha.tenant.pk)
        settings.marketing_cap_messages = 0
        settings.save()
    assert _can_send(alpha, customer, "MARKETING").allowed
