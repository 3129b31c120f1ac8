"""The API documentation works offline: every request outside the app is blocked, and the page
still lists the API's operations (its scripts and styles come from our own static files)."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_api_docs_list_the_operations_with_only_the_app_reachable(page, live_server):
    app_host = urlsplit(live_server.url).netloc
    blocked: list[str] = []

    def only_the_app(route):
        if urlsplit(route.request.url).netloc == app_host:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_app)
    page.goto(f"{live_server.url}/api/v1/docs/")

    expect(page.get_by_role("heading", name="Aerostic API")).to_be_visible(timeout=30_000)
    operations = page.locator(".opblock-summary-path")
    expect(operations.filter(has_text="/api/v1/campaigns/{campaign_id}/launch/")).to_be_visible()
    expect(page.locator(".opblock-summary-method").filter(has_text="POST").first).to_be_visible()
    assert operations.count() > 40  # every route of our schema, rendered by the vendored Swagger UI
    assert blocked == []
