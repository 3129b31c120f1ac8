"""The campaign engine against the simulator: launch checks and the audience snapshot, batches that
send everyone once, A/B splits, pause / resume / cancel / kill-switch between chunks, templates
paused by Meta, classified failures, statuses from webhooks, and the sweeper."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from aerostic.core.errors import Conflict
from aerostic.core.tenant_context import platform_context, tenant_context
from aerostic.testsupport.webhooks import deliver_webhook
from campaigns import engine, selectors, services
from campaigns.jobs import sweep_campaigns, wake_campaigns
from campaigns.mapping import CampaignInvalid
from campaigns.models import Campaign, CampaignMessage
from campaigns.tests.support import (
    MAPPING,
    approved_template,
    audience,
    draft,
    launch,
    refresh,
    run_batches,
    states,
)
from compliance.models import ComplianceSettings
from compliance.services import platform_sending_set, tenant_sending_set
from contacts.models import Contact
from inbox.models import Message
from tenants.models import Tenant
from whatsapp.jobs import sweep_outbound
from whatsapp.message_templates.services import template_status_apply
from whatsapp.sending import chain as send_chain
from whatsapp.sending import sender as number_sender

pytestmark = pytest.mark.django_db


def _no_quiet_hours(member) -> None:
    with tenant_context(member.tenant):
        ComplianceSettings.objects.update_or_create(
            tenant_id=member.tenant.pk, defaults={"quiet_hours_enabled": False, "marketing_cap_messages": 0}
        )


def _sent_to(simulator) -> list[str]:
    return [message["to"] for message in simulator.state.messages]


def test_a_campaign_sends_everyone_once_with_their_values_and_completes(
    alpha, phone, template, simulator, django_capture_on_commit_callbacks
):
    contacts = audience(alpha, 12)
    campaign = draft(alpha, phone, template, contacts)
    with django_capture_on_commit_callbacks() as callbacks:
        launch(alpha, campaign)
    assert len(callbacks) == 1  # one enqueue callback for the one batch (12 < BATCH_SIZE)
    assert refresh(alpha, campaign).status == Campaign.Status.RUNNING

    run_batches(alpha, campaign)

    assert states(alpha, campaign) == {"sent": 12}
    assert len(_sent_to(simulator)) == 12 == len(set(_sent_to(simulator)))
    campaign = refresh(alpha, campaign)
    assert campaign.status == Campaign.Status.COMPLETED and campaign.finished_at is not None
    with tenant_context(alpha.tenant):
        stored = list(Message.objects.filter(direction="out").values_list("payload", flat=True))
        assert len(stored) == 12
        first = CampaignMessage.objects.select_related("contact").order_by("pk").first()
        parameters = first_body_parameters(stored, first.wamid)
        assert parameters == [first.contact.name.split(" ")[0], first.contact.attributes["order"]]


def first_body_parameters(payloads, wamid):
    for payload in payloads:
        if payload.get("id") == wamid:
            body = [c for c in payload["template"]["components"] if c["type"] == "body"][0]
            return [p["text"] for p in body["parameters"]]
    raise AssertionError("message not stored in the inbox")


def test_launch_snapshots_once_per_contact_and_counts_skips_by_reason(alpha, phone, simulator, connected):
    _no_quiet_hours(alpha)
    marketing = approved_template(simulator, alpha, connected, name="spring_sale", category="MARKETING")
    contacts = audience(alpha, 5)
    opted_out = audience(alpha, 2, opted_in=False, seed=11, name="No consent")
    with tenant_context(alpha.tenant):
        no_order = Contact.objects.filter(list_memberships__contact_list=contacts).order_by("pk").first()
        no_order.attributes = {}
        no_order.save()
    campaign = draft(alpha, phone, marketing, contacts)
    with tenant_context(alpha.tenant):
        campaign.list_ids = [contacts.pk, opted_out.pk, contacts.pk]
        campaign.save()
    campaign = launch(alpha, campaign)
    assert campaign.recipients_total == 7
    assert campaign.skip_reasons == {
        "No marketing consent recorded for this contact: no consent, no marketing.": 2,
        "No value for body {{2}} (order) and no fallback.": 1,
    }
    run_batches(alpha, campaign)
    assert states(alpha, campaign) == {"sent": 4, "skipped": 3}
    assert len(simulator.state.messages) == 4


def test_ab_variants_split_the_audience_by_percentage_and_report_per_variant(
    alpha, phone, template, simulator, connected
):
    other = approved_template(simulator, alpha, connected, name="order_update_b")
    third = approved_template(simulator, alpha, connected, name="order_update_c")
    contacts = audience(alpha, 20)
    variants = [
        {"template_id": template.pk, "percentage": 50, "mapping": MAPPING},
        {"template_id": other.pk, "percentage": 30, "mapping": MAPPING},
        {"template_id": third.pk, "percentage": 20, "mapping": MAPPING},
    ]
    campaign = launch(alpha, draft(alpha, phone, template, contacts, variants=variants))
    run_batches(alpha, campaign)
    with tenant_context(alpha.tenant):
        per_variant = {variant.label: stats.counts["sent"] for variant, stats in selectors.variant_stats(campaign)}
    assert per_variant == {"A": 10, "B": 6, "C": 4}


@pytest.mark.parametrize(
    "problem",
    [
        "unapproved template",
        "incomplete mapping",
        "empty audience",
        "kill-switch",
        "workspace paused",
        "daily limit",
        "prepaid balance",
    ],
)
def test_launch_refusals_name_the_reason_and_enqueue_nothing(
    problem, alpha, phone, template, simulator, connected, django_capture_on_commit_callbacks
):
    contacts = audience(alpha, 3)
    campaign = draft(alpha, phone, template, contacts)
    expected = ""
    with tenant_context(alpha.tenant):
        if problem == "unapproved template":
            template.status = "PAUSED"
            template.save()
            expected = "paused, not approved"
        elif problem == "incomplete mapping":
            variant = campaign.variants.get()
            variant.mapping = {"body": {"1": MAPPING["body"]["1"]}}
            variant.save()
            expected = "mapping is incomplete"
        elif problem == "empty audience":
            campaign.list_ids = []
            campaign.save()
            expected = "audience is empty"
        elif problem == "kill-switch":
            platform_sending_set(enabled=False, reason="Incident 42", actor=alpha.admin.user)
            expected = "Incident 42"
        elif problem == "workspace paused":
            tenant_sending_set(tenant=alpha.tenant, enabled=False, reason="Unpaid invoice", actor=alpha.admin.user)
            expected = "Unpaid invoice"
        elif problem == "daily limit":
            Tenant.objects.filter(pk=alpha.tenant.pk).update(campaign_sends_per_day=2)
            expected = "more than the workspace may still send today (2 of 2"
        else:
            from billing.services import adjustment_add, billing_profile_update

            billing_profile_update(tenant=alpha.tenant, actor=None, prepaid=True, credit_limit_micros=0)
            adjustment_add(tenant=alpha.tenant, amount_micros=-5_000_000, reason="Unpaid usage", actor=alpha.admin.user)
            expected = "below its credit limit"
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(CampaignInvalid) as refused:
        launch(alpha, campaign)
    assert expected in refused.value.message
    assert callbacks == []
    assert refresh(alpha, campaign).status == Campaign.Status.DRAFT
    assert states(alpha, campaign) == {}


def test_double_launch_launches_once(alpha, phone, template, django_capture_on_commit_callbacks):
    campaign = draft(alpha, phone, template, audience(alpha, 3))
    launch(alpha, campaign)
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(Conflict):
        launch(alpha, campaign)
    assert callbacks == []
    assert sum(states(alpha, campaign).values()) == 3


def test_pause_stops_new_sends_and_resume_continues_where_it_stopped(alpha, phone, template, simulator, monkeypatch):
    campaign = launch(alpha, draft(alpha, phone, template, audience(alpha, 10)))
    monkeypatch.setattr(number_sender, "CHUNK_MAX", 4)
    monkeypatch.setattr(send_chain, "GATE_INTERVAL", 0)  # the gate before every chunk (≤ 0.2 s apart)
    original = number_sender.NumberSender.send
    chunks = []

    def send_then_pause(self, pool, items):
        chunk = original(self, pool, items)
        chunks.append(len(items))
        if len(chunks) == 1:
            with tenant_context(alpha.tenant):
                services.campaign_pause(campaign=campaign, actor=alpha.admin.user)
        return chunk

    monkeypatch.setattr(number_sender.NumberSender, "send", send_then_pause)
    result = run_batches(alpha, campaign)
    assert result[0]["result"] == "stopped: campaign paused"
    assert states(alpha, campaign) == {"sent": 4, "queued": 6}
    assert refresh(alpha, campaign).status == Campaign.Status.PAUSED

    with tenant_context(alpha.tenant):
        services.campaign_resume(campaign=campaign, actor=alpha.admin.user)
    run_batches(alpha, campaign)
    assert states(alpha, campaign) == {"sent": 10}
    assert len(set(_sent_to(simulator))) == len(_sent_to(simulator)) == 10
    assert refresh(alpha, campaign).status == Campaign.Status.COMPLETED


def test_cancel_leaves_the_unsent_cancelled(alpha, phone, template, simulator):
    campaign = launch(alpha, draft(alpha, phone, template, audience(alpha, 5)))
    with tenant_context(alpha.tenant):
        services.campaign_cancel(campaign=campaign, actor=alpha.admin.user)
    run_batches(alpha, campaign)
    assert states(alpha, campaign) == {"cancelled": 5}
    assert simulator.state.messages == []
    with tenant_context(alpha.tenant), pytest.raises(Conflict):
        services.campaign_resume(campaign=campaign, actor=alpha.admin.user)


def test_kill_switch_holds_a_running_campaign_and_turning_it_back_on_resumes_it(
    alpha, phone, template, simulator, django_capture_on_commit_callbacks
):
    campaign = launch(alpha, draft(alpha, phone, template, audience(alpha, 4)))
    platform_sending_set(enabled=False, reason="Meta outage", actor=alpha.admin.user)
    result = run_batches(alpha, campaign)
    assert result[0]["result"].startswith("stopped: Sending is paused platform-wide")
    campaign = refresh(alpha, campaign)
    assert campaign.status == Campaign.Status.RUNNING and "Meta outage" in campaign.status_reason
    assert simulator.state.messages == []

    with django_capture_on_commit_callbacks() as callbacks:
        platform_sending_set(enabled=True, reason="", actor=alpha.admin.user)
    assert len(callbacks) == 1  # the wake-up job, so the held batch goes at once, not at the next sweep
    with django_capture_on_commit_callbacks() as callbacks:
        assert wake_campaigns() == 1
    assert len(callbacks) == 1
    later = timezone.now() + timedelta(minutes=2)
    with platform_context("test: the sweeper's view"):
        assert engine.due_batches(now=later) == [(alpha.tenant.pk, campaign.pk, 0)]
    run_batches(alpha, campaign)
    assert states(alpha, campaign) == {"sent": 4}
    assert refresh(alpha, campaign).status_reason == ""


def test_a_template_paused_by_meta_pauses_the_campaign_with_the_reason(alpha, phone, template, connected):
    campaign = launch(alpha, draft(alpha, phone, template, audience(alpha, 3)))
    with tenant_context(alpha.tenant):
        template_status_apply(
            account=connected, value={"event": "PAUSED", "message_template_id": template.meta_template_id}
        )
    campaign = refresh(alpha, campaign)
    assert campaign.status == Campaign.Status.PAUSED
    assert "paused the template order_update" in campaign.status_reason
    with tenant_context(alpha.tenant), pytest.raises(Conflict, match="paused"):
        services.campaign_resume(campaign=campaign, actor=alpha.admin.user)
    assert run_batches(alpha, campaign)[0]["result"] == "campaign paused"


def test_refused_recipients_fail_with_metas_code_and_reasons_are_grouped(alpha, phone, template, simulator):
    contacts = audience(alpha, 4)
    campaign = launch(alpha, draft(alpha, phone, template, contacts))
    with tenant_context(alpha.tenant):
        refused = [c.phone.reveal().lstrip("+") for c in Contact.objects.order_by("pk")[:2]]
    simulator.state.faults.rejected = dict.fromkeys(refused, 131026)
    run_batches(alpha, campaign)
    assert states(alpha, campaign) == {"sent": 2, "failed": 2}
    with tenant_context(alpha.tenant):
        reasons = selectors.failure_reasons(campaign)
    assert reasons == [
        {
            "state": "failed",
            "code": 131026,
            "reason": "The recipient cannot receive WhatsApp messages (not on WhatsApp, or an old app).",
            "count": 2,
        }
    ]


def test_server_errors_are_retried_later_never_sent_twice(alpha, phone, template, simulator):
    campaign = launch(alpha, draft(alpha, phone, template, audience(alpha, 3)))
    simulator.state.faults.server_error_rate = 1.0
    run_batches(alpha, campaign)
    with tenant_context(alpha.tenant):
        held = list(CampaignMessage.objects.values_list("state", "attempts", "hold_reason"))
    assert all(
        state == "queued" and attempts == 1 and reason.startswith("Retrying") for state, attempts, reason in held
    )
    simulator.state.faults.server_error_rate = 0.0
    with tenant_context(alpha.tenant):
        CampaignMessage.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    run_batches(alpha, campaign)
    assert states(alpha, campaign) == {"sent": 3}
    assert len(simulator.state.messages) == 3


def test_statuses_move_recipients_forward_and_settle_unknown_ones(alpha, phone, template, simulator):
    campaign = launch(alpha, draft(alpha, phone, template, audience(alpha, 2)))
    run_batches(alpha, campaign)
    with tenant_context(alpha.tenant):
        first, second = CampaignMessage.objects.order_by("pk")
        CampaignMessage.objects.filter(pk=second.pk).update(state="unknown", wamid="")
    _status(phone, first.wamid, "read", callback=first.pk)
    _status(phone, first.wamid, "delivered", callback=first.pk)  # late, out of order
    _status(phone, second.wamid, "delivered", callback=second.pk)
    with tenant_context(alpha.tenant):
        first.refresh_from_db()
        second.refresh_from_db()
        stats = selectors.campaign_stats(campaign)
    assert first.state == "read" and first.delivered_at and first.read_at
    assert second.state == "delivered" and second.wamid
    assert stats.counts["read"] == 1 and stats.counts["delivered"] == 1 and stats.delivery_rate == 100.0


def _status(phone, wamid, name, *, callback):
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": phone.display_phone_number, "phone_number_id": phone.phone_number_id},
        "statuses": [
            {
                "id": wamid,
                "status": name,
                "timestamp": str(int(time.time())),
                "recipient_id": "919800000000",
                "biz_opaque_callback_data": f"aerostic:campaign:{callback}",
            }
        ],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "0", "changes": [{"field": "messages", "value": value}]}],
    }
    assert deliver_webhook(payload).status == "processed"


def test_the_sweeper_starts_scheduled_campaigns_and_marks_stale_sends_unknown(
    alpha, phone, template, simulator, django_capture_on_commit_callbacks
):
    soon = timezone.now() + timedelta(hours=1)
    campaign = draft(alpha, phone, template, audience(alpha, 3), send_at=soon)
    with django_capture_on_commit_callbacks() as callbacks:
        campaign = launch(alpha, campaign)
    assert campaign.status == Campaign.Status.SCHEDULED and callbacks == []
    with tenant_context(alpha.tenant):
        Campaign.objects.filter(pk=campaign.pk).update(send_at=timezone.now() - timedelta(seconds=1))
        stale = CampaignMessage.objects.order_by("pk").first()
        CampaignMessage.objects.filter(pk=stale.pk).update(
            state="sending", claimed_at=timezone.now() - timedelta(minutes=5)
        )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = sweep_campaigns()
        swept = sweep_outbound()  # the one sweeper of sends: stale claims of campaigns too
    assert result["started"] == 1 and swept["unknown"] == 1
    assert refresh(alpha, campaign).status == Campaign.Status.RUNNING
    run_batches(alpha, campaign)
    assert states(alpha, campaign) == {"sent": 2, "unknown": 1}
    assert refresh(alpha, campaign).status == Campaign.Status.COMPLETED


def test_quiet_hours_hold_marketing_recipients_until_their_morning(alpha, phone, simulator, connected):
    from datetime import time as clock
    from zoneinfo import ZoneInfo

    marketing = approved_template(simulator, alpha, connected, name="spring_sale", category="MARKETING")
    local_now = timezone.now().astimezone(ZoneInfo("Asia/Kolkata"))
    start = (local_now - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (local_now + timedelta(hours=1)).time().replace(second=0, microsecond=0)
    with tenant_context(alpha.tenant):
        ComplianceSettings.objects.update_or_create(
            tenant_id=alpha.tenant.pk,
            defaults={"quiet_hours_enabled": True, "quiet_hours_start": start, "quiet_hours_end": end},
        )
    assert isinstance(start, clock)
    campaign = launch(alpha, draft(alpha, phone, marketing, audience(alpha, 3)))
    run_batches(alpha, campaign)
    assert simulator.state.messages == []
    with tenant_context(alpha.tenant):
        held = list(CampaignMessage.objects.values_list("state", "next_attempt_at", "hold_reason"))
    assert all(state == "queued" and "quiet hours" in reason for state, _at, reason in held)
    assert all(timedelta(minutes=55) < at - timezone.now() <= timedelta(hours=1) for _state, at, _reason in held)
    assert refresh(alpha, campaign).status == Campaign.Status.RUNNING  # not completed: they are still to go


def test_disconnecting_the_number_pauses_its_running_and_scheduled_campaigns_at_once(
    alpha, phone, template, simulator, connected
):
    from whatsapp.connections.numbers import account_disconnect

    running = launch(alpha, draft(alpha, phone, template, audience(alpha, 3)))
    scheduled = launch(
        alpha,
        draft(
            alpha,
            phone,
            template,
            audience(alpha, 2, seed=8, name="Later"),
            name="Later",
            send_at=timezone.now() + timedelta(days=1),
        ),
    )
    assert refresh(alpha, scheduled).status == Campaign.Status.SCHEDULED

    with tenant_context(alpha.tenant):
        account_disconnect(account=connected, actor=alpha.admin.user)

    reason = f"The WhatsApp number {phone.display_phone_number} was disconnected: reconnect it to send again."
    for campaign in (running, scheduled):
        campaign = refresh(alpha, campaign)
        assert (campaign.status, campaign.status_reason) == (Campaign.Status.PAUSED, reason)
    assert run_batches(alpha, running)[0]["result"] == "campaign paused"
    assert states(alpha, running) == {"queued": 3} and simulator.state.messages == []
    with tenant_context(alpha.tenant), pytest.raises(Conflict, match="Reconnect the number, then resume"):
        services.campaign_resume(campaign=refresh(alpha, running), actor=alpha.admin.user)
    assert refresh(alpha, running).status == Campaign.Status.PAUSED


def test_a_number_deactivated_while_running_pauses_the_campaign_at_the_next_chunk(alpha, phone, template, simulator):
    from whatsapp.models import PhoneNumber

    campaign = launch(alpha, draft(alpha, phone, template, audience(alpha, 3)))
    with tenant_context(alpha.tenant):
        PhoneNumber.objects.filter(pk=phone.pk).update(is_active=False)

    result = run_batches(alpha, campaign)

    reason = f"The WhatsApp number {phone.display_phone_number} was deactivated: nothing is sent from it."
    assert result == [{"result": "paused", "reason": reason}]
    campaign = refresh(alpha, campaign)
    assert (campaign.status, campaign.status_reason) == (Campaign.Status.PAUSED, reason)
    assert states(alpha, campaign) == {"queued": 3} and simulator.state.messages == []


def test_a_number_meta_no_longer_has_registered_pauses_the_campaign_and_nobody_fails(alpha, phone, template, simulator):
    campaign = launch(alpha, draft(alpha, phone, template, audience(alpha, 3)))
    simulator.state.phones[phone.phone_number_id].registered = False  # deregistered at Meta, not by us

    run_batches(alpha, campaign)

    campaign = refresh(alpha, campaign)
    assert campaign.status == Campaign.Status.PAUSED
    assert campaign.status_reason == "The phone number is not registered with the Cloud API."
    assert states(alpha, campaign) == {"queued": 3}  # not the recipients' fault: they wait for the resume
    assert simulator.state.messages == []


def test_statuses_applied_together_end_as_they_do_one_by_one(alpha, phone, template, simulator):
    """The drainer applies a batch's statuses to campaign rows at once (campaign_status_apply_many):
    the same rows as one status after another, out-of-order and failed ones included."""
    together = launch(alpha, draft(alpha, phone, template, audience(alpha, 3, seed=7, name="Together")))
    one_by_one = launch(alpha, draft(alpha, phone, template, audience(alpha, 3, seed=11, name="One by one")))
    run_batches(alpha, together)
    run_batches(alpha, one_by_one)
    failure = [{"code": 131026, "title": "Message undeliverable"}]
    script = [  # (row, status, seconds after T, errors)
        (0, "read", 3, None),
        (0, "delivered", 2, None),
        (0, "sent", 1, None),
        (1, "delivered", 2, None),
        (1, "failed", 4, failure),
        (2, "delivered", 5, None),
        (2, "read", 6, None),
    ]
    rows = {}
    for campaign in (together, one_by_one):
        with tenant_context(alpha.tenant):
            rows[campaign.pk] = list(CampaignMessage.objects.filter(campaign=campaign).order_by("pk"))
            # A lost answer: the status settles it first, then moves it.
            CampaignMessage.objects.filter(pk=rows[campaign.pk][2].pk).update(state="unknown", wamid="")

    def status(row, name, seconds, errors):
        payload = {
            "id": row.wamid,
            "status": name,
            "timestamp": str(1_760_000_000 + seconds),
            "recipient_id": "919800000000",
            "biz_opaque_callback_data": f"aerostic:campaign:{row.pk}",
        }
        return {**payload, "errors": errors} if errors else payload

    _deliver_statuses(phone, [status(rows[together.pk][i], *rest) for i, *rest in script])
    for i, *rest in script:
        _deliver_statuses(phone, [status(rows[one_by_one.pk][i], *rest)])
    fields = ("state", "delivered_at", "read_at", "failed_at", "error_code", "error_detail")  # sent_at: the send's
    with tenant_context(alpha.tenant):
        ended = {
            campaign.pk: list(CampaignMessage.objects.filter(campaign=campaign).order_by("pk").values_list(*fields))
            for campaign in (together, one_by_one)
        }
    assert ended[together.pk] == ended[one_by_one.pk]
    assert [row[0] for row in ended[together.pk]] == ["read", "failed", "read"]


@pytest.mark.parametrize("callback", ["aerostic:campaign:\u00b2", "aerostic:campaign:" + "9" * 20])
def test_a_status_whose_callback_names_no_row_is_found_by_its_wamid(alpha, phone, template, simulator, callback):
    """Callback data that is not one of our ids ("²" passes str.isdigit, 20 digits overflow bigint)
    neither breaks its batch nor misses its message: the recipient is found by its wamid."""
    campaign = launch(alpha, draft(alpha, phone, template, audience(alpha, 1, seed=5, name="Odd callback")))
    run_batches(alpha, campaign)
    with tenant_context(alpha.tenant):
        row = CampaignMessage.objects.get(campaign=campaign)
    status = {"id": row.wamid, "status": "delivered", "timestamp": "1760000000", "recipient_id": "919800000000"}

    _deliver_statuses(phone, [{**status, "biz_opaque_callback_data": callback}])

    with tenant_context(alpha.tenant):
        assert CampaignMessage.objects.get(pk=row.pk).state == "delivered"


def _deliver_statuses(phone, statuses):
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": phone.display_phone_number, "phone_number_id": phone.phone_number_id},
        "statuses": statuses,
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "0", "changes": [{"field": "messages", "value": value}]}],
    }
    assert deliver_webhook(payload).status == "processed"
