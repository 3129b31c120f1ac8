"""JWTs die with the credentials they were issued for: password change, reset, deactivation."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-42"


def _obtain(email: str, password: str = DEFAULT_PASSWORD) -> dict:
    response = APIClient().post("/api/v1/auth/token/", {"email": email, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _refresh(refresh: str):
    return APIClient().post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json")


def _me(access: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get("/api/v1/me/")


def _change_password_in_the_portal(login_client, membership):
    response = login_client(membership).post(
        reverse("accounts:password-change"),
        {"old_password": DEFAULT_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.content


def _staff_client():
    from accounts.models import User

    staff = User.objects.create_superuser(email="ops@platform.test", password="a-long-passphrase-1")
    client = Client()
    client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_refresh_token_is_refused_after_a_password_change(alpha, login_client):
    tokens = _obtain(alpha.agent.user.email)
    _change_password_in_the_portal(login_client, alpha.agent)
    assert _refresh(tokens["refresh"]).status_code == 401


def test_access_token_is_refused_after_a_password_change(alpha, login_client):
    tokens = _obtain(alpha.agent.user.email)
    assert _me(tokens["access"]).status_code == 200
    _change_password_in_the_portal(login_client, alpha.agent)
    response = _me(tokens["access"])
    assert response.status_code == 401
    assert _me(_obtain(alpha.agent.user.email, NEW_PASSWORD)["access"]).status_code == 200


def test_password_change_is_audited_once(alpha, login_client):
    from aerostic.core.models import AuditEvent
    from aerostic.core.tenant_context import platform_context

    _obtain(alpha.agent.user.email)
    _change_password_in_the_portal(login_client, alpha.agent)
    with platform_context("test"):
        events = AuditEvent.all_tenants.filter(action="auth.password_changed", target_id=str(alpha.agent.user.pk))
        assert events.count() == 1
        assert events.get().metadata["refresh_tokens_revoked"] == 1


def test_refresh_token_is_refused_after_a_password_reset(alpha, mailoutbox):
    tokens = _obtain(alpha.agent.user.email)
    Client().post("/accounts/password-reset/", {"email": alpha.agent.user.email})
    link = next(line for line in mailoutbox[0].body.splitlines() if "/accounts/reset/" in line)
    client = Client()
    form_page = client.get(link.split("testserver", 1)[1], follow=True)
    response = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert _refresh(tokens["refresh"]).status_code == 401
    assert _me(tokens["access"]).status_code == 401


def test_refresh_token_stays_dead_after_a_staff_deactivation_is_undone(alpha):
    user = alpha.agent.user
    tokens = _obtain(user.email)
    staff = _staff_client()
    url = reverse("admin:accounts_user_change", args=[user.pk])
    form = {"email": user.email, "full_name": user.full_name, "is_active": "", "is_staff": "", "is_superuser": ""}
    assert staff.post(url, form).status_code == 302
    assert staff.post(url, {**form, "is_active": "on"}).status_code == 302
    user.refresh_from_db()
    assert user.is_active
    assert _refresh(tokens["refresh"]).status_code == 401


def test_refresh_token_is_refused_after_staff_set_a_new_password(alpha):
    user = alpha.agent.user
    tokens = _obtain(user.email)
    staff = _staff_client()
    response = staff.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content
    assert _refresh(tokens["refresh"]).status_code == 401


def test_other_users_tokens_survive(alpha, login_client):
    others = _obtain(alpha.viewer.user.email)
    _change_password_in_the_portal(login_client, alpha.agent)
    assert _refresh(others["refresh"]).status_code == 200


def test_refresh_token_is_refused_after_a_password_set_outside_the_services(alpha):
    """`manage.py changepassword` saves the user directly: the password-bound claim still holds."""
    tokens = _obtain(alpha.agent.user.email)
    user = alpha.agent.user
    user.set_password(NEW_PASSWORD)
    user.save()
    response = _refresh(tokens["refresh"])
    assert response.status_code == 401
    assert "password" in response.json()["detail"]
