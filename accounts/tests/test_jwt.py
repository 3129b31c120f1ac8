"""JWT for integrators: obtain, use, rotate, revoke, lockout."""

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def _obtain(email: str, password: str = DEFAULT_PASSWORD):
    return APIClient().post("/api/v1/auth/token/", {"email": email, "password": password}, format="json")


def test_token_pair_gives_access_to_the_api(alpha):
    tokens = _obtain(alpha.agent.user.email).json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    response = client.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["memberships"][0]["tenant_slug"] == "alpha"


def test_access_token_lives_five_minutes(alpha):
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken(_obtain(alpha.agent.user.email).json()["access"])
    assert token["exp"] - token["iat"] == 300


def test_wrong_password_gets_401(alpha):
    assert _obtain(alpha.agent.user.email, "nope").status_code == 401


def test_refresh_rotates_and_the_old_refresh_is_blacklisted(alpha):
    first = _obtain(alpha.agent.user.email).json()
    client = APIClient()
    rotated = client.post("/api/v1/auth/token/refresh/", {"refresh": first["refresh"]}, format="json")
    assert rotated.status_code == 200
    assert rotated.json()["refresh"] != first["refresh"]
    reused = client.post("/api/v1/auth/token/refresh/", {"refresh": first["refresh"]}, format="json")
    assert reused.status_code == 401


def test_revoked_refresh_cannot_be_used(alpha, api_client_for):
    tokens = _obtain(alpha.agent.user.email).json()
    client = api_client_for(alpha.agent)
    assert client.post("/api/v1/auth/token/revoke/", {"refresh": tokens["refresh"]}, format="json").status_code == 204
    again = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert again.status_code == 401


def test_token_endpoint_locks_out_after_five_failures(alpha):
    for _ in range(5):
        _obtain(alpha.agent.user.email, "nope")
    response = _obtain(alpha.agent.user.email)
    assert response.status_code == 429
    assert "access" not in response.json()


def test_anonymous_api_request_gets_401(db):
    response = APIClient().get("/api/v1/tenant/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_garbage_bearer_token_gets_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    assert client.get("/api/v1/me/").status_code == 401


def test_x_tenant_header_picks_the_workspace(alpha, bravo, api_client_for):
    from tenants.tests.factories import MembershipFactory

    MembershipFactory(tenant=bravo.tenant, user=alpha.agent.user, role="viewer")
    client = api_client_for(alpha.agent, tenant_slug="bravo")
    assert client.get("/api/v1/tenant/").json()["slug"] == "bravo"


def test_x_tenant_header_for_a_foreign_workspace_is_404(alpha, bravo, api_client_for):
    client = api_client_for(alpha.agent, tenant_slug="bravo")
    assert client.get("/api/v1/tenant/").status_code == 404


def _obtain_from(forwarded_for: str, email: str):
    client = APIClient(HTTP_X_FORWARDED_FOR=forwarded_for)
    return client.post("/api/v1/auth/token/", {"email": email, "password": "nope"}, format="json")


def test_spoofing_forwarded_for_does_not_give_the_token_endpoint_a_fresh_bucket(alpha, settings, monkeypatch):
    from aerostic.core.throttles import AuthRateThrottle

    settings.TRUSTED_PROXY_COUNT = 0
    monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", {"auth": "2/min"})
    assert [_obtain_from(f"198.51.100.{n}", alpha.agent.user.email).status_code for n in range(3)] == [401, 401, 429]


# A real commit per request: DRF marks the enclosing atomic block for rollback when it answers
# 429, which inside a test's wrapping transaction would break the requests that follow.
@pytest.mark.django_db(transaction=True)
def test_clients_behind_the_trusted_proxy_get_their_own_token_endpoint_bucket(alpha, settings, monkeypatch):
    from aerostic.core.throttles import AuthRateThrottle

    settings.TRUSTED_PROXY_COUNT = 1
    monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", {"auth": "2/min"})
    email = alpha.agent.user.email
    assert [_obtain_from("6.6.6.1, 198.51.100.1", email).status_code for _ in range(3)] == [401, 401, 429]
    # A spoofed left part does not help the first client; another client has its own budget.
    assert _obtain_from("6.6.6.2, 198.51.100.1", email).status_code == 429
    assert _obtain_from("198.51.100.2", email).status_code == 401


def test_a_token_for_several_workspaces_without_x_tenant_is_refused_with_the_slugs(alpha, bravo, api_client_for):
    # Given a user who belongs to alpha and bravo
    from tenants.tests.factories import MembershipFactory

    MembershipFactory(tenant=bravo.tenant, user=alpha.agent.user, role="viewer")
    client = api_client_for(alpha.agent)
    # When they call a workspace endpoint without naming the workspace
    response = client.get("/api/v1/tenant/")
    # Then the API refuses to guess and lists the slugs they may use
    assert response.status_code == 400
    body = response.json()
    assert "X-Tenant" in body["detail"] and "alpha" in body["detail"] and "bravo" in body["detail"]
    assert body["workspaces"] == ["alpha", "bravo"]


def test_a_token_for_one_workspace_needs_no_x_tenant(alpha, api_client_for):
    assert api_client_for(alpha.agent).get("/api/v1/tenant/").json()["slug"] == "alpha"


def test_a_portal_session_with_several_workspaces_uses_the_active_one(alpha, bravo, login_client):
    # Given a portal user of alpha and bravo who switched to bravo
    from tenants.tests.factories import MembershipFactory

    MembershipFactory(tenant=bravo.tenant, user=alpha.agent.user, role="viewer")
    client = login_client(alpha.agent)
    session = client.session
    session["active_tenant_id"] = bravo.tenant.pk
    session.save()
    # When the browser calls the API with its session
    response = client.get("/api/v1/tenant/")
    # Then it answers for the active workspace
    assert response.status_code == 200 and response.json()["slug"] == "bravo"
