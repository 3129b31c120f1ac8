"""A person in a real browser: sign in, see the dashboard, switch workspace, invite a teammate."""

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD
from tenants.tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, live_server, email):
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_admin_signs_in_and_sees_the_dashboard(page, live_server, alpha):
    _sign_in(page, live_server, alpha.admin.user.email)
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.locator(".tenant-name")).to_have_text("Alpha")
    expect(page.locator("nav").get_by_text("Campaigns")).to_be_visible()


def test_wrong_password_shows_the_form_error(page, live_server, alpha):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", alpha.admin.user.email)
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    expect(page.get_by_text("do not match an account")).to_be_visible()


def test_admin_switches_workspace_and_invites_a_teammate(page, live_server, alpha, bravo):
    MembershipFactory(tenant=bravo.tenant, user=alpha.admin.user, role="admin")
    _sign_in(page, live_server, alpha.admin.user.email)
    page.select_option("select[name=tenant]", str(bravo.tenant.pk))
    expect(page.get_by_text("You are now working in Bravo")).to_be_visible()

    page.goto(f"{live_server.url}/workspace/team/")
    page.fill("input[name=email]", "teammate@example.com")
    page.select_option("select[name=role]", "agent")
    page.click("text=Send invitation")
    expect(page.get_by_text("Invitation sent to teammate@example.com")).to_be_visible()
    expect(page.locator("table").get_by_text("teammate@example.com")).to_be_visible()


def test_admin_connects_the_sandbox_number_and_checks_it(page, live_server, alpha, simulator):
    _sign_in(page, live_server, alpha.admin.user.email)
    page.goto(f"{live_server.url}/whatsapp/")
    page.click("text=Connect the sandbox number")
    expect(page.get_by_text("is connected")).to_be_visible()
    expect(page.locator("table").get_by_text("+1 555 010 0100")).to_be_visible()
    page.click("text=Check connection")
    expect(page.get_by_role("cell", name="webhooks")).to_be_visible()
    expect(page.locator("[id^=checks-] .badge-danger")).to_have_count(0)


def test_admin_builds_a_template_with_a_live_preview_and_submits_it(page, live_server, alpha, connected):
    _sign_in(page, live_server, alpha.admin.user.email)
    page.goto(f"{live_server.url}/templates/")
    expect(page.get_by_role("link", name="hello_world")).to_be_visible()
    page.click("text=New template")
    page.fill("input[name=name]", "order_update")
    page.fill("textarea[name=body]", "Hi {{1}}, your order {{2}} ships today. Thank you for shopping.")
    expect(page.locator("#preview")).to_contain_text("{{2}}")  # no examples yet: Meta would refuse
    expect(page.locator("#preview")).to_contain_text("Meta would refuse")
    page.fill("textarea[name=body_examples]", "Ana\n#1042")
    expect(page.locator("#preview")).to_contain_text("Hi Ana, your order #1042 ships today.")
    expect(page.locator("#preview")).not_to_contain_text("Meta would refuse")
    page.click("button[value=submit]")
    expect(page.get_by_text("was sent to Meta for review")).to_be_visible()
    expect(page.locator(".badge").first).to_have_text("In review")
