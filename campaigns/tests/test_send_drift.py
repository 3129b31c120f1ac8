"""The drift test: the two send paths obey one rule chain. For every sending rule, one message to one
contact goes out as a one-off (`whatsapp.dispatch.message_enqueue` → `whatsapp.jobs.send_outbound`)
and as a one-recipient campaign (`campaigns.services.campaign_launch` → `campaigns.jobs.send_batch`);
both must end with the same normalised outcome, for the same reason, in the same words.

Each path runs in a savepoint rolled back afterwards, with Redis flushed and the simulator's faults
cleared, so the second starts from the state the first did (the same contact, number and template).
Only public entry points are used: the jobs above, the services that launch, switch, disconnect,
record consent and apply Meta's template statuses, and `whatsapp.sending.limits` to use up a limit.

Normalised outcomes, read from the stored rows:
- `sent`: Meta took it.
- `skipped`: a rule about the recipient refused it for good (error_detail).
- `held`: still queued, due later, because of the recipient or the limits (hold_reason).
- `retry`: queued again after a retryable Meta error (hold_reason without "Retrying after: ").
- `unknown`: Meta's answer was lost (error_detail).
- `failed`: Meta refused it for good (error_detail).
- `stopped`: the sender stopped (a kill-switch, the number, the template): the campaign is paused, or
  held with "Held: <reason>" as its status_reason, and the recipient stays queued; the one-off is
  skipped or held (not as a retry) while the sender is stopped, or with the Meta code that stopped it.
Side effects a Meta error must have whichever path met it (an opt-out recorded, the workspace paused,
the connection marked for re-authorisation, the number slowed down) are compared too.

Each row names the expected outcome and reason: where the paths word a reason differently, the
one-off's wording is expected unless the campaign's is clearly better (each such row says which).
A row that fails names the path that drifted; do not xfail it, make the paths agree.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any, NamedTuple

import django_rq
import pytest
from django.db import transaction
from django.utils import timezone

from aerostic.core.tenant_context import tenant_context
from aerostic.testsupport.webhooks import deliver_webhook
from campaigns.jobs import send_batch
from campaigns.models import Campaign, CampaignMessage
from campaigns.services import campaign_create, campaign_launch
from campaigns.tests.support import approved_template, sandbox_phone
from compliance.consent import consent_record, contact_edit
from compliance.models import ConsentEvent
from compliance.policy import contact_zone
from compliance.selectors import sending_allowed
from compliance.services import compliance_settings_update, platform_sending_set, tenant_sending_set
from contacts.models import ConsentState, Contact
from contacts.phones import customer_index
from contacts.services import contact_create, list_create, list_members_add
from inbox.outbound import outbound_store
from tenants.models import Tenant
from tenants.services import tenant_platform_update
from whatsapp.connections.numbers import account_disconnect, phone_number_staff_update
from whatsapp.dispatch import message_enqueue
from whatsapp.jobs import send_outbound
from whatsapp.message_templates.selectors import is_sendable
from whatsapp.message_templates.services import template_status_apply
from whatsapp.models import MessageTemplate, OutboundMessage, PhoneNumber, WhatsAppAccount
from whatsapp.selectors import sending_problem
from whatsapp.sending import limits
from whatsapp.simulator.state import Faults

pytestmark = pytest.mark.django_db

# The normalised outcomes (see above).
SENT, SKIPPED, HELD, RETRY = "sent", "skipped", "held", "retry"
UNKNOWN, FAILED, STOPPED = "unknown", "failed", "stopped"
RETRYING = "Retrying after: "  # the prefix of a retry's hold_reason (both paths)
CAMPAIGN_HELD = "Held: "  # the prefix of a held campaign's status_reason

CUSTOMER = "+91 98123 45621"
CUSTOMER_WA_ID = "919812345621"
US_NUMBER = "+1 415 555 2671"
SPRING_SALE = [{"type": "BODY", "text": "Our spring sale starts today: 20% off everything."}]


class Result(NamedTuple):
    outcome: str
    reason: str
    effects: tuple[str, ...] = ()


@dataclass
class World:
    """What both paths share: the workspace, its sandbox number, a marketing template, one contact."""

    member: Any
    phone: PhoneNumber
    template: MessageTemplate
    contact_id: int
    simulator: Any
    settings: Any
    facts: dict[str, Any] = field(default_factory=dict)  # values in the expected reasons: {display}, …

    @property
    def tenant_id(self) -> int:
        return self.member.tenant.pk

    @property
    def admin(self) -> Any:
        return self.member.admin.user

    def contact(self) -> Contact:
        return Contact.objects.get(pk=self.contact_id)

    def account(self) -> WhatsAppAccount:
        return WhatsAppAccount.objects.get(pk=self.phone.account_id)


def _nothing(world: World) -> None:
    return None


@dataclass(frozen=True)
class Scenario:
    id: str
    outcome: str
    reason: str  # the expected reason, formatted with World.facts
    # Once, before either path: state both must see identically (a stored time, a window of hours).
    given: Callable[[World], None] = _nothing
    # In each path, after the message is queued or the campaign launched, just before the job runs:
    # the job's rules are what is compared (a launch refuses what it already sees).
    when: Callable[[World], None] = _nothing
    effects: tuple[str, ...] = ()
    category: str = "MARKETING"
    one_off_only: str = ""  # why the campaign path has no equivalent


# --- given / when: each scenario's state, through the services a person, staff or Meta would use


def _platform_switch_off(world: World) -> None:
    platform_sending_set(enabled=False, reason="Incident 42", actor=None)


def _workspace_switch_off(world: World) -> None:
    tenant_sending_set(
        tenant=Tenant.objects.get(pk=world.tenant_id), enabled=False, reason="Unpaid invoice", actor=None
    )


def _number_disconnected(world: World) -> None:
    account_disconnect(account=world.account(), actor=world.admin)


def _number_deactivated(world: World) -> None:
    phone_number_staff_update(phone=PhoneNumber.objects.get(pk=world.phone.pk), actor=None, is_active=False)


def _template_status(event: str) -> Callable[[World], None]:
    def when(world: World) -> None:  # Meta's message_template_status_update webhook
        template_status_apply(
            account=world.account(), value={"event": event, "message_template_id": world.template.meta_template_id}
        )

    return when


def _opted_out(world: World) -> None:
    consent_record(
        contact=world.contact(), kind=ConsentEvent.Kind.OPT_OUT, source=ConsentEvent.Source.AGENT, evidence="asked"
    )


def _number_now_american(world: World) -> None:
    # A +1 contact is refused at launch (everybody skipped), so the number changes after it, and
    # the new number's owner opts in (a new number resets consent).
    contact = contact_edit(
        contact=world.contact(), actor=world.admin, source=ConsentEvent.Source.AGENT, phone=US_NUMBER
    )
    consent_record(contact=contact, kind=ConsentEvent.Kind.OPT_IN, source=ConsentEvent.Source.AGENT, evidence="form")


def _quiet_hours_now(world: World) -> None:
    local = timezone.now().astimezone(contact_zone(world.contact()))
    start = (local - timedelta(hours=1)).replace(second=0, microsecond=0)
    end = (local + timedelta(hours=1)).replace(second=0, microsecond=0)
    compliance_settings_update(
        actor=world.admin, quiet_hours_enabled=True, quiet_hours_start=start.time(), quiet_hours_end=end.time()
    )
    world.facts["quiet_end"] = end.astimezone(UTC)


def _capped(world: World) -> None:
    compliance_settings_update(actor=world.admin, marketing_cap_messages=1, marketing_cap_days=30)
    earlier = outbound_store(
        phone=world.phone,
        to=CUSTOMER_WA_ID,
        wamid="wamid.earlier.sale",
        content=_template_content(world.template),
        category="MARKETING",
        contact=world.contact(),
    )
    world.facts["cap_free"] = earlier.created_at + timedelta(days=30)


def _wrote_two_days_ago(world: World) -> None:
    wrote_at = int(time.time()) - 2 * 86400
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": world.phone.display_phone_number,
            "phone_number_id": world.phone.phone_number_id,
        },
        "contacts": [{"profile": {"name": "Asha"}, "wa_id": CUSTOMER_WA_ID}],
        "messages": [
            {
                "from": CUSTOMER_WA_ID,
                "id": "wamid.in.old",
                "timestamp": str(wrote_at),
                "type": "text",
                "text": {"body": "Hi"},
            }
        ],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "0", "changes": [{"field": "messages", "value": value}]}],
    }
    assert deliver_webhook(payload).status == "processed"


def _workspace_minute_used_up(world: World) -> None:
    tenant_platform_update(tenant=Tenant.objects.get(pk=world.tenant_id), actor=None, messages_per_minute=5)
    now = time.time()
    # This minute and the next: in a minute's last 5 s the campaign waits for the next one
    # (QUOTA_WAIT_MAX) rather than hold, and must find it used up too.
    for moment in (now, now + 60):
        limits.take_tenant_quota(world.tenant_id, per_minute=5, per_day=None, want=5, now=moment)


def _pair_taken(world: World) -> None:
    limits.take_pairs(world.phone.phone_number_id, [customer_index(tenant=world.tenant_id, wa_id=CUSTOMER_WA_ID)])


def _portfolio_reached(world: World) -> None:
    phone_number_staff_update(
        phone=PhoneNumber.objects.get(pk=world.phone.pk), actor=None, messaging_limit_tier="TIER_250"
    )
    account = world.account()
    others = [f"someone-else-{n}" for n in range(250)]
    limits.reach_users(account.business_id or account.waba_id, others, limit=250)


def _both(*steps: Callable[[World], None]) -> Callable[[World], None]:
    def when(world: World) -> None:
        for step in steps:
            step(world)

    return when


def _meta(**faults: Any) -> Callable[[World], None]:
    def when(world: World) -> None:
        world.simulator.state.faults = Faults(**faults)

    return when


def _meta_refuses(code: int) -> Callable[[World], None]:
    return _meta(rejected={CUSTOMER_WA_ID: code})


def _meta_answer_lost(world: World) -> None:
    world.settings.GRAPH_READ_TIMEOUT_SECONDS = 0.3
    world.simulator.state.faults = Faults(timeout_rate=1.0, timeout_seconds=1.0)


# --- the table


SCENARIOS = [
    Scenario("allowed", SENT, ""),
    # Kill-switches hold (sent once switched back on): the campaign is held, the one-off held.
    Scenario(
        "platform-kill-switch", STOPPED, "Sending is paused platform-wide: Incident 42", when=_platform_switch_off
    ),
    Scenario(
        "workspace-kill-switch",
        STOPPED,
        "Sending is paused for this workspace: Unpaid invoice",
        when=_workspace_switch_off,
    ),
    Scenario(
        "number-disconnected",
        STOPPED,
        "The WhatsApp number {display} was disconnected: reconnect it to send again.",
        when=_number_disconnected,
    ),
    Scenario(
        "number-deactivated",
        STOPPED,
        "The WhatsApp number {display} was deactivated: nothing is sent from it.",
        when=_number_deactivated,
    ),
    # The campaign's wording (it names the template) over the one-off's "The template is paused.".
    Scenario(
        "template-paused", STOPPED, "Meta paused the template spring_sale (en_US).", when=_template_status("PAUSED")
    ),
    Scenario(
        "template-disabled",
        STOPPED,
        "Meta disabled the template spring_sale (en_US).",
        when=_template_status("DISABLED"),
    ),
    Scenario("opted-out", SKIPPED, "The contact opted out: no marketing messages.", when=_opted_out),
    Scenario(
        "us-marketing",
        SKIPPED,
        "Meta does not deliver marketing templates to US (+1) numbers since 1 April 2025.",
        when=_number_now_american,
    ),
    Scenario(
        "quiet-hours",
        HELD,
        "Deferred by the contact's quiet hours: send after {quiet_end:%Y-%m-%d %H:%M} UTC.",
        given=_quiet_hours_now,
    ),
    Scenario(
        "frequency-cap",
        HELD,
        "Deferred by the marketing frequency cap (1 per 30 days): send after {cap_free:%Y-%m-%d %H:%M} UTC.",
        given=_capped,
    ),
    Scenario(
        "closed-window",
        SKIPPED,
        "The 24-hour customer service window is closed: send an approved template instead.",
        given=_wrote_two_days_ago,
        category="SERVICE",
        one_off_only=(
            "The window only gates free-form messages; campaigns send approved templates, which may go "
            "outside it (the messaging limit is their rule, row portfolio-messaging-limit)."
        ),
    ),
    Scenario(
        "workspace-minute-quota",
        HELD,
        "The workspace's limit of 5 messages per minute is reached.",
        when=_workspace_minute_used_up,
    ),
    # The one-off's wordings: "from this number" says which 6 seconds count; "users" for the
    # messaging limit (the campaign's "people" reads as well, but is not clearly better).
    Scenario("pair-limit", HELD, "This recipient got a message from this number less than 6 s ago.", when=_pair_taken),
    Scenario(
        "portfolio-messaging-limit",
        HELD,
        "The messaging limit (250 users per 24 hours) is reached.",
        when=_portfolio_reached,
    ),
    # The order of the rules: the kill-switches before everything; the sender's capacity (the
    # number's bucket, the workspace's quota) before the recipient's rules, because a stream takes
    # it for a chunk before reading the chunk's rows (whatsapp/sending/rules.py, rule 5): while it is
    # spent, the due rows wait with that reason and meet consent and quiet hours when it returns.
    Scenario(
        "order-kill-switch-over-opted-out",
        STOPPED,
        "Sending is paused platform-wide: Incident 42",
        when=_both(_opted_out, _platform_switch_off),
    ),
    Scenario(
        "order-minute-quota-over-opted-out",
        HELD,
        "The workspace's limit of 5 messages per minute is reached.",
        when=_both(_opted_out, _workspace_minute_used_up),
    ),
    Scenario(
        "order-minute-quota-over-quiet-hours",
        HELD,
        "The workspace's limit of 5 messages per minute is reached.",
        given=_quiet_hours_now,
        when=_workspace_minute_used_up,
    ),
    # Meta's answers. Retries: the campaign's wording, `classify_failure`'s detail (Meta's message, its
    # details and code), which the one-off already writes for its failures but not its retries.
    Scenario(
        "meta-131026-cannot-receive",
        FAILED,
        "The recipient cannot receive WhatsApp messages (not on WhatsApp, or an old app).",
        when=_meta_refuses(131026),
    ),
    Scenario(
        "meta-130429-throttled",
        RETRY,
        "Rate limit hit (Cloud API message throughput has been reached.) [Meta error 130429]",
        when=_meta(throttle_rate=1.0),
        effects=("number slowed down",),
    ),
    Scenario("meta-5xx", RETRY, "An unknown error occurred [Meta error 1]", when=_meta(server_error_rate=1.0)),
    Scenario(
        "meta-131049-per-user-marketing-limit",
        RETRY,
        "Meta holds back marketing messages to this person for now (per-user marketing limit).",
        when=_meta_refuses(131049),
    ),
    Scenario("meta-answer-lost", UNKNOWN, "Meta's answer was lost; the status will tell.", when=_meta_answer_lost),
    Scenario(
        "meta-131050-stopped-marketing",
        FAILED,
        "The person stopped marketing messages from this business.",
        when=_meta_refuses(131050),
        effects=("opt-out recorded",),
    ),
    Scenario(
        "meta-131048-account-danger",
        FAILED,
        "Meta limited this number for spam: sending is paused for the workspace.",
        when=_meta_refuses(131048),
        effects=("workspace paused",),
    ),
    # Not the recipient's fault: the sender stops (a campaign pauses, its recipient waits for the
    # resume; a one-off is skipped with Meta's code), in Meta's explanation.
    Scenario(
        "meta-132015-template-paused", STOPPED, "The template is paused for low quality.", when=_meta_refuses(132015)
    ),
    Scenario("meta-132016-template-disabled", STOPPED, "The template is disabled.", when=_meta_refuses(132016)),
    Scenario(
        "meta-133010-number-not-registered",
        STOPPED,
        "The phone number is not registered with the Cloud API.",
        when=_meta_refuses(133010),
    ),
    Scenario(
        "meta-190-token",
        FAILED,
        "The WhatsApp connection needs to be re-authorised.",
        when=_meta_refuses(190),
        effects=("connection needs re-authorisation",),
    ),
]


@pytest.fixture
def world(alpha, connected, simulator, settings) -> World:
    phone = sandbox_phone(alpha, connected)
    template = approved_template(
        simulator, alpha, connected, name="spring_sale", category="MARKETING", components=SPRING_SALE
    )
    with tenant_context(alpha.tenant):
        # No quiet hours and no cap unless a scenario sets them: the outcome must not depend on the hour.
        compliance_settings_update(actor=alpha.admin.user, quiet_hours_enabled=False, marketing_cap_messages=0)
        contact = contact_create(phone=CUSTOMER, actor=alpha.admin.user, name="Asha Rao")
        consent_record(
            contact=contact, kind=ConsentEvent.Kind.OPT_IN, source=ConsentEvent.Source.IMPORT, evidence="shop sign-up"
        )
    return World(alpha, phone, template, contact.pk, simulator, settings, facts={"display": phone.display_phone_number})


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[scenario.id for scenario in SCENARIOS])
def test_a_one_off_send_and_a_campaign_end_alike_for_every_rule(scenario, world):
    with tenant_context(world.member.tenant):
        scenario.given(world)
    expected = Result(scenario.outcome, scenario.reason.format(**world.facts), scenario.effects)

    one_off = _isolated(world, lambda: _one_off(world, scenario))
    campaign = None if scenario.one_off_only else _isolated(world, lambda: _campaign(world, scenario))

    assert (one_off, campaign) == (expected, None if scenario.one_off_only else expected), (
        f"one-off {one_off}, campaign {campaign}, expected {expected}"
    )


# --- the two paths


def _isolated(world: World, send: Callable[[], Result]) -> Result:
    """One path in a savepoint that is rolled back, then Redis flushed and the simulator's faults
    and registrations restored: the next path starts where this one did."""
    registered = {phone_id: phone.registered for phone_id, phone in world.simulator.state.phones.items()}
    try:
        with transaction.atomic():
            with tenant_context(world.member.tenant):
                result = send()
            transaction.set_rollback(True)
    finally:
        django_rq.get_connection("default").flushdb()
        world.simulator.state.faults = Faults()
        for phone_id, was in registered.items():
            world.simulator.state.phones[phone_id].registered = was
    return result


def _one_off(world: World, scenario: Scenario) -> Result:
    free_form = scenario.category == "SERVICE"
    message = message_enqueue(
        phone=world.phone,
        to=CUSTOMER,
        content={"type": "text", "text": {"body": "Hello"}} if free_form else _template_content(world.template),
        category=scenario.category,
        origin="api",
        contact=world.contact(),
        template=None if free_form else world.template,
    )
    scenario.when(world)
    before = _watched(world)
    send_outbound(tenant_id=world.tenant_id, message_id=message.pk)
    row = OutboundMessage.objects.select_related("phone_number__account", "template__account").get(pk=message.pk)
    return Result(*_one_off_outcome(row), _effects(before, _watched(world)))


def _campaign(world: World, scenario: Scenario) -> Result:
    audience = list_create(name="Drift", actor=world.admin)
    list_members_add(contact_list=audience, contact_ids=[world.contact_id], actor=world.admin)
    campaign = campaign_create(
        name="Spring sale",
        phone_number_id=world.phone.pk,
        variants=[{"template_id": world.template.pk, "percentage": 100, "mapping": {}}],
        list_ids=[audience.pk],
        actor=world.admin,
    )
    campaign = campaign_launch(campaign=campaign, actor=world.admin)
    scenario.when(world)
    before = _watched(world)
    recipient = CampaignMessage.objects.get(campaign=campaign)
    send_batch(tenant_id=world.tenant_id, campaign_id=campaign.pk, batch=recipient.batch)
    recipient.refresh_from_db()
    campaign.refresh_from_db()
    return Result(*_campaign_outcome(campaign, recipient), _effects(before, _watched(world)))


def _template_content(template: MessageTemplate) -> dict[str, Any]:
    return {"type": "template", "template": {"name": template.name, "language": {"code": template.language}}}


# --- normalising what the rows say


def _one_off_outcome(message: OutboundMessage) -> tuple[str, str]:
    """A skipped or held one-off is `stopped` when the sender is (the campaign gate's reads) or when it
    keeps the Meta code that refused the sender rather than the recipient."""
    state = message.state
    if state == OutboundMessage.State.SENT:
        return SENT, message.error_detail
    if state in (OutboundMessage.State.UNKNOWN, OutboundMessage.State.FAILED):
        return state, message.error_detail
    if state == OutboundMessage.State.SKIPPED:
        return (STOPPED if _stopped_sender(message) else SKIPPED), message.error_detail
    if state == OutboundMessage.State.QUEUED:
        if message.hold_reason.startswith(RETRYING):
            return RETRY, message.hold_reason.removeprefix(RETRYING)
        return (STOPPED if _stopped_sender(message) else HELD), message.hold_reason
    return state, message.error_detail  # e.g. `sending`: the job stopped half-way


def _stopped_sender(message: OutboundMessage) -> bool:
    return (
        message.error_code is not None
        or not sending_allowed(message.tenant_id).allowed
        or sending_problem(message.phone_number) is not None
        or (message.template is not None and not is_sendable(message.template))
    )


def _campaign_outcome(campaign: Campaign, recipient: CampaignMessage) -> tuple[str, str]:
    state = recipient.state
    if state in (CampaignMessage.State.SENT, CampaignMessage.State.DELIVERED, CampaignMessage.State.READ):
        return SENT, recipient.error_detail
    if state != CampaignMessage.State.QUEUED:
        return state, recipient.error_detail  # skipped, unknown, failed (or out of the vocabulary)
    if campaign.status == Campaign.Status.PAUSED or campaign.status_reason.startswith(CAMPAIGN_HELD):
        return STOPPED, campaign.status_reason.removeprefix(CAMPAIGN_HELD)
    if recipient.hold_reason.startswith(RETRYING):
        return RETRY, recipient.hold_reason.removeprefix(RETRYING)
    return HELD, recipient.hold_reason


def _watched(world: World) -> dict[str, bool]:
    """What a Meta error may change beyond the message, read before and after the job."""
    return {
        "opt-out recorded": world.contact().consent_state == ConsentState.OPTED_OUT,
        "workspace paused": not Tenant.objects.get(pk=world.tenant_id).sending_enabled,
        "connection needs re-authorisation": world.account().status == WhatsAppAccount.Status.NEEDS_ATTENTION,
        "number slowed down": limits.number_rate_factor(world.phone.phone_number_id) < 1.0,
    }


def _effects(before: dict[str, bool], after: dict[str, bool]) -> tuple[str, ...]:
    return tuple(sorted(name for name, now in after.items() if now and not before[name]))
