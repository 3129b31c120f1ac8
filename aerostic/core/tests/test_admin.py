"""The platform console: every registered model's pages open for a super-admin, in platform scope."""

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(alpha, bravo):
    user = User.objects.create_superuser(email="ops@platform.test", password="a-long-passphrase-1")
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _registered():
    return sorted(admin.site._registry, key=lambda model: model._meta.label)


@pytest.mark.parametrize("model", _registered(), ids=lambda model: model._meta.label)
def test_changelist_opens(staff_client, model):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert staff_client.get(url).status_code == 200


def test_tenant_change_page_lists_members_across_tenants(staff_client, alpha):
    response = staff_client.get(reverse("admin:tenants_tenant_change", args=[alpha.tenant.pk]))
    assert response.status_code == 200
    assert alpha.agent.user.email.encode() in response.content


def test_membership_changelist_shows_every_tenant(staff_client, alpha, bravo):
    content = staff_client.get(reverse("admin:tenants_membership_changelist")).content
    assert alpha.admin.user.email.encode() in content and bravo.admin.user.email.encode() in content


def test_global_kill_switch_flip_from_the_console_is_audited(staff_client):
    from aerostic.core.models import AuditEvent
    from aerostic.core.tenant_context import platform_context
    from compliance.selectors import sending_allowed
    from tenants.models import Tenant

    response = staff_client.post(
        reverse("admin:compliance_platformswitch_change", args=[1]), {"sending_enabled": "", "reason": "Incident 42"}
    )
    assert response.status_code == 302
    tenant = Tenant.objects.first()
    assert "Incident 42" in sending_allowed(tenant.pk).reason
    with platform_context("test"):
        assert AuditEvent.all_tenants.filter(action="killswitch.platform_off", tenant=None).exists()


def test_tokens_and_hashes_are_not_shown_in_the_console(staff_client, alpha):
    from aerostic.core.tenant_context import tenant_context
    from tenants.services import invitation_create

    with tenant_context(alpha.tenant):
        invitation, token = invitation_create(
            tenant=alpha.tenant, email="secret@example.com", role="agent", actor=alpha.admin.user
        )
    page = staff_client.get(reverse("admin:tenants_invitation_change", args=[invitation.pk])).content
    assert token.encode() not in page and invitation.token_hash.encode() not in page


def test_queue_dashboard_is_for_super_admins_only(alpha, login_client, staff_client):
    from accounts.models import User

    assert staff_client.get("/admin/rq/").status_code == 200
    staff_only = User.objects.create_user(email="staff@platform.test", password="a-long-passphrase-1", is_staff=True)
    response = login_client(staff_only).get("/admin/rq/")
    assert response.status_code == 302 and "/admin/login/" in response.url


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        pytest.param(1, "6.6.6.6, 198.51.100.7", "198.51.100.7", id="trusted-proxy"),
        pytest.param(0, "6.6.6.6", "127.0.0.1", id="no-proxy-header-ignored"),
    ],
)
def test_auditlog_entries_record_the_resolved_client_address(staff_client, settings, proxies, forwarded_for, expected):
    from auditlog.models import LogEntry

    from compliance.models import PlatformSwitch

    settings.TRUSTED_PROXY_COUNT = proxies
    response = staff_client.post(
        reverse("admin:compliance_platformswitch_change", args=[1]),
        {"sending_enabled": "", "reason": "Incident 43"},
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )
    assert response.status_code == 302
    entry = LogEntry.objects.get_for_model(PlatformSwitch).latest("timestamp")
    assert entry.remote_addr == expected


def test_queue_stats_json_is_for_super_admins_only(alpha, login_client, staff_client):
    from accounts.models import User

    superuser_answer = staff_client.get("/admin/rq/stats.json/")
    assert superuser_answer.status_code == 200 and "queues" in superuser_answer.json()
    staff_only = User.objects.create_user(email="staff@platform.test", password="a-long-passphrase-1", is_staff=True)
    refused = login_client(staff_only).get("/admin/rq/stats.json/")
    assert refused.status_code == 401 and "queues" not in refused.json()


def test_queue_stats_json_takes_the_api_token_only_when_one_is_set(db, settings):
    settings.RQ_API_TOKEN = ""
    assert Client().get("/admin/rq/stats.json/", HTTP_AUTHORIZATION="Bearer ").status_code == 401
    settings.RQ_API_TOKEN = "along_monitoring_token"
    assert Client().get("/admin/rq/stats.json/", HTTP_AUTHORIZATION="Bearer along_monitoring_token").status_code == 200
    assert Client().get("/admin/rq/stats.json/along_monitoring_token/").status_code == 200
    assert Client().get("/admin/rq/stats.json/", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
