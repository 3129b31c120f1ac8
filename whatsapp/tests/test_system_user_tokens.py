"""Only system-user tokens connect or rotate (Meta's rule for solution partners: no user-level
tokens). The simulator's debug_token says USER or SYSTEM_USER like Meta's does."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import platform_context, tenant_context
from whatsapp.models import AccessToken, PhoneNumber, WhatsAppAccount

pytestmark = pytest.mark.django_db

REFUSAL = b"personal (USER) access token"


def _rows(tenant):
    with tenant_context(tenant):
        return (WhatsAppAccount.objects.count(), PhoneNumber.objects.count(), AccessToken.objects.count())


def _current(account, tenant):
    with tenant_context(tenant):
        return AccessToken.objects.get(account=account, is_current=True)


def test_a_user_token_is_refused_in_the_connect_form_and_nothing_is_stored(simulator, alpha, login_client):
    business = simulator.state.create_business(
        name="Tea Co", display_number="+91 98000 00001", verified_name="Tea Co", kind="USER"
    )
    response = login_client(alpha.admin).post(
        "/whatsapp/", {"waba_id": business["waba_id"], "token": business["token"]}
    )
    assert response.status_code == 400 and REFUSAL in response.content
    assert _rows(alpha.tenant) == (0, 0, 0)
    assert business["waba_id"] not in simulator.state.subscriptions  # refused before anything at Meta
    with tenant_context(alpha.tenant):
        assert AuditEvent.objects.filter(action="whatsapp.connect_failed").exists()


def test_a_system_user_token_connects_and_its_type_is_recorded(simulator, alpha, login_client):
    business = simulator.state.create_business(name="Tea Co", display_number="+91 98000 00002", verified_name="T")
    response = login_client(alpha.admin).post(
        "/whatsapp/", {"waba_id": business["waba_id"], "token": business["token"]}
    )
    assert response.status_code == 302
    with tenant_context(alpha.tenant):
        assert AccessToken.objects.get().token_type == "SYSTEM_USER"


def test_embedded_signups_exchanged_token_is_a_system_user_token_and_is_accepted(simulator, alpha, login_client):
    signup = simulator.state.create_signup(name="Bakery")
    data = {"code": signup["code"], "waba_id": signup["waba_id"], "phone_number_id": signup["phone_number_id"]}
    response = login_client(alpha.admin).post("/whatsapp/embedded-signup/", {**data, "pin": "123456"}, follow=True)
    assert b"is connected" in response.content
    with tenant_context(alpha.tenant):
        assert AccessToken.objects.get().token_type == "SYSTEM_USER"


def test_an_embedded_signup_that_yields_a_user_token_is_refused(simulator, alpha, login_client):
    signup = simulator.state.create_signup(name="Bakery", kind="USER")
    data = {"code": signup["code"], "waba_id": signup["waba_id"], "phone_number_id": signup["phone_number_id"]}
    response = login_client(alpha.admin).post("/whatsapp/embedded-signup/", {**data, "pin": "123456"}, follow=True)
    assert REFUSAL in response.content
    assert _rows(alpha.tenant) == (0, 0, 0)


def test_the_api_check_flags_a_stored_user_token(simulator, connected, alpha, api_client_for):
    simulator.state.tokens[_current(connected, alpha.tenant).token.reveal()].kind = "USER"
    body = api_client_for(alpha.admin).get("/api/v1/whatsapp/validate").json()
    assert body[0]["ok"] is False
    assert "personal (USER) access token" in body[0]["checks"][0]["detail"]
    assert _current(connected, alpha.tenant).status == "invalid"


def test_rotation_refuses_a_user_token_and_keeps_the_old_one(simulator, connected, alpha):
    from aerostic.core.errors import DomainError
    from whatsapp.connections.tokens import token_rotate

    old = _current(connected, alpha.tenant)
    user_token = simulator.state.add_token(waba_ids=[connected.waba_id], kind="USER")
    with pytest.raises(DomainError, match=r"personal \(USER\) access token"):
        token_rotate(account=connected, new_token=user_token, actor=alpha.admin.user)
    current = _current(connected, alpha.tenant)
    assert current.pk == old.pk and current.token.reveal() == old.token.reveal()


def test_the_rotation_command_refuses_a_user_token_with_an_error_exit(simulator, connected, alpha, monkeypatch):
    old = _current(connected, alpha.tenant)
    user_token = simulator.state.add_token(waba_ids=[connected.waba_id], kind="USER")
    monkeypatch.setattr("sys.stdin", io.StringIO(user_token + "\n"))
    with pytest.raises(CommandError, match=r"personal \(USER\) access token") as refused:
        call_command("rotate_whatsapp_token", "--account", str(connected.pk))
    assert refused.value.returncode != 0
    assert _current(connected, alpha.tenant).pk == old.pk
    with platform_context("test"):
        assert not AuditEvent.all_tenants.filter(action="whatsapp.token_rotated").exists()


def test_the_admin_rotation_refuses_a_user_token(simulator, connected, alpha):
    from accounts.models import User

    old = _current(connected, alpha.tenant)
    staff = User.objects.create_superuser(email="ops@platform.test", password="a-long-passphrase-1")
    client = Client()
    client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    user_token = simulator.state.add_token(waba_ids=[connected.waba_id], kind="USER")
    response = client.post(f"/admin/whatsapp/whatsappaccount/{connected.pk}/rotate-token/", {"token": user_token})
    assert response.status_code == 200 and REFUSAL in response.content
    assert _current(connected, alpha.tenant).pk == old.pk


def test_the_simulator_mints_user_tokens_over_its_control_api(simulator):
    import requests

    waba_id = simulator.state.sandbox["waba_id"]
    token = requests.post(
        f"{simulator.url}/_sim/tokens", json={"waba_ids": [waba_id], "token_type": "USER"}, timeout=5
    ).json()["token"]
    answer = requests.get(
        f"{simulator.url}/v23.0/debug_token", params={"input_token": token, "access_token": token}, timeout=5
    ).json()
    assert answer["data"]["type"] == "USER"
