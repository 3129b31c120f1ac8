"""Sign-in through the portal: success, wrong password, lockout, redirects."""

import pytest
from django.test import Client, override_settings

from accounts.tests.factories import DEFAULT_PASSWORD
from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import platform_context

pytestmark = pytest.mark.django_db


def _login(client: Client, email: str, password: str):
    return client.post("/accounts/login/", {"username": email, "password": password})


def test_member_signs_in_and_lands_on_the_dashboard(alpha):
    client = Client()
    response = _login(client, alpha.admin.user.email, DEFAULT_PASSWORD)
    assert response.status_code == 302 and response.url == "/"
    dashboard = client.get("/")
    assert dashboard.status_code == 200
    assert b"Alpha" in dashboard.content


def test_wrong_password_shows_a_form_error_and_counts_a_failure(alpha):
    from axes.models import AccessAttempt

    response = _login(Client(), alpha.admin.user.email, "wrong-password")
    assert response.status_code == 200
    assert b"do not match an account" in response.content
    assert AccessAttempt.objects.get(username=alpha.admin.user.email).failures_since_start == 1


def test_five_failures_lock_the_account_even_with_the_right_password(alpha):
    client = Client()
    for _ in range(5):
        _login(client, alpha.admin.user.email, "wrong-password")
    response = _login(client, alpha.admin.user.email, DEFAULT_PASSWORD)
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    assert "_auth_user_id" not in client.session


@override_settings(AXES_FAILURE_LIMIT=2)
def test_lockout_limit_is_configurable(alpha):
    client = Client()
    for _ in range(2):
        _login(client, alpha.admin.user.email, "wrong-password")
    assert _login(client, alpha.admin.user.email, DEFAULT_PASSWORD).status_code == 429


def test_sign_in_and_failures_are_audited(alpha):
    _login(Client(), alpha.admin.user.email, "wrong-password")
    _login(Client(), alpha.admin.user.email, DEFAULT_PASSWORD)
    with platform_context("test"):
        actions = list(AuditEvent.all_tenants.values_list("action", flat=True))
    assert "auth.login_failed" in actions and "auth.login" in actions


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/inbox/",
        "/contacts/",
        "/campaigns/",
        "/templates/",
        "/whatsapp/",
        "/billing/",
        "/settings/",
        "/workspace/team/",
        "/workspace/audit/",
    ],
)
def test_anonymous_portal_request_redirects_to_login(url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=")


def test_user_without_workspace_sees_an_explanation(db):
    from accounts.tests.factories import UserFactory

    client = Client()
    client.force_login(UserFactory(), backend="django.contrib.auth.backends.ModelBackend")
    response = client.get("/")
    assert response.status_code == 403
    assert b"not in a workspace" in response.content


def test_logout_needs_post_and_ends_the_session(alpha, login_client):
    client = login_client(alpha.admin)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_password_reset_sends_a_working_link(alpha, mailoutbox):
    Client().post("/accounts/password-reset/", {"email": alpha.agent.user.email})
    assert len(mailoutbox) == 1
    link = next(line for line in mailoutbox[0].body.splitlines() if "/accounts/reset/" in line)
    path = link.split("testserver", 1)[1]
    client = Client()
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    new_password = "a-brand-new-passphrase-42"
    response = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password}
    )
    assert response.status_code == 302
    assert _login(Client(), alpha.agent.user.email, new_password).status_code == 302


def test_admin_console_refuses_tenant_admins(alpha, login_client):
    response = login_client(alpha.admin).get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_admin_console_opens_for_super_admins(db):
    from accounts.models import User

    user = User.objects.create_superuser(email="root@platform.test", password="x-very-long-password")
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/tenants/membership/").status_code == 200
    assert client.get("/admin/core/auditevent/").status_code == 200


def test_member_changes_their_password_and_it_is_audited(alpha, login_client):
    client = login_client(alpha.agent)
    new_password = "another-long-passphrase-7"
    response = client.post(
        "/accounts/password/",
        {"old_password": DEFAULT_PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )
    assert response.status_code == 302
    assert _login(Client(), alpha.agent.user.email, new_password).status_code == 302
    with platform_context("test"):
        assert AuditEvent.all_tenants.filter(action="auth.password_changed", actor=alpha.agent.user).exists()


def test_wrong_old_password_is_a_form_error(alpha, login_client):
    response = login_client(alpha.agent).post(
        "/accounts/password/",
        {"old_password": "nope", "new_password1": "x-long-pass-1", "new_password2": "x-long-pass-1"},
    )
    assert response.status_code == 200
    assert b"incorrectly" in response.content


def _login_from(forwarded_for: str, email: str, password: str):
    return Client(HTTP_X_FORWARDED_FOR=forwarded_for).post(
        "/accounts/login/", {"username": email, "password": password}
    )


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_clients_behind_the_trusted_proxy_are_locked_out_separately(alpha):
    email = alpha.admin.user.email
    for _ in range(5):
        _login_from("198.51.100.1", email, "wrong-password")
    assert _login_from("198.51.100.1", email, DEFAULT_PASSWORD).status_code == 429
    # Another client behind the same proxy still signs in: the attacker cannot lock the account out.
    assert _login_from("198.51.100.2", email, DEFAULT_PASSWORD).status_code == 302


@override_settings(TRUSTED_PROXY_COUNT=0)
def test_a_spoofed_forwarded_for_without_trusted_proxies_does_not_escape_the_lockout(alpha):
    email = alpha.admin.user.email
    for attempt in range(5):
        _login_from(f"198.51.100.{attempt + 1}", email, "wrong-password")
    assert _login_from("198.51.100.99", email, DEFAULT_PASSWORD).status_code == 429


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_sign_in_audit_rows_record_the_resolved_client_address(alpha):
    _login_from("6.6.6.6, 198.51.100.7", alpha.admin.user.email, "wrong-password")
    _login_from("6.6.6.6, 198.51.100.8", alpha.admin.user.email, DEFAULT_PASSWORD)
    with platform_context("test"):
        addresses = dict(AuditEvent.all_tenants.values_list("action", "ip_address"))
    assert addresses["auth.login_failed"] == "198.51.100.7"
    assert addresses["auth.login"] == "198.51.100.8"
