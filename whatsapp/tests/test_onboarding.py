"""Embedded Signup sessions, matching Meta's callback to a workspace, orphans, expiry.

Meta's PARTNER_APP_INSTALLED callback carries only `waba_info` (the project's fixture is Meta's
documented example): the session must have learnt the WABA from the browser's session info or the
code exchange. Callbacks go through the real signed intake and the worker's processing."""

import copy
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from aerostic.core.models import Alert, AuditEvent
from aerostic.core.tenant_context import platform_context, tenant_context
from aerostic.testsupport.webhooks import deliver_webhook
from whatsapp.connections.onboarding import onboarding_match, onboarding_sessions_expire
from whatsapp.models import OnboardingSession, OrphanConnection

pytestmark = pytest.mark.django_db

INSTALLED = json.loads(
    (Path(__file__).parent / "fixtures" / "meta_webhooks" / "account_update_PARTNER_APP_INSTALLED.json").read_text()
)


def _partner_app_installed(waba_id: str, owner_business_id: str, **extra) -> dict:
    payload = copy.deepcopy(INSTALLED)
    value = payload["entry"][0]["changes"][0]["value"]
    value["waba_info"].update(waba_id=waba_id, owner_business_id=owner_business_id)
    value.update(extra)
    return {"object": "whatsapp_business_account", **payload}


def _start_and_report(client, *, waba_id: str, business_id: str) -> str:
    """The page opens the flow (our session), then relays the FINISH message's session info."""
    tracking = client.post("/whatsapp/embedded-signup/start/").json()["tracking_code"]
    relayed = client.post(
        "/whatsapp/embedded-signup/session/",
        {"tracking_code": tracking, "waba_id": waba_id, "phone_number_id": "7000001", "business_id": business_id},
    )
    assert relayed.status_code == 200, relayed.content
    return tracking


def _tenant_alerts(tenant) -> list[str]:
    with tenant_context(tenant):
        return list(Alert.objects.values_list("title", flat=True))


def test_metas_signed_callback_matches_the_session_that_reported_the_waba(alpha, login_client):
    _start_and_report(login_client(alpha.admin), waba_id="1191624265890717", business_id="2329417887457253")
    event = deliver_webhook(_partner_app_installed("1191624265890717", "2329417887457253"))
    assert event.status == "processed"
    with tenant_context(alpha.tenant):
        session = OnboardingSession.objects.get()
    assert (session.status, session.waba_id, session.business_id) == ("matched", "1191624265890717", "2329417887457253")
    assert _tenant_alerts(alpha.tenant) == ["Finish connecting WhatsApp Business Account 1191624265890717"]
    assert not OrphanConnection.objects.exists()


def test_metas_signed_callback_matches_a_session_by_the_owner_business(alpha, bravo, login_client):
    # The person created another WABA in the same business than the one the window first reported.
    _start_and_report(login_client(alpha.admin), waba_id="5550001", business_id="2329417887457253")
    deliver_webhook(_partner_app_installed("1191624265890717", "2329417887457253"))
    with tenant_context(alpha.tenant):
        session = OnboardingSession.objects.get()
    assert (session.status, session.waba_id) == ("matched", "1191624265890717")
    assert _tenant_alerts(bravo.tenant) == []
    assert not OrphanConnection.objects.exists()


def test_metas_signed_callback_with_no_session_or_business_becomes_an_orphan(alpha, login_client):
    _start_and_report(login_client(alpha.admin), waba_id="5550002", business_id="5550003")
    deliver_webhook(_partner_app_installed("1191624265890717", "2329417887457253"))
    orphan = OrphanConnection.objects.get()
    assert (orphan.waba_id, orphan.owner_business_id) == ("1191624265890717", "2329417887457253")
    with tenant_context(alpha.tenant):
        assert OnboardingSession.objects.get().status == "pending"
    assert _tenant_alerts(alpha.tenant) == []
    with platform_context("test"):
        assert Alert.all_tenants.get(tenant=None).title == "Unclaimed WABA 1191624265890717"


def test_a_tracking_code_in_the_callback_is_not_trusted(alpha, login_client):
    # Meta never sends our tracking code; one smuggled into a payload must not claim a workspace.
    tracking = login_client(alpha.admin).post("/whatsapp/embedded-signup/start/").json()["tracking_code"]
    deliver_webhook(_partner_app_installed("1191624265890717", "2329417887457253", tracking_code=tracking))
    assert OrphanConnection.objects.get().waba_id == "1191624265890717"
    assert _tenant_alerts(alpha.tenant) == []


def test_two_workspaces_claiming_the_same_waba_are_left_to_staff(alpha, bravo, login_client):
    _start_and_report(login_client(alpha.admin), waba_id="1191624265890717", business_id="2329417887457253")
    _start_and_report(login_client(bravo.admin), waba_id="1191624265890717", business_id="2329417887457253")
    deliver_webhook(_partner_app_installed("1191624265890717", "2329417887457253"))
    assert OrphanConnection.objects.get().waba_id == "1191624265890717"
    assert _tenant_alerts(alpha.tenant) == [] and _tenant_alerts(bravo.tenant) == []


def test_session_info_needs_the_connect_permission_and_an_open_session(alpha, login_client):
    tracking = login_client(alpha.admin).post("/whatsapp/embedded-signup/start/").json()["tracking_code"]
    info = {"tracking_code": tracking, "waba_id": "1191624265890717", "business_id": "2329417887457253"}
    assert login_client(alpha.viewer).post("/whatsapp/embedded-signup/session/", info).status_code == 403
    unknown = login_client(alpha.admin).post("/whatsapp/embedded-signup/session/", {**info, "tracking_code": "nope"})
    assert unknown.status_code == 404
    with tenant_context(alpha.tenant):
        assert OnboardingSession.objects.get().waba_id == ""


def test_the_page_starts_a_session_with_a_tracking_code(alpha, login_client):
    response = login_client(alpha.admin).post("/whatsapp/embedded-signup/start/")
    assert response.status_code == 200 and len(response.json()["tracking_code"]) >= 24
    with tenant_context(alpha.tenant):
        assert OnboardingSession.objects.get().status == "pending"


def test_a_callback_is_matched_by_an_account_of_the_owner_business(simulator, connected, alpha):
    kind, tenant_id = onboarding_match(waba_id="555002", owner_business_id=connected.business_id, source="test")
    assert (kind, tenant_id) == ("business", alpha.tenant.pk)


def test_an_unmatched_callback_becomes_an_orphan_that_staff_assign(alpha):
    kind, orphan = onboarding_match(waba_id="555003", owner_business_id="999", phone_number_ids=["1"], source="test")
    assert kind == "orphan"
    again, same = onboarding_match(waba_id="555003", source="test")
    assert same.pk == orphan.pk  # re-delivered callbacks do not duplicate it
    with platform_context("test"):
        assert Alert.all_tenants.get(tenant=None).title == "Unclaimed WABA 555003"

    from accounts.models import User

    staff = User.objects.create_superuser(email="ops@platform.test", password="a-long-passphrase-1")
    client = Client()
    client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get("/admin/whatsapp/orphanconnection/").status_code == 200
    response = client.post(f"/admin/whatsapp/orphanconnection/{orphan.pk}/assign/", {"tenant": alpha.tenant.pk})
    assert response.status_code == 302
    orphan.refresh_from_db()
    assert orphan.assigned_tenant_id == alpha.tenant.pk
    with platform_context("test"):
        assert AuditEvent.all_tenants.filter(action="whatsapp.orphan_assigned", tenant=alpha.tenant).exists()
        assert not Alert.all_tenants.filter(tenant=None, resolved_at=None).exists()
    with tenant_context(alpha.tenant):
        assert Alert.objects.filter(title__contains="555003").exists()


def test_a_callback_for_a_connected_waba_changes_nothing(simulator, connected):
    kind, account = onboarding_match(waba_id=connected.waba_id, source="test")
    assert kind == "connected" and account.pk == connected.pk
    assert not OrphanConnection.objects.exists()


def test_expired_sessions_do_not_match_and_the_nightly_job_closes_them(alpha, login_client):
    _start_and_report(login_client(alpha.admin), waba_id="555004", business_id="555005")
    with tenant_context(alpha.tenant):
        OnboardingSession.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    deliver_webhook(_partner_app_installed("555004", "555005"))
    assert OrphanConnection.objects.get().waba_id == "555004"
    assert onboarding_sessions_expire() == 1
    with tenant_context(alpha.tenant):
        assert OnboardingSession.objects.get().status == "expired"


def test_finishing_embedded_signup_completes_its_session(simulator, alpha, login_client):
    client = login_client(alpha.admin)
    tracking = client.post("/whatsapp/embedded-signup/start/").json()["tracking_code"]
    signup = simulator.state.create_signup(name="Florist")
    client.post(
        "/whatsapp/embedded-signup/",
        {
            "code": signup["code"],
            "waba_id": signup["waba_id"],
            "phone_number_id": signup["phone_number_id"],
            "pin": "123456",
            "tracking_code": tracking,
        },
    )
    with tenant_context(alpha.tenant):
        session = OnboardingSession.objects.get()
    assert (session.status, session.waba_id, session.business_id) == (
        "completed",
        signup["waba_id"],
        signup["business_id"],  # what the code exchange's token showed as the WABA's owner
    )
    kind, _ = onboarding_match(waba_id=signup["waba_id"], owner_business_id=signup["business_id"], source="test")
    assert kind == "connected"


def test_a_failed_code_exchange_still_leaves_the_session_matchable(simulator, alpha, login_client):
    client = login_client(alpha.admin)
    tracking = client.post("/whatsapp/embedded-signup/start/").json()["tracking_code"]
    form = {"code": "expired-code", "waba_id": "1191624265890717", "phone_number_id": "7000001", "pin": "123456"}
    client.post("/whatsapp/embedded-signup/", {**form, "tracking_code": tracking, "business_id": "2329417887457253"})
    deliver_webhook(_partner_app_installed("1191624265890717", "2329417887457253"))
    with tenant_context(alpha.tenant):
        assert OnboardingSession.objects.get().status == "matched"
    assert _tenant_alerts(alpha.tenant) == ["Finish connecting WhatsApp Business Account 1191624265890717"]


def test_an_orphan_closes_when_a_workspace_connects_its_waba(simulator, alpha, login_client):
    # Meta's callback outran the browser: an orphan; then the code exchange connects the WABA.
    signup = simulator.state.create_signup(name="Florist")
    deliver_webhook(_partner_app_installed(signup["waba_id"], signup["business_id"]))
    assert OrphanConnection.objects.get().assigned_tenant_id is None
    form = {"code": signup["code"], "waba_id": signup["waba_id"], "phone_number_id": signup["phone_number_id"]}
    login_client(alpha.admin).post("/whatsapp/embedded-signup/", {**form, "pin": "123456"})
    orphan = OrphanConnection.objects.get()
    assert (orphan.assigned_tenant_id, orphan.assigned_by_id) == (alpha.tenant.pk, alpha.admin.user.pk)
    with platform_context("test"):
        assert not Alert.all_tenants.filter(tenant=None, resolved_at=None).exists()
