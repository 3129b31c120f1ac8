"""The campaigns API: drafts in and out (each wrong input a 400 naming the field, nothing stored),
the pre-launch check, launch once (batch jobs enqueued once), pause / resume / cancel and their
wrong-state 409s, stats and recipients after a real batch against the simulator, roles, other
tenants, and numbers that never leave masked."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import django_rq
import pytest
from django.utils import timezone

from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import platform_context, tenant_context
from campaigns.models import Campaign, CampaignMessage, CampaignVariant
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
from contacts.models import Contact, ContactList
from whatsapp.tests.factories import MessageTemplateFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/campaigns/"
# Values that need no contact attribute (no audience created, so no attribute defined).
FIXED = {"body": {"1": {"source": "constant", "value": "friend"}, "2": {"source": "constant", "value": "A-1"}}}


@pytest.fixture
def contacts(alpha) -> ContactList:
    return audience(alpha, 3)


@pytest.fixture
def api(alpha, api_client_for):
    return api_client_for(alpha.admin)


def _body(phone, template, contacts, **changes) -> dict:
    body = {
        "name": "Spring sale",
        "phone_number": phone.pk,
        "list_ids": [contacts.pk],
        "segment_ids": [],
        "send_at": None,
        "variants": [{"template_id": template.pk, "percentage": 100, "mapping": MAPPING}],
    }
    return {**body, **changes}


def _campaigns(member) -> int:
    with tenant_context(member.tenant):
        return Campaign.objects.count()


def _queued_jobs() -> int:
    return django_rq.get_queue("campaigns").count


def _numbers(member) -> list[str]:
    """Every contact's full number, as stored and as digits only."""
    with tenant_context(member.tenant):
        numbers = [contact.phone.reveal() for contact in Contact.objects.all()]
    return [form for number in numbers for form in (number, number.lstrip("+"))]


# --- drafts


def test_create_stores_a_draft_and_answers_it(alpha, api, phone, template, contacts):
    send_at = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    response = api.post(URL, _body(phone, template, contacts, send_at=send_at.isoformat()), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft" and body["name"] == "Spring sale"
    assert body["phone_number"] == {"id": phone.pk, "display_phone_number": phone.display_phone_number}
    assert body["list_ids"] == [contacts.pk] and body["segment_ids"] == []
    assert body["variants"] == [
        {
            "label": "A",
            "template": {
                "id": template.pk,
                "name": "order_update",
                "language": "en_US",
                "category": "UTILITY",
                "status": "APPROVED",
            },
            "percentage": 100,
            "mapping": MAPPING,
        }
    ]
    assert body["recipients_total"] == 0 and body["launched_at"] is None
    with tenant_context(alpha.tenant):
        stored = Campaign.objects.get(pk=body["id"])
        assert stored.send_at == send_at and stored.created_by == alpha.admin.user
        assert AuditEvent.objects.filter(action="campaign.create", actor=alpha.admin.user).count() == 1


BAD_DRAFTS: list[tuple[str, Callable[[dict], None], str]] = [
    ("blank-name", lambda body: body.update(name="   "), "name"),
    ("unknown-number", lambda body: body.update(phone_number=999_999), "phone_number"),
    ("unknown-list", lambda body: body.update(list_ids=[999_999]), "audience"),
    ("no-variant", lambda body: body.update(variants=[]), "variants"),
    ("four-variants", lambda body: body.update(variants=body["variants"] * 4), "variants"),
    ("unknown-template", lambda body: body["variants"][0].update(template_id=999_999), "variant_A.template"),
    ("percentage-zero", lambda body: body["variants"][0].update(percentage=0), "variant_A.percentage"),
    (
        "percentages-not-100",
        lambda body: body.update(
            variants=[{**body["variants"][0], "percentage": 50}, {**body["variants"][0], "percentage": 40}]
        ),
        "variants",
    ),
    (
        "unknown-attribute",
        lambda body: body["variants"][0].update(mapping={"body": {"1": {"source": "attribute", "value": "shoe_size"}}}),
        "variant_A.mapping.body.1",
    ),
    (
        "unknown-field",
        lambda body: body["variants"][0].update(mapping={"body": {"1": {"source": "field", "value": "salary"}}}),
        "variant_A.mapping.body.1",
    ),
]


@pytest.mark.parametrize(("mutate", "where"), [(m, w) for _id, m, w in BAD_DRAFTS], ids=[i for i, _m, _w in BAD_DRAFTS])
def test_a_wrong_draft_is_refused_naming_the_field_and_nothing_is_stored(
    alpha, api, phone, template, contacts, mutate, where
):
    body = _body(phone, template, contacts)
    mutate(body)

    response = api.post(URL, body, format="json")

    assert response.status_code == 400, response.content
    problems = {problem["where"]: problem["message"] for problem in response.json()["problems"]}
    assert where in problems and problems[where]
    assert _campaigns(alpha) == 0


BAD_SHAPES: list[tuple[str, dict, str]] = [
    ("naive-send-at", {"send_at": "2030-06-01T09:00:00"}, "send_at"),
    ("send-at-not-a-date", {"send_at": "next tuesday"}, "send_at"),
    ("number-not-an-id", {"phone_number": "the blue one"}, "phone_number"),
    ("list-ids-not-ids", {"list_ids": ["vips"]}, "list_ids"),
    ("variants-not-a-list", {"variants": "order_update"}, "variants"),
]


@pytest.mark.parametrize(
    ("changes", "field"), [(c, f) for _id, c, f in BAD_SHAPES], ids=[i for i, _c, _f in BAD_SHAPES]
)
def test_input_of_the_wrong_shape_is_refused_by_field_and_nothing_is_stored(
    alpha, api, phone, template, contacts, changes, field
):
    response = api.post(URL, _body(phone, template, contacts, **changes), format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert _campaigns(alpha) == 0


def test_missing_name_and_number_are_refused(alpha, api, template, contacts):
    response = api.post(URL, {"variants": [{"template_id": template.pk}]}, format="json")
    assert response.status_code == 400
    assert {"name", "phone_number"} <= set(response.json())
    assert _campaigns(alpha) == 0


def test_put_replaces_a_draft_with_an_ab_test(alpha, api, phone, template, contacts, simulator, connected):
    other = approved_template(simulator, alpha, connected, name="order_update_b")
    campaign = draft(alpha, phone, template, contacts)
    variants = [
        {"template_id": template.pk, "percentage": 60, "mapping": MAPPING},
        {"template_id": other.pk, "percentage": 40, "mapping": MAPPING},
    ]

    response = api.put(
        f"{URL}{campaign.pk}/", _body(phone, template, contacts, name="Spring A/B", variants=variants), format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "Spring A/B"
    assert [(v["label"], v["template"]["name"], v["percentage"]) for v in body["variants"]] == [
        ("A", "order_update", 60),
        ("B", "order_update_b", 40),
    ]
    with tenant_context(alpha.tenant):
        assert CampaignVariant.objects.filter(campaign_id=campaign.pk).count() == 2


def test_put_with_a_wrong_input_keeps_the_draft(alpha, api, phone, template, contacts):
    campaign = draft(alpha, phone, template, contacts)
    response = api.put(f"{URL}{campaign.pk}/", _body(phone, template, contacts, name=""), format="json")
    assert response.status_code == 400
    assert refresh(alpha, campaign).name == "Spring sale"


def test_put_after_launch_is_a_conflict_and_changes_nothing(alpha, api, phone, template, contacts):
    campaign = launch(alpha, draft(alpha, phone, template, contacts))

    response = api.put(f"{URL}{campaign.pk}/", _body(phone, template, contacts, name="Renamed"), format="json")

    assert response.status_code == 409
    assert "draft" in response.json()["detail"]
    assert refresh(alpha, campaign).name == "Spring sale"


def test_get_list_filters_by_status_and_is_paginated(alpha, api, phone, template, contacts):
    first = draft(alpha, phone, template, contacts, name="First")
    launch(alpha, draft(alpha, phone, template, contacts, name="Second"))

    everything = api.get(URL).json()
    drafts = api.get(URL, {"status": "draft"}).json()

    assert everything["count"] == 2 and [row["name"] for row in everything["results"]] == ["Second", "First"]
    assert drafts["count"] == 1 and drafts["results"][0]["id"] == first.pk
    assert api.get(f"{URL}{first.pk}/").json()["name"] == "First"


def test_delete_removes_a_draft_but_not_a_running_campaign(alpha, api, phone, template, contacts):
    kept = launch(alpha, draft(alpha, phone, template, contacts, name="Running"))
    gone = draft(alpha, phone, template, contacts, name="Draft")

    assert api.delete(f"{URL}{gone.pk}/").status_code == 204
    refused = api.delete(f"{URL}{kept.pk}/")

    assert refused.status_code == 409 and "cancel it first" in refused.json()["detail"]
    with tenant_context(alpha.tenant):
        assert list(Campaign.objects.values_list("pk", flat=True)) == [kept.pk]


# --- the check and the launch


def test_check_shows_the_audience_by_country_and_the_estimate(alpha, api, phone, template, contacts):
    campaign = draft(alpha, phone, template, contacts)

    response = api.get(f"{URL}{campaign.pk}/check/")

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True and body["problems"] == []
    assert body["audience"] == 3 and body["by_country"] == {"IN": 3}
    assert body["estimate"]  # a figure, or why there is none: never a guess
    assert refresh(alpha, campaign).status == "draft"


def test_check_lists_what_stands_in_the_way(alpha, api):
    with tenant_context(alpha.tenant):  # the number and template straight from the factories: no simulator
        phone = PhoneNumberFactory()
        template = MessageTemplateFactory(account=phone.account)
        empty = ContactList.objects.create(tenant_id=alpha.tenant.pk, name="Nobody")
    campaign = draft(alpha, phone, template, empty, mapping=FIXED)

    body = api.get(f"{URL}{campaign.pk}/check/").json()

    assert body["ok"] is False and body["audience"] == 0
    assert any("audience is empty" in problem for problem in body["problems"])


def test_launch_snapshots_the_recipients_and_enqueues_the_batches_once(
    alpha, api, phone, template, contacts, django_capture_on_commit_callbacks
):
    campaign = draft(alpha, phone, template, contacts)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.post(f"{URL}{campaign.pk}/launch/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "running" and body["recipients_total"] == 3 and body["launched_at"]
    assert len(callbacks) == 1 and _queued_jobs() == 1
    assert states(alpha, campaign) == {"queued": 3}

    with django_capture_on_commit_callbacks(execute=True) as again:
        second = api.post(f"{URL}{campaign.pk}/launch/")
    assert second.status_code == 409 and "already launched" in second.json()["detail"]
    assert again == [] and _queued_jobs() == 1
    assert states(alpha, campaign) == {"queued": 3}
    with tenant_context(alpha.tenant):
        assert AuditEvent.objects.filter(action="campaign.launch").count() == 1


def test_a_scheduled_launch_waits_for_its_time(
    alpha, api, phone, template, contacts, django_capture_on_commit_callbacks
):
    campaign = draft(alpha, phone, template, contacts, send_at=timezone.now() + timedelta(hours=3))

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{URL}{campaign.pk}/launch/")

    assert response.status_code == 200 and response.json()["status"] == "scheduled"
    assert _queued_jobs() == 0 and states(alpha, campaign) == {"queued": 3}


def test_a_launch_the_check_refuses_answers_the_problems_and_changes_nothing(
    alpha, api, phone, template, django_capture_on_commit_callbacks
):
    with tenant_context(alpha.tenant):
        empty = ContactList.objects.create(tenant_id=alpha.tenant.pk, name="Nobody")
    campaign = draft(alpha, phone, template, empty, mapping=FIXED)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{URL}{campaign.pk}/launch/")

    assert response.status_code == 400
    problems = response.json()["problems"]
    assert problems[0]["where"] == "launch" and "audience is empty" in problems[0]["message"]
    assert refresh(alpha, campaign).status == "draft" and states(alpha, campaign) == {}
    assert _queued_jobs() == 0


# --- pause, resume, cancel


def test_pause_resume_and_cancel_move_a_campaign_and_refuse_wrong_states(
    alpha, api, phone, template, contacts, django_capture_on_commit_callbacks
):
    campaign = draft(alpha, phone, template, contacts)
    url = f"{URL}{campaign.pk}"
    assert api.post(f"{url}/pause/").status_code == 409  # a draft
    launch(alpha, campaign)

    paused = api.post(f"{url}/pause/", {"reason": "Typo in the offer"}, format="json")
    assert paused.status_code == 200
    assert paused.json()["status"] == "paused" and paused.json()["status_reason"] == "Typo in the offer"
    again = api.post(f"{url}/pause/")
    assert again.status_code == 409 and "cannot be paused" in again.json()["detail"]

    with django_capture_on_commit_callbacks(execute=True):
        resumed = api.post(f"{url}/resume/")
    assert resumed.status_code == 200 and resumed.json()["status"] == "running"
    assert _queued_jobs() == 1  # the batch with recipients still queued
    assert api.post(f"{url}/resume/").status_code == 409

    cancelled = api.post(f"{url}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["finished_at"]
    assert states(alpha, campaign) == {"cancelled": 3}
    for action in ("cancel", "resume", "pause", "launch"):
        response = api.post(f"{url}/{action}/")
        assert response.status_code == 409, action
    with tenant_context(alpha.tenant):
        actions = list(AuditEvent.objects.filter(action__startswith="campaign.").values_list("action", flat=True))
    assert sorted(actions) == sorted(
        ["campaign.create", "campaign.launch", "campaign.pause", "campaign.resume", "campaign.cancel"]
    )


# --- stats and recipients after a real batch


def test_stats_and_recipients_after_a_batch(alpha, api, phone, template, contacts, simulator):
    with tenant_context(alpha.tenant):
        ordered = list(Contact.objects.order_by("pk"))
        no_order = ordered[0]
        no_order.attributes = {}
        no_order.save()
        refused = ordered[1].phone.reveal().lstrip("+")
    simulator.state.faults.rejected = {refused: 131026}
    campaign = launch(alpha, draft(alpha, phone, template, contacts))

    [result] = run_batches(alpha, campaign)
    assert result["result"] == "done"
    assert states(alpha, campaign) == {"skipped": 1, "failed": 1, "sent": 1}

    stats = api.get(f"{URL}{campaign.pk}/stats/").json()
    assert stats["status"] == "completed" and stats["total"] == 3 and stats["recipients_total"] == 3
    assert stats["counts"]["sent"] == 1 and stats["counts"]["failed"] == 1 and stats["counts"]["skipped"] == 1
    assert stats["progress_percent"] == 100 and stats["failure_rate"] == 50.0
    assert stats["skip_reasons"] == {"No value for body {{2}} (order) and no fallback.": 1}
    [variant] = stats["variants"]
    assert variant["label"] == "A" and variant["template"]["name"] == "order_update" and variant["total"] == 3
    reasons = {(row["state"], row["code"]): row["count"] for row in stats["failure_reasons"]}
    assert reasons == {("failed", 131026): 1, ("skipped", None): 1}

    page = api.get(f"{URL}{campaign.pk}/recipients/").json()
    assert page["count"] == 3
    rows = {row["contact_id"]: row for row in page["results"]}
    assert rows[no_order.pk]["state"] == "skipped" and "no fallback" in rows[no_order.pk]["error_detail"]
    assert rows[no_order.pk]["contact_name"] == no_order.name and rows[no_order.pk]["phone_hint"] == no_order.phone_hint
    sent = next(row for row in page["results"] if row["state"] == "sent")
    assert sent["wamid"].startswith("wamid.") and sent["sent_at"] and sent["variant"] == "A"
    failed = next(row for row in page["results"] if row["state"] == "failed")
    assert failed["error_code"] == 131026 and failed["failed_at"] and failed["error_detail"]

    assert [row["state"] for row in api.get(f"{URL}{campaign.pk}/recipients/?state=sent").json()["results"]] == ["sent"]
    by_code = api.get(f"{URL}{campaign.pk}/recipients/", {"error_code": 131026}).json()
    assert [row["contact_id"] for row in by_code["results"]] == [failed["contact_id"]]
    assert api.get(f"{URL}{campaign.pk}/recipients/", {"variant": "B"}).json()["count"] == 0
    assert api.get(f"{URL}{campaign.pk}/recipients/", {"error_code": "x"}).json()["count"] == 0


def test_no_answer_carries_a_full_number(alpha, api, phone, template, contacts):
    campaign = launch(alpha, draft(alpha, phone, template, contacts))
    run_batches(alpha, campaign)
    numbers = _numbers(alpha)
    assert len(numbers) == 6

    for path in ("", "stats/", "recipients/", "check/"):
        text = api.get(f"{URL}{campaign.pk}/{path}").content.decode()
        assert not [number for number in numbers if number in text], path
    listing = api.get(URL).content.decode()
    assert not [number for number in numbers if number in listing]
    assert "token" not in listing.lower()


# --- who may


WRITES = [
    ("POST", "", "viewer"),
    ("PUT", "{id}/", "viewer"),
    ("DELETE", "{id}/", "viewer"),
    ("POST", "", "agent"),
    ("PUT", "{id}/", "agent"),
    ("POST", "{id}/launch/", "agent"),
    ("POST", "{id}/pause/", "agent"),
    ("POST", "{id}/resume/", "agent"),
    ("POST", "{id}/cancel/", "agent"),
    ("POST", "{id}/launch/", "viewer"),
]


@pytest.mark.parametrize(("method", "path", "role"), WRITES, ids=[f"{r} {m} {p}" for m, p, r in WRITES])
def test_roles_without_the_permission_are_refused_and_nothing_changes(
    alpha, api_client_for, phone, template, contacts, method, path, role, django_capture_on_commit_callbacks
):
    campaign = draft(alpha, phone, template, contacts)
    client = api_client_for(alpha.member(role))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.generic(
            method,
            URL + path.format(id=campaign.pk),
            json.dumps(_body(phone, template, contacts, name="Changed")),
            content_type="application/json",
        )

    assert response.status_code == 403, response.content
    assert _campaigns(alpha) == 1 and refresh(alpha, campaign).name == "Spring sale"
    assert refresh(alpha, campaign).status == "draft" and _queued_jobs() == 0


def test_viewers_and_agents_may_read(alpha, api_client_for, phone, template, contacts):
    campaign = draft(alpha, phone, template, contacts)
    for role in ("viewer", "agent"):
        client = api_client_for(alpha.member(role))
        for path in ("", f"{campaign.pk}/", f"{campaign.pk}/check/", f"{campaign.pk}/stats/"):
            assert client.get(URL + path).status_code == 200, (role, path)
        assert client.get(f"{URL}{campaign.pk}/recipients/").status_code == 200


def test_another_tenants_campaign_is_not_found_and_untouched(
    alpha, bravo, api_client_for, phone, template, contacts, django_capture_on_commit_callbacks
):
    campaign = draft(alpha, phone, template, contacts)
    bravo_admin = api_client_for(bravo.admin)
    url = f"{URL}{campaign.pk}/"

    with django_capture_on_commit_callbacks(execute=True):
        answers = [
            bravo_admin.get(url).status_code,
            bravo_admin.put(url, _body(phone, template, contacts, name="Mine"), format="json").status_code,
            bravo_admin.delete(url).status_code,
            bravo_admin.get(f"{url}check/").status_code,
            bravo_admin.post(f"{url}launch/").status_code,
            bravo_admin.post(f"{url}pause/").status_code,
            bravo_admin.post(f"{url}cancel/").status_code,
            bravo_admin.get(f"{url}stats/").status_code,
            bravo_admin.get(f"{url}recipients/").status_code,
        ]

    assert set(answers) == {404}
    assert bravo_admin.get(URL).json()["count"] == 0
    assert refresh(alpha, campaign).name == "Spring sale" and refresh(alpha, campaign).status == "draft"
    assert _queued_jobs() == 0
    with platform_context("test"):
        assert CampaignMessage.all_tenants.count() == 0
