"""Embedded Signup sessions, matching Meta's callback to a workspace, orphans, expiry."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from aerostic.core.models import Alert, AuditEvent
from tenants.context import platform_context, tenant_context
from whatsapp.models import OnboardingSession, OrphanConnection
from whatsapp.onboarding import expire_onboarding_sessions, onboarding_match, onboarding_start

pytestmark = pytest.mark.django_db


def test_the_page_starts_a_session_with_a_tracking_code(alpha, login_client):
    response = login_client(alpha.admin).post("/whatsapp/embedded-signup/start/")
    assert response.status_code == 200 and len(response.json()["tracking_code"]) >= 24
    with tenant_context(alpha.tenant):
        assert OnboardingSession.objects.get().status == "pending"


def test_a_callback_with_the_tracking_code_matches_the_session_and_alerts_the_tenant(alpha):
    session = onboarding_start(tenant=alpha.tenant, actor=alpha.admin.user)
    kind, matched = onboarding_match(waba_id="555001", tracking_code=session.tracking_code, source="test")
    assert kind == "session" and matched.pk == session.pk
    with tenant_context(alpha.tenant):
        assert OnboardingSession.objects.get().status == "matched"
        assert Alert.objects.get().title == "Finish connecting WhatsApp Business Account 555001"


def test_a_callback_is_matched_by_owner_business_when_there_is_no_code(simulator, connected, alpha):
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


def test_expired_sessions_do_not_match_and_the_nightly_job_closes_them(alpha):
    session = onboarding_start(tenant=alpha.tenant, actor=alpha.admin.user)
    with tenant_context(alpha.tenant):
        OnboardingSession.objects.filter(pk=session.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    kind, _ = onboarding_match(waba_id="555004", tracking_code=session.tracking_code, source="test")
    assert kind == "orphan"
    assert expire_onboarding_sessions() == 1
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
    assert (session.status, session.waba_id) == ("completed", signup["waba_id"])
