"""Alerts on a phone (390 px wide): the Alerts page and the alert channels fit the screen, and an
admin acknowledges an alert and adds a channel there."""

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD
from aerostic.core.alerts import raise_alert
from aerostic.core.models import AlertChannel
from aerostic.core.tenant_context import tenant_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _sign_in(page, live_server, email):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def _fits_the_screen(page):
    """Nothing wider than the screen: the page does not scroll sideways, nor does any card."""
    widths = page.evaluate(
        """() => ({
            page: document.documentElement.scrollWidth,
            screen: window.innerWidth,
            cards: [...document.querySelectorAll('.card')].filter(c => c.scrollWidth > c.clientWidth + 1).length,
        })"""
    )
    assert widths["page"] <= widths["screen"] and widths["cards"] == 0, widths


def test_admin_acknowledges_an_alert_on_a_phone(page, live_server, alpha):
    raise_alert(
        tenant=alpha.tenant,
        key="quality:1",
        title="+1 555 010 0100: quality rating dropped to low",
        detail="Meta lowers the messaging limit of a number whose quality stays low. Review the templates sent "
        "in the last seven days and the opt-out rate of recent campaigns.",
        level="critical",
    )
    _sign_in(page, live_server, alpha.admin.user.email)
    page.click("text=All alerts")
    expect(page.locator("h1")).to_have_text("Alerts")
    _fits_the_screen(page)

    page.click("button:has-text('Acknowledge')")
    expect(page.get_by_text("Acknowledged: +1 555 010 0100")).to_be_visible()
    expect(page.get_by_text(f"Acknowledged by {alpha.admin.user.email}")).to_be_visible()
    _fits_the_screen(page)


def test_admin_adds_an_alert_channel_on_a_phone(page, live_server, alpha):
    with tenant_context(alpha.tenant):
        AlertChannel.objects.create(
            name="#incidents-and-operations",
            kind="slack",
            slack_webhook_url="https://hooks.slack.com/services/T0001/B0001/xoxSeCrEt42",
            last_error="Slack answered 404",
        )
    _sign_in(page, live_server, alpha.admin.user.email)
    page.goto(f"{live_server.url}/settings/alerts/")
    _fits_the_screen(page)

    page.fill("input[name=name]", "On-call")
    page.fill("input[name=emails]", "operations.oncall@alpha.example, owner.of.the.workspace@alpha.example")
    page.click("button:has-text('Add channel')")
    expect(page.get_by_text("Channel On-call added")).to_be_visible()
    expect(page.get_by_text("To operations.oncall@alpha.example")).to_be_visible()
    _fits_the_screen(page)
