"""Templates against the simulator: hello_world on connect, submit → review webhook → approved,
rejected → edited → resubmitted → approved, paused / disabled by Meta, category and quality
updates, delete, and sync across many pages."""

import json
import time
from datetime import timedelta

import pytest
import requests

from aerostic.core.models import Alert
from aerostic.core.tenant_context import tenant_context
from aerostic.testsupport.webhooks import deliver_webhook
from whatsapp.message_templates.selectors import billing_category, is_sendable, pause_ends_at
from whatsapp.message_templates.services import (
    TemplateInvalid,
    TemplateRefused,
    template_delete,
    template_draft_save,
    template_refresh,
    template_submit,
    templates_sync,
)
from whatsapp.models import MessageTemplate

pytestmark = pytest.mark.django_db

ORDER_UPDATE = [
    {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["#1042"]}},
    {
        "type": "BODY",
        "text": "Hi {{1}}, your order {{2}} ships today. Track it any time.",
        "example": {"body_text": [["Ana", "#1042"]]},
    },
    {"type": "FOOTER", "text": "Lucky Shrub"},
    {
        "type": "BUTTONS",
        "buttons": [
            {
                "type": "URL",
                "text": "Track",
                "url": "https://shop.example/t/{{1}}",
                "example": ["https://shop.example/t/1042"],
            }
        ],
    },
]


def _relay(simulator, since: int = 0) -> list[str]:
    """Delivers what the simulator has 'sent' so far, signed, to our intake, and processes it."""
    return [deliver_webhook(payload).status for payload in simulator.webhooks.delivered[since:]]


def _wait_for_review(simulator, count: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reviews = [
            p
            for p in simulator.webhooks.delivered
            if p["entry"][0]["changes"][0]["field"].startswith("message_template")
        ]
        if len(reviews) >= count:
            return
        time.sleep(0.05)
    raise AssertionError("the simulator did not review the template in time")


def _draft(connected, alpha, name="order_update", components=None, category="UTILITY"):
    with tenant_context(alpha.tenant):
        template, problems = template_draft_save(
            account=connected,
            name=name,
            language="en_US",
            category=category,
            components=components or ORDER_UPDATE,
            actor=alpha.admin.user,
        )
    return template, problems


def test_a_new_connection_brings_metas_hello_world(connected, alpha):
    with tenant_context(alpha.tenant):
        template = MessageTemplate.objects.get()
        assert (template.name, template.language, template.category, template.status) == (
            "hello_world",
            "en_US",
            "UTILITY",
            "APPROVED",
        )
        assert is_sendable(template)


def test_draft_submit_review_webhook_approved(simulator, connected, alpha):
    template, problems = _draft(connected, alpha)
    assert problems == []
    assert template.status == "DRAFT"
    with tenant_context(alpha.tenant):
        template = template_submit(template=template, actor=alpha.admin.user)
    assert (template.status, bool(template.meta_template_id)) == ("PENDING", True)
    _wait_for_review(simulator, 1)
    assert _relay(simulator) == ["processed"]
    with tenant_context(alpha.tenant):
        template.refresh_from_db()
        assert template.status == "APPROVED"
        assert is_sendable(template)


def test_a_rejected_template_shows_why_is_edited_and_approved(simulator, connected, alpha):
    bad = json.loads(json.dumps(ORDER_UPDATE))
    bad[1]["text"] = "Hi {{1}}, win big at our casino with order {{2}} today."
    template, _ = _draft(connected, alpha, name="promo", components=bad, category="MARKETING")
    with tenant_context(alpha.tenant):
        template_submit(template=template, actor=alpha.admin.user)
    _wait_for_review(simulator, 1)
    _relay(simulator)
    with tenant_context(alpha.tenant):
        template.refresh_from_db()
        assert (template.status, template.rejected_reason) == ("REJECTED", "PROMOTIONAL")
        assert not is_sendable(template)
        assert Alert.objects.filter(key=f"template:{template.pk}:status", resolved_at=None).exists()
        template.components = ORDER_UPDATE
        template_submit(template=template, actor=alpha.admin.user)  # Meta's edit endpoint
        template.refresh_from_db()
        assert (template.status, template.rejected_reason) == ("PENDING", "")
    _wait_for_review(simulator, 2)
    _relay(simulator, since=1)
    with tenant_context(alpha.tenant):
        template.refresh_from_db()
    assert template.status == "APPROVED"


def test_meta_pausing_and_disabling_a_template_propagates(simulator, connected, alpha):
    with tenant_context(alpha.tenant):
        hello = MessageTemplate.objects.get(name="hello_world")
    for status in ("PAUSED", "DISABLED"):
        requests.post(
            f"{simulator.url}/_sim/templates/{hello.meta_template_id}/status", json={"status": status}, timeout=5
        )
    assert _relay(simulator) == ["processed", "processed"]
    with tenant_context(alpha.tenant):
        hello.refresh_from_db()
        assert (hello.status, hello.paused_count) == ("DISABLED", 1)
        assert not is_sendable(hello)
        assert Alert.objects.filter(key=f"template:{hello.pk}:status", level="critical").exists()


def _template_webhook(connected, field: str, value: dict) -> list[str]:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": connected.waba_id, "time": int(time.time()), "changes": [{"field": field, "value": value}]}],
    }
    return deliver_webhook(payload).outcome["changes"]


def test_an_announced_recategorisation_counts_for_billing_from_its_date(connected, alpha):
    from datetime import UTC, datetime

    with tenant_context(alpha.tenant):
        hello = MessageTemplate.objects.get(name="hello_world")
    applies_at = int(time.time()) + 86400
    (outcome,) = _template_webhook(
        connected,
        "template_category_update",
        {
            "message_template_id": int(hello.meta_template_id),
            "message_template_name": "hello_world",
            "message_template_language": "en_US",
            "new_category": "UTILITY",
            "correct_category": "MARKETING",
            "category_update_timestamp": applies_at,
        },
    )
    assert outcome["result"] == "processed"
    with tenant_context(alpha.tenant):
        hello.refresh_from_db()
    assert (hello.category, hello.pending_category) == ("UTILITY", "MARKETING")
    assert billing_category(hello) == "UTILITY"
    assert billing_category(hello, at=datetime.fromtimestamp(applies_at + 1, tz=UTC)) == "MARKETING"

    _template_webhook(
        connected,
        "template_category_update",
        {
            "message_template_id": int(hello.meta_template_id),
            "previous_category": "UTILITY",
            "new_category": "MARKETING",
        },
    )
    with tenant_context(alpha.tenant):
        hello.refresh_from_db()
    assert (hello.category, hello.pending_category) == ("MARKETING", "")
    assert [entry["to"] for entry in hello.category_history] == ["MARKETING"]


def test_quality_updates_and_unknown_templates(connected, alpha):
    with tenant_context(alpha.tenant):
        hello = MessageTemplate.objects.get(name="hello_world")
    (outcome,) = _template_webhook(
        connected,
        "message_template_quality_update",
        {
            "previous_quality_score": "GREEN",
            "new_quality_score": "RED",
            "message_template_id": int(hello.meta_template_id),
        },
    )
    assert outcome["quality"] == "RED"
    (unknown,) = _template_webhook(
        connected, "message_template_status_update", {"event": "APPROVED", "message_template_id": 999}
    )
    assert (unknown["result"], unknown["reason"]) == ("ignored", "unknown template id")
    with tenant_context(alpha.tenant):
        assert MessageTemplate.objects.count() == 1


def test_local_rules_refuse_before_meta_sees_anything(simulator, connected, alpha):
    bad = json.loads(json.dumps(ORDER_UPDATE))
    bad[1]["text"] = "{{1}} your order {{3}} ships"
    template, problems = _draft(connected, alpha, name="gappy", components=bad)
    assert problems  # kept as a draft, with every problem listed
    before = len(simulator.state.requests)
    with tenant_context(alpha.tenant), pytest.raises(TemplateInvalid) as refused:
        template_submit(template=template, actor=alpha.admin.user)
    assert len(refused.value.problems) == len(problems) >= 2
    assert not [r for r in simulator.state.requests[before:] if "message_templates" in r.get("path", "")]


def test_metas_refusal_is_shown_in_metas_words(simulator, connected, alpha):
    with tenant_context(alpha.tenant):
        MessageTemplate.objects.filter(name="hello_world").delete()  # only here: Meta still has it
    template, _ = _draft(
        connected,
        alpha,
        name="hello_world",
        components=[{"type": "BODY", "text": "Hello there, thanks for writing to us today."}],
    )
    with tenant_context(alpha.tenant), pytest.raises(TemplateRefused) as refused:
        template_submit(template=template, actor=alpha.admin.user)
    assert "already exists" in refused.value.message


def test_delete_removes_every_language_and_refresh_reads_meta(simulator, connected, alpha):
    with tenant_context(alpha.tenant):
        hello = MessageTemplate.objects.get(name="hello_world")
        assert template_refresh(template=hello).status == "APPROVED"
        assert template_delete(account=connected, name="hello_world", actor=alpha.admin.user) == 1
        hello.refresh_from_db()
        assert hello.status == "DELETED"


def test_sync_imports_hundreds_of_templates_across_pages(simulator, connected, alpha):
    for index in range(260):
        simulator.state.add_template(
            connected.waba_id,
            name=f"bulk_{index:03d}",
            language="en_US" if index % 2 else "es",
            category="MARKETING",
            components=[{"type": "BODY", "text": f"Offer number {index} for you"}],
            status="APPROVED",
        )
    with tenant_context(alpha.tenant):
        result = templates_sync(account=connected)
        assert (result.created, result.updated, result.deleted) == (260, 1, 0)
        assert MessageTemplate.objects.filter(status="APPROVED").count() == 261
        pages = [
            r for r in simulator.state.requests if "message_templates" in r.get("path", "") and r.get("method") == "GET"
        ]
        assert len(pages) >= 3
        simulator.state.templates.pop(next(t.id for t in simulator.state.templates.values() if t.name == "bulk_000"))
        again = templates_sync(account=connected)
        assert (again.created, again.deleted) == (0, 1)


def test_an_approved_template_edited_twice_in_a_day_meets_metas_limit(simulator, connected, alpha):
    with tenant_context(alpha.tenant):
        hello = MessageTemplate.objects.get(name="hello_world")
        hello.components = [
            *hello.components[:1],
            {"type": "BODY", "text": "Welcome aboard, we are glad you are here."},
        ]
        template_submit(template=hello, actor=alpha.admin.user)
        hello.status = "APPROVED"  # as if Meta approved the edit at once
        hello.save()
        simulator.state.templates[hello.meta_template_id].status = "APPROVED"
        with pytest.raises(TemplateRefused) as refused:
            template_submit(template=hello, actor=alpha.admin.user)
    assert "edit limit reached" in refused.value.message
    assert "once in 24 hours" in refused.value.message
    simulator_copy = simulator.state.templates[hello.meta_template_id]
    assert simulator_copy.status == "APPROVED"  # the refused edit changed nothing at Meta


def test_a_paused_template_says_when_the_pause_lifts_and_an_edit_unpauses_it_sooner(
    simulator, connected, alpha, login_client
):
    template, _ = _draft(connected, alpha)
    with tenant_context(alpha.tenant):
        template_submit(template=template, actor=alpha.admin.user)
    _wait_for_review(simulator, 1)
    _relay(simulator)
    with tenant_context(alpha.tenant):
        template.refresh_from_db()
    assert template.status == "APPROVED"

    requests.post(
        f"{simulator.url}/_sim/templates/{template.meta_template_id}/status", json={"status": "PAUSED"}, timeout=5
    )
    _relay(simulator, since=1)
    with tenant_context(alpha.tenant):
        template.refresh_from_db()
        first_pause = pause_ends_at(template)
    assert template.status == "PAUSED"
    assert first_pause == template.status_changed_at + timedelta(hours=3)
    page = login_client(alpha.admin).get(f"/whatsapp/templates/{template.pk}/")
    assert "The pause lifts by itself around" in page.content.decode()
    assert "To unpause it sooner" in page.content.decode()

    # Meta's documented way out before the pause ends: change the content, submit, get approved.
    with tenant_context(alpha.tenant):
        template.components = [*ORDER_UPDATE[:1], {**ORDER_UPDATE[1], "text": "Hi {{1}}, order {{2}} ships today."}]
        template_submit(template=template, actor=alpha.admin.user)
        template.refresh_from_db()
        assert (template.status, pause_ends_at(template)) == ("PENDING", None)
    _wait_for_review(simulator, 3)  # approval, pause, then the review of the edit
    _relay(simulator, since=2)
    with tenant_context(alpha.tenant):
        template.refresh_from_db()
        assert template.status == "APPROVED" and is_sendable(template)

    requests.post(
        f"{simulator.url}/_sim/templates/{template.meta_template_id}/status", json={"status": "PAUSED"}, timeout=5
    )
    _relay(simulator, since=3)
    with tenant_context(alpha.tenant):
        template.refresh_from_db()
        assert template.paused_count == 2
        assert pause_ends_at(template) == template.status_changed_at + timedelta(hours=6)
