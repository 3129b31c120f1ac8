"""Connecting WhatsApp accounts through the portal and API, against the simulator over HTTP."""

import logging

import pytest
from django.db import connection

from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import platform_context, tenant_context
from whatsapp.models import AccessToken, PhoneNumber, WhatsAppAccount
from whatsapp.simulator import Faults

pytestmark = pytest.mark.django_db


def _rows(tenant):
    with tenant_context(tenant):
        return (WhatsAppAccount.objects.count(), PhoneNumber.objects.count(), AccessToken.objects.count())


def _audit_actions(tenant):
    with tenant_context(tenant):
        return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


def test_sandbox_connect_from_the_portal_stores_an_encrypted_token(simulator, alpha, login_client):
    response = login_client(alpha.admin).post("/whatsapp/sandbox/", follow=True)
    assert response.status_code == 200 and b"is connected" in response.content
    with tenant_context(alpha.tenant):
        account = WhatsAppAccount.objects.get()
        phone = account.phone_numbers.get()
        token = account.tokens.get()
    assert account.mode == "sandbox" and phone.is_registered and phone.quality_rating == "GREEN"
    business = next(
        b for b in [simulator.state.tokens[t] for t in simulator.state.tokens] if account.waba_id in b.waba_ids
    )
    assert token.token.reveal() == business.value
    with platform_context("test"), connection.cursor() as cursor:
        cursor.execute("SELECT token FROM whatsapp_accesstoken")
        stored = cursor.fetchone()[0]
    assert stored.startswith("v1.") and business.value not in stored
    assert "whatsapp.connected" in _audit_actions(alpha.tenant)
    page = login_client(alpha.admin).get("/whatsapp/").content.decode()
    assert phone.display_phone_number in page and business.value not in page


def test_manual_token_connects_a_real_mode_account(simulator, alpha, login_client):
    business = simulator.state.create_business(name="Tea Co", display_number="+91 98000 00001", verified_name="Tea Co")
    response = login_client(alpha.admin).post(
        "/whatsapp/", {"waba_id": business["waba_id"], "token": business["token"]}
    )
    assert response.status_code == 302
    with tenant_context(alpha.tenant):
        account = WhatsAppAccount.objects.get()
    assert (account.mode, account.name, account.webhooks_subscribed) == ("real", "Tea Co", True)
    assert simulator.state.subscriptions[business["waba_id"]] == {"override": None}


def test_token_without_the_messaging_scope_is_refused_and_nothing_is_stored(simulator, alpha, login_client):
    business = simulator.state.create_business(
        name="X", display_number="+1 555 0101", verified_name="X", scopes=["whatsapp_business_management"]
    )
    response = login_client(alpha.admin).post(
        "/whatsapp/", {"waba_id": business["waba_id"], "token": business["token"]}
    )
    assert response.status_code == 400
    assert b"missing these permissions: whatsapp_business_messaging" in response.content
    assert _rows(alpha.tenant) == (0, 0, 0)
    assert "whatsapp.connect_failed" in _audit_actions(alpha.tenant)


def test_invalid_token_is_refused(simulator, alpha, login_client):
    response = login_client(alpha.admin).post("/whatsapp/", {"waba_id": "12345678", "token": "EAA-bogus"})
    assert response.status_code == 400 and b"not valid" in response.content
    assert _rows(alpha.tenant) == (0, 0, 0)


def test_a_number_connected_to_another_tenant_is_refused(simulator, alpha, bravo, login_client):
    business = simulator.state.create_business(name="Shared", display_number="+1 555 0102", verified_name="S")
    form = {"waba_id": business["waba_id"], "token": business["token"]}
    assert login_client(alpha.admin).post("/whatsapp/", form).status_code == 302
    response = login_client(bravo.admin).post("/whatsapp/", form)
    assert response.status_code == 400 and b"already connected to a workspace" in response.content
    assert _rows(bravo.tenant) == (0, 0, 0)


def test_embedded_signup_exchanges_the_code_and_registers_the_number(simulator, alpha, login_client):
    signup = simulator.state.create_signup(name="Bakery")
    data = {
        "code": signup["code"],
        "waba_id": signup["waba_id"],
        "phone_number_id": signup["phone_number_id"],
        "pin": "123456",
    }
    response = login_client(alpha.admin).post("/whatsapp/embedded-signup/", data, follow=True)
    assert b"is connected" in response.content
    with tenant_context(alpha.tenant):
        assert PhoneNumber.objects.get().is_registered
    assert simulator.state.phones[signup["phone_number_id"]].registered


def test_embedded_signup_with_a_used_or_unknown_code_is_a_clear_error(simulator, alpha, login_client):
    data = {"code": "expired-code", "waba_id": "1234567", "phone_number_id": "7654321", "pin": "123456"}
    response = login_client(alpha.admin).post("/whatsapp/embedded-signup/", data, follow=True)
    assert b"start the sign-up again" in response.content
    assert _rows(alpha.tenant) == (0, 0, 0)


def test_embedded_signup_with_a_wrong_pin_leaves_no_connection(simulator, alpha, login_client):
    signup = simulator.state.create_signup(name="Bakery")
    data = {
        "code": signup["code"],
        "waba_id": signup["waba_id"],
        "phone_number_id": signup["phone_number_id"],
        "pin": "999999",
    }
    response = login_client(alpha.admin).post("/whatsapp/embedded-signup/", data, follow=True)
    assert b"PIN Mismatch" in response.content
    assert _rows(alpha.tenant) == (0, 0, 0)


def test_graph_down_gives_a_clear_message_and_stores_nothing(simulator, alpha, login_client, settings):
    settings.GRAPH_READ_TIMEOUT_SECONDS = 1
    simulator.state.faults = Faults(timeout_rate=1.0, timeout_seconds=1.5)
    response = login_client(alpha.admin).post("/whatsapp/", {"waba_id": "12345678", "token": "EAA-x"})
    assert response.status_code == 400 and b"did not answer in time" in response.content
    assert _rows(alpha.tenant) == (0, 0, 0)


def test_sandbox_simulator_not_running_is_explained(alpha, login_client, settings):
    settings.META_SANDBOX_URL = "http://127.0.0.1:9"
    response = login_client(alpha.admin).post("/whatsapp/sandbox/", follow=True)
    assert b"does not answer" in response.content


def _phone_id(account, tenant):
    with tenant_context(tenant):
        return account.phone_numbers.get().phone_number_id


def test_disconnect_deregisters_unsubscribes_and_erases_the_token(simulator, connected, alpha, login_client):
    phone_id = _phone_id(connected, alpha.tenant)
    response = login_client(alpha.admin).post(f"/whatsapp/accounts/{connected.pk}/disconnect/")
    assert response.status_code == 302
    with tenant_context(alpha.tenant):
        account = WhatsAppAccount.objects.get()
        token = account.tokens.get()
    assert account.status == "disconnected" and token.token is None and token.status == "erased"
    assert not simulator.state.phones[phone_id].registered
    assert connected.waba_id not in simulator.state.subscriptions
    assert "whatsapp.disconnected" in _audit_actions(alpha.tenant)


def test_a_disconnected_number_can_be_connected_again(simulator, alpha):
    from whatsapp.connections.connect import account_connect
    from whatsapp.connections.numbers import account_disconnect

    business = simulator.state.create_business(name="Again", display_number="+1 555 0103", verified_name="A")
    first = account_connect(
        tenant=alpha.tenant, waba_id=business["waba_id"], token=business["token"], mode="real", actor=alpha.admin.user
    )
    with tenant_context(alpha.tenant):
        account_disconnect(account=first, actor=alpha.admin.user)
    again = account_connect(
        tenant=alpha.tenant, waba_id=business["waba_id"], token=business["token"], mode="real", actor=alpha.admin.user
    )
    assert again.pk != first.pk


def test_check_connection_api_reports_every_check(simulator, connected, alpha, api_client_for):
    body = api_client_for(alpha.admin).get("/api/v1/whatsapp/check-connection").json()
    names = [check["name"] for check in body[0]["checks"]]
    assert body[0]["ok"] is True
    assert names[:3] == ["token", "scopes", "webhooks"] and any("quality" in name for name in names)


def test_quality_drop_shows_in_the_check_and_marks_the_account(simulator, connected, alpha, api_client_for):
    phone_id = _phone_id(connected, alpha.tenant)
    simulator.quality_change(phone_id, quality="RED")
    body = api_client_for(alpha.admin).get("/api/v1/whatsapp/check-connection").json()
    assert body[0]["ok"] is False
    with tenant_context(alpha.tenant):
        assert WhatsAppAccount.objects.get().status == "needs_attention"
        assert PhoneNumber.objects.get().health == "warning"


def test_validate_api_flags_a_revoked_token(simulator, connected, alpha, api_client_for):
    with tenant_context(alpha.tenant):
        plain = connected.tokens.get().token.reveal()
    simulator.state.tokens[plain].is_valid = False
    body = api_client_for(alpha.admin).get("/api/v1/whatsapp/validate").json()
    assert body[0]["ok"] is False and "not valid" in body[0]["checks"][0]["detail"]


def test_register_a_number_with_its_pin(simulator, alpha, login_client):
    business = simulator.state.create_business(name="Pin", display_number="+1 555 0104", verified_name="P")
    login_client(alpha.admin).post("/whatsapp/", {"waba_id": business["waba_id"], "token": business["token"]})
    with tenant_context(alpha.tenant):
        phone = PhoneNumber.objects.get()
    assert not phone.is_registered
    wrong = login_client(alpha.admin).post(f"/whatsapp/numbers/{phone.pk}/register/", {"pin": "000000"}, follow=True)
    assert b"PIN Mismatch" in wrong.content
    login_client(alpha.admin).post(f"/whatsapp/numbers/{phone.pk}/register/", {"pin": "123456"})
    with tenant_context(alpha.tenant):
        assert PhoneNumber.objects.get().is_registered


def test_the_plain_token_never_appears_in_pages_api_answers_or_logs(
    simulator, alpha, login_client, api_client_for, caplog
):
    caplog.set_level(logging.DEBUG)
    business = simulator.state.create_business(name="Secret", display_number="+1 555 0105", verified_name="S")
    client = login_client(alpha.admin)
    client.post("/whatsapp/", {"waba_id": business["waba_id"], "token": business["token"]})
    outputs = [
        client.get("/whatsapp/").content.decode(),
        client.get("/workspace/audit/").content.decode(),
        api_client_for(alpha.admin).get("/api/v1/whatsapp/accounts/").content.decode(),
        api_client_for(alpha.admin).get("/api/v1/whatsapp/check-connection").content.decode(),
        caplog.text,
    ]
    assert all(business["token"] not in output for output in outputs)
