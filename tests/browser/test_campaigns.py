"""A person in a real browser builds a campaign: the draft form, a variable mapped to the contact's
first name, the review with its preview, the launch (one click, however many), then watches the
live statistics reach "sent" while the batch runs — without reloading the page."""

import pytest
from playwright.sync_api import expect

from aerostic.core.tenant_context import tenant_context
from campaigns import engine
from campaigns.models import Campaign
from contacts.services import contact_create, list_create, list_members_add
from tests.browser.test_portal import _sign_in
from whatsapp.message_templates.services import templates_sync

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def audience(alpha, connected, simulator):
    simulator.state.add_template(
        connected.waba_id,
        name="order_update",
        language="en_US",
        category="UTILITY",
        components=[
            {
                "type": "BODY",
                "text": "Hi {{1}}, your order {{2}} ships today.",
                "example": {"body_text": [["Ana", "#1042"]]},
            }
        ],
        status="APPROVED",
    )
    user = alpha.admin.user
    with tenant_context(alpha.tenant):
        templates_sync(account=connected)
        asha = contact_create(phone="+91 98123 45621", name="Asha Rao", actor=user)
        ravi = contact_create(phone="+91 98123 45622", name="Ravi Kumar", actor=user)
        vips = list_create(name="VIPs", actor=user)
        list_members_add(contact_list=vips, contact_ids=[asha.pk, ravi.pk], actor=user)
    return vips


def test_admin_builds_launches_and_watches_a_campaign(page, live_server, alpha, audience):
    _sign_in(page, live_server, alpha.admin.user.email)
    page.goto(f"{live_server.url}/campaigns/")
    page.click("text=New campaign")

    page.fill("input[name=name]", "Order updates")
    page.get_by_label("VIPs (2)").check()
    page.get_by_label("Template").first.select_option(label="order_update (en_US) · Approved")
    page.click("text=Save draft and continue")

    expect(page.locator("h1")).to_contain_text("Variables: Order updates")
    first = page.locator("fieldset", has_text="Body {{1}}")
    first.get_by_label("Value from").select_option("field")
    expect(first.get_by_label("Fixed text")).to_be_hidden()  # only the chosen source's input shows
    first.get_by_label("Contact field").select_option("first_name")
    first.get_by_label("Fallback when the contact has no value").fill("there")
    second = page.locator("fieldset", has_text="Body {{2}}")
    second.get_by_label("Value from").select_option("constant")
    second.get_by_label("Fixed text").fill("#1042")
    page.click("text=Save and review")

    expect(page.locator("#preview-A")).to_have_text("Hi Asha, your order #1042 ships today.")
    expect(page.locator("#estimate")).to_contain_text("Estimated cost")
    launch = page.get_by_role("button", name="Launch now")
    expect(launch).to_be_enabled()
    launch.dblclick()  # a double click sends one request: the button disables itself
    expect(page.get_by_text("Campaign launched: 2 recipients.")).to_be_visible()
    expect(page.get_by_text("This campaign was already launched.")).to_have_count(0)
    expect(page.locator("#campaign-stats")).to_contain_text("0 of 2 recipients done")

    page.evaluate("window.notReloaded = true")
    with tenant_context(alpha.tenant):
        campaign = Campaign.objects.get(name="Order updates")
        assert engine.send_batch(campaign.pk, 0)["result"] == "done"

    stats = page.locator("#campaign-stats")
    expect(stats).to_contain_text("2 of 2 recipients done (100%)", timeout=10_000)  # the partial polls
    expect(page.locator("#count-sent .stat-value")).to_have_text("2")
    expect(stats.locator(".badge")).to_have_text("Completed")
    assert page.evaluate("window.notReloaded") is True
    expect(page.get_by_role("button", name="Pause")).to_have_count(0)

    page.get_by_role("link", name="Recipients", exact=True).first.click()
    expect(page.get_by_role("cell", name="+91 98••••21")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("9812345621")
