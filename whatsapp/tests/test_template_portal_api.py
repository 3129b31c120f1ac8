"""The template builder page, its live preview, and the API: what a business user and an
integrator see, including every refusal."""

import pytest

from aerostic.core.tenant_context import tenant_context
from whatsapp.models import MessageTemplate

pytestmark = pytest.mark.django_db

BUILDER = {
    "name": "order_update",
    "language": "en_US",
    "category": "UTILITY",
    "parameter_format": "POSITIONAL",
    "header_format": "TEXT",
    "header_text": "Order {{1}}",
    "header_example": "#1042",
    "body": "Hi {{1}}, your order {{2}} ships today. Track it any time.",
    "body_examples": "Ana\n#1042",
    "footer": "Lucky Shrub",
    "button_0_type": "URL",
    "button_0_text": "Track",
    "button_0_value": "https://shop.example/t/{{1}}",
    "button_0_example": "https://shop.example/t/1042",
}


def test_the_list_shows_templates_with_their_status(connected, alpha, login_client):
    page = login_client(alpha.viewer).get("/templates/")
    assert page.status_code == 200
    assert "hello_world" in page.content.decode() and "Approved" in page.content.decode()
    assert "New template" not in page.content.decode()  # viewers cannot create
    admin_page = login_client(alpha.admin).get("/templates/?status=REJECTED")
    assert "hello_world" not in admin_page.content.decode()


def test_the_preview_renders_the_bubble_and_lists_problems(connected, alpha, login_client):
    client = login_client(alpha.agent)
    good = client.post("/whatsapp/templates/preview/", {**BUILDER, "account": connected.pk})
    assert "Hi Ana, your order #1042 ships today." in good.content.decode()
    assert "Meta would refuse" not in good.content.decode()
    bad = client.post("/whatsapp/templates/preview/", {**BUILDER, "account": connected.pk, "body": "{{1}} ships {{3}}"})
    text = bad.content.decode()
    assert "Meta would refuse this template" in text and "{{2}} is missing" in text


def test_builder_saves_a_draft_then_submits_it(simulator, connected, alpha, login_client):
    client = login_client(alpha.admin)
    saved = client.post("/whatsapp/templates/new/", {**BUILDER, "account": connected.pk, "action": "save"})
    assert saved.status_code == 302
    with tenant_context(alpha.tenant):
        draft = MessageTemplate.objects.get(name="order_update")
    assert draft.status == "DRAFT"
    assert draft.components[-1] == {
        "type": "BUTTONS",
        "buttons": [
            {
                "type": "URL",
                "text": "Track",
                "url": "https://shop.example/t/{{1}}",
                "example": ["https://shop.example/t/1042"],
            }
        ],
    }
    page = client.get(f"/whatsapp/templates/{draft.pk}/")
    assert page.status_code == 200 and "Ana" in page.content.decode()
    submitted = client.post(
        f"/whatsapp/templates/{draft.pk}/", {**BUILDER, "account": connected.pk, "action": "submit"}
    )
    assert submitted.status_code == 302
    with tenant_context(alpha.tenant):
        draft.refresh_from_db()
    assert draft.status == "PENDING" and draft.meta_template_id


def test_builder_shows_every_rule_broken_and_keeps_nothing_half_made(connected, alpha, login_client):
    client = login_client(alpha.admin)
    response = client.post(
        "/whatsapp/templates/new/",
        {**BUILDER, "account": connected.pk, "name": "Bad Name", "action": "save"},
    )
    assert response.status_code == 400
    assert "lowercase" in response.content.decode().lower()
    with tenant_context(alpha.tenant):
        assert not MessageTemplate.objects.filter(name__iexact="bad name").exists()


def _components():
    return [
        {"type": "BODY", "text": "Hi {{1}}, your order {{2}} ships today.", "example": {"body_text": [["Ana", "#1"]]}}
    ]


def test_api_creates_a_draft_and_reports_problems(connected, alpha, api_client_for):
    client = api_client_for(alpha.admin)
    created = client.post(
        "/api/v1/templates/",
        {
            "account_id": connected.pk,
            "name": "ship_note",
            "language": "en_US",
            "category": "UTILITY",
            "components": [{"type": "BODY", "text": "{{1}} ships"}],
        },
        format="json",
    )
    assert created.status_code == 201
    assert created.data["status"] == "DRAFT" and created.data["problems"]
    bad_name = client.post(
        "/api/v1/templates/",
        {
            "account_id": connected.pk,
            "name": "Ship Note",
            "language": "xx",
            "category": "UTILITY",
            "components": _components(),
        },
        format="json",
    )
    assert bad_name.status_code == 400
    assert {p["where"] for p in bad_name.data["problems"]} == {"name", "language"}


def test_api_submit_render_and_refusals(simulator, connected, alpha, api_client_for):
    admin = api_client_for(alpha.admin)
    draft = admin.post(
        "/api/v1/templates/",
        {
            "account_id": connected.pk,
            "name": "ship_note",
            "language": "en_US",
            "category": "UTILITY",
            "components": _components(),
        },
        format="json",
    ).data
    submitted = admin.post(f"/api/v1/templates/{draft['id']}/submit/", {}, format="json")
    assert submitted.status_code == 200 and submitted.data["status"] == "PENDING"
    again = admin.post(f"/api/v1/templates/{draft['id']}/submit/", {}, format="json")
    assert again.status_code == 409
    rendered = admin.post(
        f"/api/v1/templates/{draft['id']}/render/", {"values": {"body": {"1": "Ana", "2": "#7"}}}, format="json"
    )
    assert rendered.data["template"] == {
        "name": "ship_note",
        "language": {"code": "en_US"},
        "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "#7"}]}
        ],
    }
    missing = admin.post(f"/api/v1/templates/{draft['id']}/render/", {"values": {"body": {"1": "Ana"}}}, format="json")
    assert missing.status_code == 400 and missing.data["missing"] == ["body.2"]
    agent = api_client_for(alpha.agent)
    assert agent.patch(f"/api/v1/templates/{draft['id']}/", {"category": "MARKETING"}, format="json").status_code == 403


def test_add_a_language_starts_from_the_template_under_the_same_name(connected, alpha, login_client, bravo):
    with tenant_context(alpha.tenant):
        hello = MessageTemplate.objects.get(name="hello_world")
    page = login_client(alpha.admin).get(f"/whatsapp/templates/new/?from={hello.pk}")
    form = page.context["form"]
    assert (form.initial["name"], form.initial["body"][:7]) == ("hello_world", "Welcome")
    assert "language" not in form.initial
    assert login_client(bravo.admin).get(f"/whatsapp/templates/new/?from={hello.pk}").status_code == 404
    for odd in ("\u00b2", "9" * 20, "x"):  # names no template: a blank form, not an error
        page = login_client(alpha.admin).get("/whatsapp/templates/new/", {"from": odd})
        assert page.status_code == 200 and not page.context["form"].initial.get("name")


@pytest.fixture
def agents_edit_templates_but_cannot_submit(monkeypatch):
    """No built-in role edits without submitting: give agents the edit permission only."""
    from accounts.roles import ROLE_PERMISSIONS, Perm, Role

    assert Perm.TEMPLATES_SUBMIT not in ROLE_PERMISSIONS[Role.AGENT]
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.AGENT, ROLE_PERMISSIONS[Role.AGENT] | {Perm.TEMPLATES_EDIT})


def _hello_world_form(template, **changes) -> dict:
    from whatsapp.message_templates.forms import initial_from

    data = {key: value for key, value in initial_from(template).items() if value is not None}
    data["account"] = template.account_id
    return {**data, **changes}


def test_portal_edit_of_a_live_template_needs_the_submit_permission_like_the_api(
    simulator, connected, alpha, login_client, api_client_for, agents_edit_templates_but_cannot_submit
):
    with tenant_context(alpha.tenant):
        template = MessageTemplate.objects.get(name="hello_world")
    before = (template.status, template.components, len(simulator.state.requests))
    form = _hello_world_form(template, body="Welcome back! This message was edited.", action="save")
    portal = login_client(alpha.agent).post(f"/whatsapp/templates/{template.pk}/", form)
    api = api_client_for(alpha.agent).patch(
        f"/api/v1/templates/{template.pk}/", {"components": [{"type": "BODY", "text": "Edited"}]}, format="json"
    )
    assert (portal.status_code, api.status_code) == (403, 403)
    assert "resubmits it to Meta" in portal.content.decode() and "resubmits it to Meta" in api.json()["detail"]
    with tenant_context(alpha.tenant):
        template.refresh_from_db()
    assert (template.status, template.components, len(simulator.state.requests)) == before


def test_a_member_who_may_edit_but_not_submit_still_saves_drafts(
    connected, alpha, login_client, agents_edit_templates_but_cannot_submit
):
    client = login_client(alpha.agent)
    assert client.post("/whatsapp/templates/new/", {**BUILDER, "account": connected.pk, "action": "save"}).status_code
    with tenant_context(alpha.tenant):
        draft = MessageTemplate.objects.get(name="order_update")
    edited = client.post(
        f"/whatsapp/templates/{draft.pk}/", {**BUILDER, "footer": "Lucky Shrub team", "account": connected.pk}
    )
    assert edited.status_code == 302
    with tenant_context(alpha.tenant):
        draft.refresh_from_db()
    assert draft.status == "DRAFT" and {"type": "FOOTER", "text": "Lucky Shrub team"} in draft.components
    submit = client.post(f"/whatsapp/templates/{draft.pk}/", {**BUILDER, "account": connected.pk, "action": "submit"})
    assert submit.status_code == 403
