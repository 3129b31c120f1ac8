"""A person in a real browser imports a CSV of contacts: upload, map, state consent, watch the
progress bar finish, see the contacts (masked) and one contact's consent history."""

import django_rq
import pytest
from playwright.sync_api import expect
from rq import SimpleWorker

from tests.browser.test_portal import _sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = (
    "\ufeffMobile;Full name;Tags;Opted in\n"
    "+91 98123 45621;Asha Rao;vip;yes\n"
    '098123 45622;"Ravi; Sr.";;no\n'
    "12345;Broken;;yes\n"
).encode()


def test_admin_imports_a_csv_and_watches_it_complete(page, live_server, alpha, tmp_path):
    source = tmp_path / "customers.csv"
    source.write_bytes(CSV)
    _sign_in(page, live_server, alpha.admin.user.email)
    page.goto(f"{live_server.url}/contacts/")
    page.click("text=Import CSV")
    page.set_input_files("input[type=file]", str(source))
    page.click("button:has-text('Upload')")

    expect(page.get_by_text("3 rows · utf-8-sig")).to_be_visible()
    expect(page.locator("select[name=map_0]")).to_have_value("phone")
    expect(page.get_by_role("cell", name="Ravi; Sr.")).to_be_visible()
    page.fill("input[name=default_country]", "IN")
    page.select_option("select[name=consent_column]", "Opted in")
    page.click("button:has-text('Import 3 rows')")
    expect(page.get_by_text("Import started")).to_be_visible()

    queue = django_rq.get_queue("default")
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    expect(page.get_by_text("Completed")).to_be_visible(timeout=10_000)  # the progress bar polls
    expect(page.get_by_text("Download the rejected rows")).to_be_visible()

    page.click("text=See contacts")
    expect(page.get_by_role("cell", name="+91 98••••21")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("9812345621")
    page.click("text=Asha Rao")
    expect(page.get_by_text("Opted in").first).to_be_visible()
    expect(page.get_by_role("cell", name="CSV import", exact=True)).to_be_visible()
    page.click("text=Show number")
    expect(page.locator("#contact-number")).to_have_text("+919812345621")
