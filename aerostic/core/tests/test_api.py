"""API plumbing: throttles answer 429, errors are JSON, the OpenAPI schema builds."""

import pytest
from django.core.cache import cache
from rest_framework.settings import api_settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": "1000/min", "tenant": "3/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    from rest_framework.throttling import SimpleRateThrottle

    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = rates
    cache.clear()
    yield
    SimpleRateThrottle.THROTTLE_RATES = original
    api_settings.reload()


def test_tenant_throttle_is_shared_by_every_user_of_the_tenant(alpha, bravo, api_client_for, low_rates):
    admin, agent = api_client_for(alpha.admin), api_client_for(alpha.agent)
    statuses = [client.get("/api/v1/tenant/").status_code for client in (admin, agent, admin, agent)]
    assert statuses == [200, 200, 200, 429]
    assert api_client_for(bravo.admin).get("/api/v1/tenant/").status_code == 200


def test_throttled_answer_says_when_to_retry(alpha, api_client_for, low_rates):
    client = api_client_for(alpha.admin)
    for _ in range(3):
        client.get("/api/v1/tenant/")
    response = client.get("/api/v1/tenant/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "throttled" in response.json()["detail"].lower()


def test_unknown_api_route_is_a_404(alpha, api_client_for):
    assert api_client_for(alpha.admin).get("/api/v1/team/members/999999/").status_code == 404


def test_wrong_method_is_a_405(alpha, api_client_for):
    assert api_client_for(alpha.admin).post("/api/v1/tenant/", {}, format="json").status_code == 405


def test_malformed_json_is_a_400(alpha, api_client_for):
    response = api_client_for(alpha.admin).generic(
        "POST", "/api/v1/team/invitations/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_openapi_schema_describes_the_routes(client):
    response = client.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/tenant/", "/api/v1/team/members/", "/api/v1/auth/token/"} <= set(paths)


def test_api_docs_page_is_served_without_a_cdn(client):
    body = client.get("/api/v1/docs/").content.decode()
    assert "cdn." not in body and "unpkg" not in body


def test_api_docs_page_loads_no_fonts_from_elsewhere(client):
    body = client.get("/api/v1/docs/").content.decode()
    assert "fonts.googleapis" not in body and "fonts.gstatic" not in body
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in body
    assert "validator.swagger.io" not in body


@pytest.mark.parametrize("path", ["/api/v1/schema/", "/api/v1/schema/?format=json"])
def test_schema_needs_a_signed_in_user_in_production(client, settings, path):
    settings.IS_DEPLOYED = True
    response = client.get(path)
    assert response.status_code == 401
    assert b"paths" not in response.content


def test_docs_page_sends_an_anonymous_visitor_to_sign_in_in_production(client, settings):
    settings.IS_DEPLOYED = True
    response = client.get("/api/v1/docs/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/api/v1/docs/")


def test_signed_in_user_reads_the_schema_and_docs_in_production(login_client, alpha, settings):
    settings.IS_DEPLOYED = True
    client = login_client(alpha.viewer)
    assert client.get("/api/v1/schema/?format=json").status_code == 200
    assert client.get("/api/v1/docs/").status_code == 200


def test_browsable_api_is_not_shown_to_anonymous_callers_in_production(client, settings):
    settings.IS_DEPLOYED = True
    response = client.get("/api/v1/contacts/", HTTP_ACCEPT="text/html")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"


def test_browsable_api_is_shown_to_signed_in_users(login_client, alpha, settings):
    settings.IS_DEPLOYED = True
    response = login_client(alpha.admin).get("/api/v1/me/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
