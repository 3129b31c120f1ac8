"""The dispatcher against the simulator: one-off sends through the API, the rules in their order,
the claim that makes a second send impossible, classified failures, lost answers settled by
status webhooks, and the STOP confirmation reply."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from aerostic.core.models import Alert
from aerostic.core.tenant_context import platform_context, tenant_context
from aerostic.testsupport.webhooks import deliver_webhook
from compliance.consent import consent_record
from compliance.services import platform_sending_set
from contacts.services import contact_create
from inbox.models import Message
from tenants.models import Tenant
from whatsapp import dispatch
from whatsapp.connections.clients import breaker_for
from whatsapp.jobs import send_outbound, sweep_outbound
from whatsapp.models import MessageTemplate, OutboundMessage, PhoneNumber
from whatsapp.sending import failures, limits
from whatsapp.simulator.state import Faults
from whatsapp.tests.factories import PhoneNumberFactory

pytestmark = pytest.mark.django_db

CUSTOMER = "919812345621"


@pytest.fixture
def stored_phone(alpha) -> PhoneNumber:
    """Alpha's number written by the factory: for tests that never reach Meta (no simulator)."""
    with tenant_context(alpha.tenant):
        return PhoneNumberFactory()


def _inbound(phone, text: str, wamid: str) -> None:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": phone.display_phone_number, "phone_number_id": phone.phone_number_id},
        "contacts": [{"profile": {"name": "Asha"}, "wa_id": CUSTOMER}],
        "messages": [
            {"from": CUSTOMER, "id": wamid, "timestamp": str(int(time.time())), "type": "text", "text": {"body": text}}
        ],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "0", "changes": [{"field": "messages", "value": value}]}],
    }
    assert deliver_webhook(payload).status == "processed"


def _reply(alpha, phone) -> OutboundMessage:
    """A free-form "Hello" to the customer, queued through the dispatcher (its job not run)."""
    with tenant_context(alpha.tenant):
        return dispatch.message_enqueue(
            phone=phone,
            to=CUSTOMER,
            content={"type": "text", "text": {"body": "Hello"}},
            category="SERVICE",
            origin="api",
        )


def _run(alpha, message_id: int) -> OutboundMessage:
    send_outbound(tenant_id=alpha.tenant.pk, message_id=message_id)
    with tenant_context(alpha.tenant):
        return OutboundMessage.objects.get(pk=message_id)


def _api_send(api, phone, body: dict, *, key: str = "") -> dict:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    response = api.post("/api/v1/messages", {"phone_number_id": phone.pk, **body}, format="json", **headers)
    assert response.status_code == 202, response.content
    assert response["Location"] == response.json()["status_url"]
    return response.json()


def test_a_reply_inside_the_window_is_sent_once_and_lands_in_the_conversation(
    alpha, phone, simulator, api_client_for, django_capture_on_commit_callbacks
):
    _inbound(phone, "Is my order on its way?", "wamid.in.1")
    api = api_client_for(alpha.agent)
    with django_capture_on_commit_callbacks(execute=False):
        queued = _api_send(api, phone, {"to": "+91 98123 45621", "text": "Yes, it ships today."}, key="reply-1")
        again = _api_send(api, phone, {"to": "+91 98123 45621", "text": "Yes, it ships today."}, key="reply-1")
    assert queued["id"] == again["id"] and queued["state"] == "queued"

    sent = _run(alpha, queued["id"])
    assert sent.state == "sent" and sent.wamid.startswith("wamid.SIM")
    assert _run(alpha, queued["id"]).state == "sent"  # a re-run job finds nothing to send
    assert simulator.state.sends_per_recipient() == {CUSTOMER: 1}
    with tenant_context(alpha.tenant):
        stored = Message.objects.get(wamid=sent.wamid)
    assert (stored.direction, stored.body, stored.status) == ("out", "Yes, it ships today.", "sent")
    assert queued["status_url"] == f"/api/v1/messages/{queued['id']}/"
    detail = api.get(queued["status_url"]).json()
    assert detail["state"] == "sent" and "content" not in detail and "recipient" not in detail


def test_free_form_outside_the_window_is_skipped_with_the_reason(alpha, phone, simulator, api_client_for):
    queued = _api_send(api_client_for(alpha.agent), phone, {"to": "+14155552671", "text": "Hello"})
    message = _run(alpha, queued["id"])
    assert message.state == "skipped" and "has not written" in message.error_detail
    assert simulator.state.sends_per_recipient() == {}


def test_templates_follow_consent_utility_goes_marketing_needs_an_opt_in(alpha, phone, simulator):
    with tenant_context(alpha.tenant):
        contact = contact_create(phone="+91 98123 45621", actor=alpha.admin.user)
        hello = MessageTemplate.objects.get(account=phone.account, name="hello_world")
        content = {"type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}}}
        utility = dispatch.message_enqueue(
            phone=phone, to=CUSTOMER, content=content, category="UTILITY", origin="api", contact=contact, template=hello
        )
        marketing = dispatch.message_enqueue(
            phone=phone,
            to=CUSTOMER,
            content=content,
            category="MARKETING",
            origin="api",
            contact=contact,
            template=hello,
        )
    assert _run(alpha, utility.pk).state == "sent"
    skipped = _run(alpha, marketing.pk)
    assert skipped.state == "skipped" and "no consent, no marketing" in skipped.error_detail
    with tenant_context(alpha.tenant):
        consent_record(
            contact=contact, kind="opt_out", source="agent", evidence="asked to stop", actor=alpha.admin.user
        )
        again = dispatch.message_enqueue(
            phone=phone, to=CUSTOMER, content=content, category="UTILITY", origin="api", contact=contact, template=hello
        )
    assert _run(alpha, again.pk).state == "skipped"  # opted out: no utility either (the default)


def test_the_kill_switch_holds_messages_and_the_sweeper_sends_them_when_it_is_back(alpha, phone, simulator):
    _inbound(phone, "Hi", "wamid.in.2")
    platform_sending_set(enabled=False, reason="incident", actor=None)
    message = _reply(alpha, phone)
    held = _run(alpha, message.pk)
    assert held.state == "queued" and "paused platform-wide" in held.hold_reason
    assert simulator.state.sends_per_recipient() == {}

    platform_sending_set(enabled=True, reason="", actor=None)
    with tenant_context(alpha.tenant):
        OutboundMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert sweep_outbound()["requeued"] == 1
    assert _run(alpha, message.pk).state == "sent"


def test_throttling_requeues_with_backoff_and_slows_the_number(alpha, phone, simulator):
    _inbound(phone, "Hi", "wamid.in.3")
    simulator.state.faults = Faults(throttle_rate=1.0)
    message = _reply(alpha, phone)
    requeued = _run(alpha, message.pk)
    assert requeued.state == "queued" and requeued.error_code == 130429 and requeued.next_attempt_at > timezone.now()
    assert limits.number_rate_factor(phone.phone_number_id) == 0.5


def test_a_permanent_refusal_fails_with_an_explanation(alpha, phone, simulator):
    _inbound(phone, "Hi", "wamid.in.4")
    simulator.state.faults = Faults(rejected={CUSTOMER: 131026})
    message = _reply(alpha, phone)
    failed = _run(alpha, message.pk)
    assert (failed.state, failed.error_code) == ("failed", 131026)
    assert "cannot receive WhatsApp messages" in failed.error_detail


def test_an_account_danger_code_pauses_the_workspace_and_alerts(alpha, phone, simulator):
    _inbound(phone, "Hi", "wamid.in.5")
    simulator.state.faults = Faults(rejected={CUSTOMER: 131048})
    message = _reply(alpha, phone)
    assert _run(alpha, message.pk).state == "failed"
    tenant = Tenant.objects.get(pk=alpha.tenant.pk)
    assert not tenant.sending_enabled and "131048" in tenant.sending_disabled_reason
    with tenant_context(alpha.tenant):
        assert Alert.objects.filter(key="sending:account_danger", level="critical").exists()


def test_a_lost_answer_is_unknown_never_resent_and_a_status_settles_it(alpha, phone, simulator, settings):
    _inbound(phone, "Hi", "wamid.in.6")
    settings.GRAPH_READ_TIMEOUT_SECONDS = 0.3
    simulator.state.faults = Faults(timeout_rate=1.0, timeout_seconds=1.0)
    message = _reply(alpha, phone)
    unknown = _run(alpha, message.pk)
    assert unknown.state == "unknown"
    assert sweep_outbound()["requeued"] == 0  # never sent again blindly

    status = {
        "id": "wamid.LATE1",
        "status": "delivered",
        "timestamp": str(int(time.time())),
        "recipient_id": CUSTOMER,
        "biz_opaque_callback_data": dispatch.callback_data(unknown),
    }
    value = {"metadata": {"phone_number_id": phone.phone_number_id}, "statuses": [status]}
    deliver_webhook(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "0", "changes": [{"field": "messages", "value": value}]}],
        }
    )
    with tenant_context(alpha.tenant):
        settled = OutboundMessage.objects.get(pk=message.pk)
        stored = Message.objects.get(wamid="wamid.LATE1")
    assert (settled.state, settled.wamid) == ("sent", "wamid.LATE1")
    assert stored.status == "delivered"  # the waiting status applied once the message appeared


def test_a_worker_killed_after_the_claim_leaves_unknown_after_the_timeout(alpha, stored_phone):
    message = _reply(alpha, stored_phone)
    with tenant_context(alpha.tenant):
        OutboundMessage.objects.filter(pk=message.pk).update(
            state="sending", claimed_at=timezone.now() - dispatch.SENDING_TIMEOUT - timedelta(seconds=1)
        )
    assert sweep_outbound()["unknown"] == 1
    with platform_context("test"):
        assert OutboundMessage.all_tenants.get(pk=message.pk).state == "unknown"


def test_stop_is_confirmed_through_the_dispatcher_once(alpha, phone, simulator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _inbound(phone, "STOP", "wamid.in.stop")
        _inbound(phone, "STOP", "wamid.in.stop")  # Meta re-delivers: one reply only
    with tenant_context(alpha.tenant):
        [reply] = OutboundMessage.objects.filter(origin="keyword_reply")
    assert reply.category == "SERVICE" and "no longer receive" in json.dumps(reply.content)
    assert _run(alpha, reply.pk).state == "sent"  # the keyword itself opened the window
    assert simulator.state.sends_per_recipient() == {CUSTOMER: 1}


def test_bad_requests_are_refused_with_a_reason(alpha, phone, api_client_for):
    api = api_client_for(alpha.agent)
    both = api.post("/api/v1/messages", {"phone_number_id": phone.pk, "to": CUSTOMER}, format="json")
    assert both.status_code == 400
    bad_number = api.post("/api/v1/messages", {"phone_number_id": phone.pk, "to": "12", "text": "x"}, format="json")
    assert bad_number.status_code == 400 and "to:" in bad_number.json()["detail"]
    viewer = api_client_for(alpha.viewer).post(
        "/api/v1/messages", {"phone_number_id": phone.pk, "to": CUSTOMER, "text": "x"}, format="json"
    )
    assert viewer.status_code == 403
    with tenant_context(alpha.tenant):
        assert OutboundMessage.objects.count() == 0


def _until_final(alpha, message_id: int, *, rounds: int = 10) -> OutboundMessage:
    """Runs the job again and again, as the sweeper would once each retry is due (and the
    circuit breaker's cooldown has passed: campaigns/tests/test_faults.py runs the breaker's clock)."""
    for _ in range(rounds):
        message = _run(alpha, message_id)
        if message.state != "queued":
            return message
        with tenant_context(alpha.tenant):
            OutboundMessage.objects.filter(pk=message_id).update(next_attempt_at=timezone.now())
            breaker_for(PhoneNumber.objects.select_related("account").get(pk=message.phone_number_id).account).reset()
    return message


def test_meta_unreachable_for_the_whole_run_retries_with_backoff_then_fails_clearly(alpha, phone, simulator, settings):
    _inbound(phone, "Hi", "wamid.in.7")
    settings.META_SANDBOX_URL = "http://127.0.0.1:9"  # nothing listens: connection refused
    message = _reply(alpha, phone)
    first = _run(alpha, message.pk)
    assert first.state == "queued" and first.next_attempt_at > timezone.now()  # not `unknown`: never connected
    final = _until_final(alpha, message.pk)
    assert (final.state, final.attempts) == ("failed", failures.MAX_ATTEMPTS)
    assert "Gave up after 6 attempts" in final.error_detail


def test_throttling_for_a_while_slows_down_then_everything_is_sent(alpha, phone, simulator):
    _inbound(phone, "Hi", "wamid.in.8")
    simulator.state.faults = Faults(throttle_rate=1.0)
    message = _reply(alpha, phone)
    assert _run(alpha, message.pk).state == "queued"
    simulator.state.faults = Faults()  # Meta lets us through again
    with tenant_context(alpha.tenant):
        OutboundMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert _until_final(alpha, message.pk).state == "sent"
    assert simulator.state.sends_per_recipient() == {CUSTOMER: 1}


def test_a_queued_message_whose_job_was_lost_is_handed_over_again(alpha, stored_phone):
    _reply(alpha, stored_phone)
    with platform_context("test"):
        assert (alpha.tenant.pk, stored_phone.pk) not in dispatch.due_numbers()  # its stream may still be coming
        later = timezone.now() + dispatch.LOST_JOB_AFTER + timedelta(seconds=1)
        assert (alpha.tenant.pk, stored_phone.pk) in dispatch.due_numbers(now=later)


def test_disconnecting_the_number_skips_its_queued_sends_at_once_with_the_reason(alpha, phone, simulator):
    from whatsapp.connections.numbers import account_disconnect

    _inbound(phone, "Hi", "wamid.in.stop.1")
    platform_sending_set(enabled=False, reason="incident", actor=None)
    held = _run(alpha, _reply(alpha, phone).pk)  # held for the kill-switch, due in a minute
    waiting = _reply(alpha, phone)  # its job not run yet
    assert held.state == "queued" and held.next_attempt_at > timezone.now()
    platform_sending_set(enabled=True, reason="", actor=None)

    with tenant_context(alpha.tenant):
        account_disconnect(account=phone.account, actor=alpha.admin.user)
        rows = list(OutboundMessage.objects.filter(pk__in=[held.pk, waiting.pk]))

    reason = f"The WhatsApp number {phone.display_phone_number} was disconnected: reconnect it to send again."
    assert {(row.state, row.error_detail, row.hold_reason) for row in rows} == {("skipped", reason, "")}
    assert _run(alpha, waiting.pk).state == "skipped"  # its job, arriving late, sends nothing
    assert simulator.state.sends_per_recipient() == {}


def test_a_deactivated_number_skips_its_sends_with_the_reason(alpha, phone, simulator):
    _inbound(phone, "Hi", "wamid.in.stop.2")
    message = _reply(alpha, phone)
    with tenant_context(alpha.tenant):
        PhoneNumber.objects.filter(pk=phone.pk).update(is_active=False)  # as staff would, in Django admin

    skipped = _run(alpha, message.pk)

    assert skipped.state == "skipped"
    assert (
        skipped.error_detail
        == f"The WhatsApp number {phone.display_phone_number} was deactivated: nothing is sent from it."
    )
    assert simulator.state.sends_per_recipient() == {}


def test_staff_switching_a_number_off_skips_its_queued_sends_at_once(alpha, phone, simulator):
    from whatsapp.connections.numbers import phone_number_staff_update

    _inbound(phone, "Hi", "wamid.in.stop.3")
    waiting = _reply(alpha, phone)  # its job not run yet

    with platform_context("test: staff edit"):
        phone_number_staff_update(phone=PhoneNumber.all_tenants.get(pk=phone.pk), actor=None, is_active=False)
    with tenant_context(alpha.tenant):
        row = OutboundMessage.objects.get(pk=waiting.pk)

    assert row.state == "skipped"
    assert "was deactivated" in row.error_detail
    assert simulator.state.sends_per_recipient() == {}


def test_a_burst_to_one_number_is_one_stream_job_that_sends_each_once(
    alpha, phone, simulator, django_capture_on_commit_callbacks
):
    from aerostic.core import queues

    content = {"type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}}}
    recipients = [str(919810000000 + n) for n in range(30)]
    with tenant_context(alpha.tenant), django_capture_on_commit_callbacks(execute=True):
        hello = MessageTemplate.objects.get(account=phone.account, name="hello_world")
        for number in recipients:  # one request each, each committed on its own
            with transaction.atomic():
                dispatch.message_enqueue(
                    phone=phone, to=number, content=content, category="UTILITY", origin="api", template=hello
                )
    sends = queues.get_queue("sends")
    assert sends.count == 1  # the number's stream waits in the queue once, not once per message

    assert send_outbound(tenant_id=alpha.tenant.pk, phone_id=phone.pk)["sent"] == 30
    assert simulator.state.sends_per_recipient() == dict.fromkeys(recipients, 1)
    with tenant_context(alpha.tenant):
        assert set(OutboundMessage.objects.values_list("state", flat=True)) == {"sent"}


def test_a_send_enqueued_while_the_stream_holds_the_number_is_sent_by_that_stream(alpha, phone, simulator, monkeypatch):
    """The second job finds the lock taken and leaves; the holder sees the new row before it ends."""
    from whatsapp.sending import sender

    content = {"type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}}}
    with tenant_context(alpha.tenant):
        hello = MessageTemplate.objects.get(account=phone.account, name="hello_world")
        first = dispatch.message_enqueue(
            phone=phone, to="919810000001", content=content, category="UTILITY", origin="api", template=hello
        )
    original, late = sender.NumberSender.record_sent, []

    def record_then_enqueue(self, chunk):
        original(self, chunk)
        if not late:
            with tenant_context(alpha.tenant):
                late.append(
                    dispatch.message_enqueue(
                        phone=phone,
                        to="919810000002",
                        content=content,
                        category="UTILITY",
                        origin="api",
                        template=hello,
                    )
                )
            # Its own job runs now, while the first stream still holds the number: it must leave.
            assert send_outbound(tenant_id=alpha.tenant.pk, phone_id=phone.pk) == {"result": "another job is on this"}

    monkeypatch.setattr(sender.NumberSender, "record_sent", record_then_enqueue)
    result = send_outbound(tenant_id=alpha.tenant.pk, message_id=first.pk)
    assert result["sent"] == 2
    assert simulator.state.sends_per_recipient() == {"919810000001": 1, "919810000002": 1}
