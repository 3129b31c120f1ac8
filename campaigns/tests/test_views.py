"""The campaign pages: list, draft form and variable mapping, review and launch, the live campaign
page with pause / resume / cancel, recipients and their CSV export — for the roles and tenants that
may and may not use them. Real Postgres, Redis and the Graph simulator; nothing of ours mocked."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime
from types import SimpleNamespace

import django_rq
import pytest
from django.contrib.messages import get_messages

from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import tenant_context
from campaigns import engine, services
from campaigns.models import Campaign, CampaignMessage
from campaigns.views.common import estimate_view
from contacts.services import attribute_define, contact_create, list_create, list_members_add
from tenants.models import Tenant
from whatsapp.message_templates.services import templates_sync
from whatsapp.models import MessageTemplate, PhoneNumber

pytestmark = pytest.mark.django_db

ORDER_BODY = "Hi {{1}}, your order {{2}} ships today."
FULL_NUMBERS = ("919812345621", "919812345622")


@pytest.fixture
def world(alpha, connected, simulator):
    """Alpha's sandbox number with three templates (approved with variables, approved without,
    a local draft never approved) and a list of two contacts, one named like a spreadsheet formula."""
    simulator.state.add_template(
        connected.waba_id,
        name="order_update",
        language="en_US",
        category="UTILITY",
        components=[{"type": "BODY", "text": ORDER_BODY, "example": {"body_text": [["Ana", "#1042"]]}}],
        status="APPROVED",
    )
    user = alpha.admin.user
    with tenant_context(alpha.tenant):
        templates_sync(account=connected)
        phone = PhoneNumber.objects.select_related("account").get(account=connected)
        order = MessageTemplate.objects.get(account=connected, name="order_update")
        hello = MessageTemplate.objects.get(account=connected, name="hello_world")
        unapproved = MessageTemplate.objects.create(
            account=connected,
            name="spring_sale",
            language="en_US",
            category="UTILITY",
            components=[{"type": "BODY", "text": "Our spring sale starts today."}],
            status=MessageTemplate.Status.DRAFT,
        )
        asha = contact_create(phone="+91 98123 45621", name="Asha Rao", actor=user)
        formula = contact_create(phone="+91 98123 45622", name='=HYPERLINK("http://evil.test","x")', actor=user)
        vips = list_create(name="VIPs", actor=user)
        list_members_add(contact_list=vips, contact_ids=[asha.pk, formula.pk], actor=user)
    return SimpleNamespace(
        phone=phone, order=order, hello=hello, unapproved=unapproved, asha=asha, formula=formula, vips=vips
    )


ORDER_MAPPING = {
    "body": {
        "1": {"source": "field", "value": "first_name", "fallback": "there"},
        "2": {"source": "constant", "value": "#1042"},
    }
}


def _draft(alpha, world, *, template=None, mapping=None, name="Spring launch") -> Campaign:
    template = template or world.order
    with tenant_context(alpha.tenant):
        return services.campaign_create(
            name=name,
            phone_number_id=world.phone.pk,
            list_ids=[world.vips.pk],
            variants=[
                {
                    "template_id": template.pk,
                    "percentage": 100,
                    "mapping": ORDER_MAPPING if mapping is None and template == world.order else (mapping or {}),
                }
            ],
            actor=alpha.admin.user,
        )


def _reload(alpha, campaign: Campaign) -> Campaign:
    with tenant_context(alpha.tenant):
        return Campaign.objects.get(pk=campaign.pk)


def _count(alpha, model, **filters) -> int:
    with tenant_context(alpha.tenant):
        return model.objects.filter(**filters).count()


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _queued_jobs() -> int:
    return django_rq.get_queue("campaigns").count


def _form_data(world, **overrides) -> dict:
    data = {
        "name": "Diwali offers",
        "phone_number": str(world.phone.pk),
        "lists": [str(world.vips.pk)],
        "schedule": "launch",
        "send_at": "",
        "variant_a_template": str(world.order.pk),
        "variant_a_percentage": "100",
        "variant_b_template": "",
        "variant_b_percentage": "",
        "variant_c_template": "",
        "variant_c_percentage": "",
    }
    data.update(overrides)
    return data


def _launch(alpha, client, campaign, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/campaigns/{campaign.pk}/launch/")
    assert response.status_code == 302 and response.url == f"/campaigns/{campaign.pk}/"
    return _reload(alpha, campaign)


# --- the list


def test_the_list_shows_each_campaign_with_its_status_number_template_and_rates(alpha, world, login_client):
    _draft(alpha, world, name="Spring launch")
    response = login_client(alpha.admin).get("/campaigns/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Spring launch" in body and "Draft" in body and "order_update" in body
    assert world.phone.display_phone_number in body
    assert "New campaign" in body


def test_the_list_filters_by_status(alpha, world, login_client):
    _draft(alpha, world, name="Spring launch")
    client = login_client(alpha.admin)
    assert "Spring launch" in client.get("/campaigns/?status=draft").content.decode()
    assert "Spring launch" not in client.get("/campaigns/?status=running").content.decode()


def test_a_viewer_sees_the_list_and_a_campaign_but_cannot_create_edit_or_launch(alpha, world, login_client):
    campaign = _draft(alpha, world)
    viewer = login_client(alpha.viewer)
    listing = viewer.get("/campaigns/")
    assert listing.status_code == 200 and "New campaign" not in listing.content.decode()
    assert viewer.get(f"/campaigns/{campaign.pk}/").status_code == 200
    assert viewer.get("/campaigns/new/").status_code == 403
    assert viewer.post("/campaigns/new/", _form_data(world)).status_code == 403
    assert viewer.get(f"/campaigns/{campaign.pk}/edit/").status_code == 403
    assert viewer.post(f"/campaigns/{campaign.pk}/launch/").status_code == 403
    assert viewer.post(f"/campaigns/{campaign.pk}/delete/").status_code == 403
    assert _reload(alpha, campaign).status == "draft" and _count(alpha, Campaign) == 1
    assert _queued_jobs() == 0


def test_an_agent_may_not_launch_either(alpha, world, login_client):
    campaign = _draft(alpha, world)
    assert login_client(alpha.agent).post(f"/campaigns/{campaign.pk}/launch/").status_code == 403
    assert _reload(alpha, campaign).status == "draft"


# --- the draft


def test_the_new_campaign_form_offers_the_number_lists_and_templates(alpha, world, login_client):
    body = login_client(alpha.admin).get("/campaigns/new/").content.decode()
    assert world.phone.display_phone_number in body
    assert "VIPs (2)" in body
    assert "order_update (en_US) · Approved" in body and "spring_sale (en_US) · Draft" in body
    assert '<label for="id_name">' in body


def test_a_new_draft_is_saved_and_leads_to_the_variable_mapping(alpha, world, login_client):
    response = login_client(alpha.admin).post("/campaigns/new/", _form_data(world))
    with tenant_context(alpha.tenant):
        campaign = Campaign.objects.get()
        variant = campaign.variants.get()
    assert response.status_code == 302 and response.url == f"/campaigns/{campaign.pk}/mapping/"
    assert (campaign.name, campaign.status, campaign.list_ids, campaign.send_at) == (
        "Diwali offers",
        "draft",
        [world.vips.pk],
        None,
    )
    assert (variant.label, variant.template_id, variant.percentage, variant.mapping) == ("A", world.order.pk, 100, {})


def test_a_draft_without_variables_goes_straight_to_the_review(alpha, world, login_client):
    response = login_client(alpha.admin).post(
        "/campaigns/new/", _form_data(world, variant_a_template=str(world.hello.pk))
    )
    assert response.status_code == 302 and response.url.endswith("/review/")


@pytest.mark.parametrize(
    ("overrides", "field_error"),
    [
        pytest.param({"name": "  "}, "This field is required.", id="empty-name"),
        pytest.param({"variant_a_template": ""}, "This field is required.", id="no-template"),
        pytest.param(
            {"variant_b_template": "order", "variant_a_percentage": "60", "variant_b_percentage": "30"},
            "add up to 90, not 100",
            id="shares-not-100",
        ),
        pytest.param({"schedule": "later", "send_at": ""}, "Choose the date and time", id="no-time"),
        pytest.param({"schedule": "later", "send_at": "2020-01-01T10:00"}, "in the future", id="past-time"),
        pytest.param({"variant_c_template": "hello"}, "Fill variant B before variant C.", id="c-without-b"),
    ],
)
def test_bad_input_shows_the_problem_keeps_the_input_and_stores_nothing(
    alpha, world, login_client, overrides, field_error
):
    ids = {"order": str(world.order.pk), "hello": str(world.hello.pk)}
    overrides = {key: ids.get(value, value) for key, value in overrides.items()}
    response = login_client(alpha.admin).post("/campaigns/new/", _form_data(world, **{"name": "Keep me", **overrides}))
    body = response.content.decode()
    assert response.status_code == 200
    assert field_error in body
    if "name" not in overrides:
        assert 'value="Keep me"' in body
    assert _count(alpha, Campaign) == 0


def test_a_template_of_another_account_is_refused_next_to_the_variant(alpha, world, login_client, simulator):
    from whatsapp.models import WhatsAppAccount

    with tenant_context(alpha.tenant):
        other = WhatsAppAccount.objects.create(waba_id="999000", name="Other", mode="sandbox")
        foreign = MessageTemplate.objects.create(
            account=other, name="elsewhere", language="en_US", category="UTILITY", status="APPROVED"
        )
    response = login_client(alpha.admin).post("/campaigns/new/", _form_data(world, variant_a_template=str(foreign.pk)))
    assert "Choose a template of this number&#x27;s WhatsApp account." in response.content.decode()
    assert _count(alpha, Campaign) == 0


def test_the_send_time_is_read_in_the_workspace_time_zone(alpha, world, login_client):
    Tenant.objects.filter(pk=alpha.tenant.pk).update(timezone="Asia/Kolkata")
    client = login_client(alpha.admin)
    client.post("/campaigns/new/", _form_data(world, schedule="later", send_at="2031-03-01T10:00"))
    with tenant_context(alpha.tenant):
        campaign = Campaign.objects.get()
    assert campaign.send_at == datetime(2031, 3, 1, 4, 30, tzinfo=UTC)
    edit = client.get(f"/campaigns/{campaign.pk}/edit/").content.decode()
    assert 'value="2031-03-01T10:00"' in edit and "Asia/Kolkata" in edit


def test_editing_a_draft_keeps_the_mapping_of_an_unchanged_template(alpha, world, login_client):
    campaign = _draft(alpha, world)
    response = login_client(alpha.admin).post(
        f"/campaigns/{campaign.pk}/edit/", _form_data(world, name="Spring launch, take 2")
    )
    with tenant_context(alpha.tenant):
        campaign = Campaign.objects.get(pk=campaign.pk)
        mapping = campaign.variants.get().mapping
    assert response.status_code == 302
    assert campaign.name == "Spring launch, take 2"
    assert mapping["body"]["2"] == {"source": "constant", "value": "#1042"}


def test_a_launched_campaign_cannot_be_edited(alpha, world, login_client, django_capture_on_commit_callbacks):
    campaign = _draft(alpha, world)
    client = login_client(alpha.admin)
    _launch(alpha, client, campaign, django_capture_on_commit_callbacks)
    response = client.get(f"/campaigns/{campaign.pk}/edit/")
    assert response.status_code == 302 and response.url == f"/campaigns/{campaign.pk}/"
    post = client.post(f"/campaigns/{campaign.pk}/edit/", _form_data(world, name="Changed"))
    assert "Only a draft can be edited" in " ".join(_messages(post))
    assert _reload(alpha, campaign).name == "Spring launch"


def test_a_draft_is_deleted(alpha, world, login_client):
    campaign = _draft(alpha, world)
    response = login_client(alpha.admin).post(f"/campaigns/{campaign.pk}/delete/")
    assert response.status_code == 302 and response.url == "/campaigns/"
    assert _count(alpha, Campaign) == 0


# --- the variable mapping


def _mapping_data(**overrides) -> dict:
    data = {
        "A-body-1-source": "field",
        "A-body-1-field": "first_name",
        "A-body-1-text": "",
        "A-body-1-fallback": "there",
        "A-body-2-source": "constant",
        "A-body-2-field": "first_name",
        "A-body-2-text": "#1042",
        "A-body-2-fallback": "",
        "then": "review",
    }
    data.update(overrides)
    return data


def test_the_mapping_page_has_a_row_per_variable(alpha, world, login_client):
    campaign = _draft(alpha, world, mapping={})
    body = login_client(alpha.admin).get(f"/campaigns/{campaign.pk}/mapping/").content.decode()
    assert "Body {{1}}" in body and "Body {{2}}" in body and "example: Ana" in body
    assert 'name="A-body-1-source"' in body and 'name="A-body-2-fallback"' in body


def test_the_mapping_is_saved_and_leads_to_the_review(alpha, world, login_client):
    campaign = _draft(alpha, world, mapping={})
    with tenant_context(alpha.tenant):
        attribute_define(key="city", label="City", kind="text", actor=alpha.admin.user)
    response = login_client(alpha.admin).post(
        f"/campaigns/{campaign.pk}/mapping/",
        _mapping_data(**{"A-body-2-source": "attribute", "A-body-2-attribute": "city", "A-body-2-fallback": "Pune"}),
    )
    with tenant_context(alpha.tenant):
        mapping = Campaign.objects.get(pk=campaign.pk).variants.get().mapping
    assert response.status_code == 302 and response.url == f"/campaigns/{campaign.pk}/review/"
    assert mapping == {
        "body": {
            "1": {"source": "field", "value": "first_name", "fallback": "there"},
            "2": {"source": "attribute", "value": "city", "fallback": "Pune"},
        }
    }


def test_a_bad_mapping_row_shows_its_problem_and_saves_nothing(alpha, world, login_client):
    campaign = _draft(alpha, world, mapping={})
    response = login_client(alpha.admin).post(
        f"/campaigns/{campaign.pk}/mapping/", _mapping_data(**{"A-body-2-text": "   "})
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Body {{2}}: the fixed text is empty." in body
    assert 'value="there"' in body  # what the person typed stays
    with tenant_context(alpha.tenant):
        assert Campaign.objects.get(pk=campaign.pk).variants.get().mapping == {}


def test_a_partial_mapping_is_saved_but_the_review_refuses_the_launch(alpha, world, login_client):
    campaign = _draft(alpha, world, mapping={})
    client = login_client(alpha.admin)
    client.post(f"/campaigns/{campaign.pk}/mapping/", _mapping_data(**{"A-body-2-source": ""}))
    with tenant_context(alpha.tenant):
        assert set(Campaign.objects.get(pk=campaign.pk).variants.get().mapping["body"]) == {"1"}
    review = client.get(f"/campaigns/{campaign.pk}/review/").content.decode()
    assert "the variable mapping is incomplete" in review


# --- review and launch


def test_the_review_shows_audience_countries_estimate_and_a_preview_with_the_first_contact(alpha, world, login_client):
    campaign = _draft(alpha, world)
    response = login_client(alpha.admin).get(f"/campaigns/{campaign.pk}/review/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "The campaign cannot be launched yet" not in body
    assert re.search(r"Audience</div><div class=\"stat-value\">2<", body)
    assert "<td>IN</td><td>2</td>" in body
    with tenant_context(alpha.tenant):
        estimate = services.launch_check(campaign).estimate
    assert estimate["status"] == "unknown" and html.escape(estimate["reason"]) in body  # no rate card loaded
    assert "Hi Asha, your order #1042 ships today." in body
    assert "+91 98••••21" in body and not any(number in body for number in FULL_NUMBERS)
    assert re.search(r'<button class="btn btn-primary" type="submit" data-busy="Launching…">Launch now', body)


def test_with_a_rate_card_the_review_and_the_campaign_page_show_the_estimated_amount(
    alpha, world, login_client, django_capture_on_commit_callbacks
):
    from billing.tests.support import seed

    seed()  # the rate cards and markets shipped in billing/data
    campaign = _draft(alpha, world)
    client = login_client(alpha.admin)
    with tenant_context(alpha.tenant):
        shown = estimate_view(services.launch_check(campaign).estimate)
    assert shown["known"] and shown["text"].endswith(("USD", "INR", "EUR"))
    assert shown["text"] in client.get(f"/campaigns/{campaign.pk}/review/").content.decode()
    _launch(alpha, client, campaign, django_capture_on_commit_callbacks)
    assert shown["text"] in client.get(f"/campaigns/{campaign.pk}/").content.decode()


@pytest.mark.parametrize(
    ("estimate", "known", "text"),
    [
        pytest.param({}, False, "No estimate was made.", id="none"),
        pytest.param({"status": "unknown", "reason": "No card."}, False, "No card.", id="unknown"),
        pytest.param(
            {"status": "estimated", "currency": "USD", "total_micros": 1_234_567_800},
            True,
            "1,234.5678 USD",
            id="micros",
        ),
    ],
)
def test_the_estimate_is_shown_as_an_amount_or_with_the_reason_there_is_none(estimate, known, text):
    shown = estimate_view(estimate)
    assert (shown["known"], shown["text"]) == (known, text)


def test_a_launch_refused_for_an_unapproved_template_shows_why_and_enqueues_nothing(
    alpha, world, login_client, django_capture_on_commit_callbacks
):
    campaign = _draft(alpha, world, template=world.unapproved)
    client = login_client(alpha.admin)
    review = client.get(f"/campaigns/{campaign.pk}/review/").content.decode()
    assert "the template spring_sale (en_US) is draft, not approved" in review
    assert re.search(r"<button[^>]*disabled[^>]*>Launch now", review)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(f"/campaigns/{campaign.pk}/launch/")
    assert response.status_code == 302 and response.url == f"/campaigns/{campaign.pk}/review/"
    assert any("is draft, not approved" in message for message in _messages(response))
    assert _reload(alpha, campaign).status == "draft"
    assert _count(alpha, CampaignMessage) == 0 and _queued_jobs() == 0 and callbacks == []


def test_a_double_click_launches_once(alpha, world, login_client, django_capture_on_commit_callbacks):
    campaign = _draft(alpha, world)
    client = login_client(alpha.admin)
    launched = _launch(alpha, client, campaign, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(f"/campaigns/{campaign.pk}/launch/")
    assert launched.status == "running" and launched.launched_by == alpha.admin.user
    assert again.status_code == 302 and again.url == f"/campaigns/{campaign.pk}/"
    assert "This campaign was already launched." in _messages(again)
    assert _count(alpha, CampaignMessage) == 2
    assert _queued_jobs() == 1  # one batch, enqueued once
    assert _count(alpha, AuditEvent, action="campaign.launch") == 1


def test_a_scheduled_campaign_waits_for_its_time(alpha, world, login_client, django_capture_on_commit_callbacks):
    campaign = _draft(alpha, world)
    client = login_client(alpha.admin)
    client.post(f"/campaigns/{campaign.pk}/edit/", _form_data(world, schedule="later", send_at="2031-03-01T10:00"))
    launched = _launch(alpha, client, campaign, django_capture_on_commit_callbacks)
    assert launched.status == "scheduled" and _queued_jobs() == 0
    assert "Campaign scheduled: 2 recipients." in _messages(client.get(f"/campaigns/{campaign.pk}/"))


# --- the campaign page and its live statistics


def test_the_stats_poll_while_running_and_stop_once_the_campaign_completes(
    alpha, world, login_client, django_capture_on_commit_callbacks
):
    campaign = _draft(alpha, world)
    client = login_client(alpha.admin)
    _launch(alpha, client, campaign, django_capture_on_commit_callbacks)
    detail = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'hx-trigger="every 2s"' in detail and "Running" in detail and "Launched" in detail
    live = client.get(f"/campaigns/{campaign.pk}/stats/", HTTP_HX_REQUEST="true").content.decode()
    assert live.lstrip().startswith('<div id="campaign-stats"') and 'hx-trigger="every 2s"' in live
    assert "0 of 2 recipients done" in live

    with tenant_context(alpha.tenant):
        result = engine.send_batch(campaign.pk, 0)
    assert result["result"] == "done"

    final = client.get(f"/campaigns/{campaign.pk}/stats/").content.decode()
    assert "hx-trigger" not in final
    assert "Completed" in final and "2 of 2 recipients done (100%)" in final
    assert re.search(r'id="count-sent"><div class="stat-label">Sent</div><div class="stat-value">2<', final)


CITY_MAPPING = {"body": {"1": {"source": "attribute", "value": "city"}, "2": {"source": "constant", "value": "#1"}}}


def test_a_launch_where_everyone_would_be_skipped_is_refused(
    alpha, world, login_client, django_capture_on_commit_callbacks
):
    with tenant_context(alpha.tenant):
        attribute_define(key="city", label="City", kind="text", actor=alpha.admin.user)
    campaign = _draft(alpha, world, mapping=CITY_MAPPING)
    with django_capture_on_commit_callbacks(execute=True):
        response = login_client(alpha.admin).post(f"/campaigns/{campaign.pk}/launch/")
    # Nobody has a city and there is no fallback: every recipient would be skipped.
    assert response.url == f"/campaigns/{campaign.pk}/review/"
    assert any("Every recipient would be skipped" in message for message in _messages(response))
    assert _reload(alpha, campaign).status == "draft" and _queued_jobs() == 0


def test_skip_reasons_and_failures_show_on_the_campaign_page(
    alpha, world, login_client, django_capture_on_commit_callbacks, simulator
):
    from whatsapp.simulator.state import Faults

    with tenant_context(alpha.tenant):
        attribute_define(key="city", label="City", kind="text", actor=alpha.admin.user)
        from contacts.models import Contact

        Contact.objects.filter(pk=world.asha.pk).update(attributes={"city": "Pune"})
    campaign = _draft(alpha, world, mapping=CITY_MAPPING)
    client = login_client(alpha.admin)
    _launch(alpha, client, campaign, django_capture_on_commit_callbacks)
    simulator.state.faults = Faults(rejected={FULL_NUMBERS[0]: 131026})
    with tenant_context(alpha.tenant):
        engine.send_batch(campaign.pk, 0)
    body = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "Skipped at launch" in body and "No value for body {{1}} (city) and no fallback." in body
    assert "131026" in body and "cannot receive WhatsApp messages" in body


def test_pause_resume_and_cancel(alpha, world, login_client, django_capture_on_commit_callbacks):
    campaign = _draft(alpha, world)
    client = login_client(alpha.admin)
    _launch(alpha, client, campaign, django_capture_on_commit_callbacks)
    page = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert f'action="/campaigns/{campaign.pk}/pause/"' in page and 'data-confirm="Cancel' in page

    assert client.post(f"/campaigns/{campaign.pk}/pause/").status_code == 302
    assert _reload(alpha, campaign).status == "paused"
    paused = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert f'action="/campaigns/{campaign.pk}/resume/"' in paused and "Paused by a person." in paused

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/campaigns/{campaign.pk}/resume/")
    assert _reload(alpha, campaign).status == "running"

    client.post(f"/campaigns/{campaign.pk}/cancel/")
    assert _reload(alpha, campaign).status == "cancelled"
    assert _count(alpha, CampaignMessage, state="cancelled") == 2
    again = client.post(f"/campaigns/{campaign.pk}/pause/")
    assert "A cancelled campaign cannot be paused." in _messages(again)
    final = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "hx-trigger" not in final and "/pause/" not in final


def test_a_viewer_cannot_pause_or_cancel(alpha, world, login_client, django_capture_on_commit_callbacks):
    campaign = _draft(alpha, world)
    _launch(alpha, login_client(alpha.admin), campaign, django_capture_on_commit_callbacks)
    viewer = login_client(alpha.viewer)
    page = viewer.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "/pause/" not in page and "/cancel/" not in page
    assert viewer.post(f"/campaigns/{campaign.pk}/pause/").status_code == 403
    assert viewer.post(f"/campaigns/{campaign.pk}/cancel/").status_code == 403
    assert _reload(alpha, campaign).status == "running"


# --- recipients and the export


def _sent_campaign(alpha, world, client, django_capture_on_commit_callbacks) -> Campaign:
    campaign = _draft(alpha, world)
    _launch(alpha, client, campaign, django_capture_on_commit_callbacks)
    with tenant_context(alpha.tenant):
        engine.send_batch(campaign.pk, 0)
    return campaign


def test_the_recipients_table_is_masked_and_filtered(alpha, world, login_client, django_capture_on_commit_callbacks):
    client = login_client(alpha.viewer)
    campaign = _sent_campaign(alpha, world, login_client(alpha.admin), django_capture_on_commit_callbacks)
    body = client.get(f"/campaigns/{campaign.pk}/recipients/").content.decode()
    assert "Asha Rao" in body and "+91 98••••21" in body and "+91 98••••22" in body
    assert not any(number in body for number in FULL_NUMBERS)
    assert "Export CSV" in body
    assert "Asha Rao" not in client.get(f"/campaigns/{campaign.pk}/recipients/?state=failed").content.decode()
    assert "Asha Rao" in client.get(f"/campaigns/{campaign.pk}/recipients/?state=sent").content.decode()
    assert "Asha Rao" not in client.get(f"/campaigns/{campaign.pk}/recipients/?error_code=x").content.decode()


def test_the_csv_export_is_masked_formula_safe_filtered_and_audited(
    alpha, world, login_client, django_capture_on_commit_callbacks
):
    campaign = _sent_campaign(alpha, world, login_client(alpha.admin), django_capture_on_commit_callbacks)
    client = login_client(alpha.viewer)
    response = client.get(f"/campaigns/{campaign.pk}/recipients.csv?state=sent")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv"
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == [
        "contact",
        "number",
        "variant",
        "state",
        "error_code",
        "reason",
        "sent_at",
        "delivered_at",
        "read_at",
    ]
    by_number = {row[1]: row for row in rows[1:]}
    assert set(by_number) == {"+91 98••••21", "+91 98••••22"}
    assert by_number["+91 98••••22"][0] == '\'=HYPERLINK("http://evil.test","x")'
    assert by_number["+91 98••••21"][3] == "sent"
    assert not any(number in text for number in FULL_NUMBERS)
    with tenant_context(alpha.tenant):
        event = AuditEvent.objects.get(action="campaign.export")
    assert event.actor == alpha.viewer.user and event.metadata == {"filters": {"state": "sent"}}
    assert event.target_id == str(campaign.pk)

    none = b"".join(client.get(f"/campaigns/{campaign.pk}/recipients.csv?state=failed").streaming_content)
    assert none.decode().count("\n") == 1  # the header only


# --- tenancy


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/campaigns/{id}/"),
        ("get", "/campaigns/{id}/edit/"),
        ("post", "/campaigns/{id}/edit/"),
        ("get", "/campaigns/{id}/mapping/"),
        ("post", "/campaigns/{id}/mapping/"),
        ("get", "/campaigns/{id}/review/"),
        ("post", "/campaigns/{id}/launch/"),
        ("post", "/campaigns/{id}/pause/"),
        ("post", "/campaigns/{id}/resume/"),
        ("post", "/campaigns/{id}/cancel/"),
        ("post", "/campaigns/{id}/delete/"),
        ("get", "/campaigns/{id}/stats/"),
        ("get", "/campaigns/{id}/recipients/"),
        ("get", "/campaigns/{id}/recipients.csv"),
    ],
)
def test_another_workspaces_campaign_is_not_found(alpha, bravo, world, login_client, method, path):
    campaign = _draft(alpha, world)
    client = login_client(bravo.admin)
    response = getattr(client, method)(path.format(id=campaign.pk))
    assert response.status_code == 404
    assert _reload(alpha, campaign).status == "draft" and _count(alpha, Campaign) == 1
    assert "Spring launch" not in client.get("/campaigns/").content.decode()
    assert _queued_jobs() == 0


def test_under_asgi_the_csv_is_streamed_chunk_by_chunk(
    alpha, world, login_client, django_capture_on_commit_callbacks, monkeypatch
):
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    from campaigns.views import recipients

    campaign = _sent_campaign(alpha, world, login_client(alpha.admin), django_capture_on_commit_callbacks)
    client = AsyncClient()
    client.cookies = login_client(alpha.viewer).cookies

    async def fetch():
        response = await client.get(f"/campaigns/{campaign.pk}/recipients.csv")
        chunks = [chunk async for chunk in response.streaming_content]
        return response, chunks

    monkeypatch.setattr(recipients, "CSV_CHUNK", 1)
    response, chunks = async_to_sync(fetch)()
    assert response.status_code == 200 and response.is_async
    assert len(chunks) == 3  # the header, then one chunk per recipient
    assert "+91 98••••21" in b"".join(chunks).decode()
