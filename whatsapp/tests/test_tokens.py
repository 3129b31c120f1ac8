"""Token health (nightly debug_token), alerts, rotation (service, admin, command)."""

import io
import time

import django_rq
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from rq import SimpleWorker

from aerostic.core.models import Alert, AuditEvent
from aerostic.core.tenant_context import platform_context, tenant_context
from whatsapp.connections.tokens import token_health_check, token_rotate
from whatsapp.jobs import check_all_tokens
from whatsapp.models import AccessToken, WhatsAppAccount

pytestmark = pytest.mark.django_db


def _current_token(account, tenant):
    with tenant_context(tenant):
        return AccessToken.objects.select_related("account").get(account=account, is_current=True)


def _sim_token(simulator, account, tenant):
    return simulator.state.tokens[_current_token(account, tenant).token.reveal()]


def test_a_healthy_token_stays_valid_and_raises_nothing(simulator, connected, alpha):
    assert token_health_check(token_row=_current_token(connected, alpha.tenant)) == "valid"
    with tenant_context(alpha.tenant):
        assert not Alert.objects.exists()


def test_a_token_expiring_within_seven_days_is_marked_and_the_expiry_rule_warns(simulator, connected, alpha):
    from aerostic.core.alert_rules import evaluate_rules

    _sim_token(simulator, connected, alpha.tenant).expires_at = int(time.time()) + 3 * 86400
    assert token_health_check(token_row=_current_token(connected, alpha.tenant)) == "expiring"
    with tenant_context(alpha.tenant):
        assert not Alert.objects.exists()  # one alert per expiry: the rule's, from the stored expires_at
    evaluate_rules(["token-expiry"])
    with tenant_context(alpha.tenant):
        alert = Alert.objects.get()
    assert alert.level == "warning" and " expires " in alert.title and alert.key.startswith("rule:token-expiry:")


def test_a_revoked_token_raises_a_critical_alert_once_and_resolves_when_fixed(simulator, connected, alpha):
    sim = _sim_token(simulator, connected, alpha.tenant)
    sim.is_valid = False
    token_health_check(token_row=_current_token(connected, alpha.tenant))
    token_health_check(token_row=_current_token(connected, alpha.tenant))
    with tenant_context(alpha.tenant):
        assert Alert.objects.filter(resolved_at=None, level="critical").count() == 1
        assert WhatsAppAccount.objects.get().status == "needs_attention"
    sim.is_valid = True
    token_health_check(token_row=_current_token(connected, alpha.tenant))
    with tenant_context(alpha.tenant):
        assert not Alert.objects.filter(resolved_at=None).exists()


def test_a_token_that_lost_its_scope_is_marked(simulator, connected, alpha):
    _sim_token(simulator, connected, alpha.tenant).scopes = ["whatsapp_business_management"]
    assert token_health_check(token_row=_current_token(connected, alpha.tenant)) == "scope_missing"


def test_alerts_show_on_the_tenant_dashboard_only(simulator, connected, alpha, bravo, login_client):
    _sim_token(simulator, connected, alpha.tenant).is_valid = False
    token_health_check(token_row=_current_token(connected, alpha.tenant))
    assert b"WhatsApp token of" in login_client(alpha.viewer).get("/").content
    assert b"WhatsApp token of" not in login_client(bravo.admin).get("/").content


def test_the_nightly_job_fans_out_one_job_per_token_and_a_worker_runs_them(
    simulator, connected, alpha, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert check_all_tokens() == 1
    queue = django_rq.get_queue("low")
    assert queue.count == 1
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert _current_token(connected, alpha.tenant).last_checked_at is not None


def test_rotation_stores_the_new_token_and_erases_the_old(simulator, connected, alpha):
    old = _current_token(connected, alpha.tenant)
    new_value = simulator.state.create_business(name="x", display_number="+1 555 0999", verified_name="x")["token"]
    simulator.state.tokens[new_value].waba_ids.append(connected.waba_id)
    fresh = token_rotate(account=connected, new_token=new_value, actor=alpha.admin.user)
    with tenant_context(alpha.tenant):
        old.refresh_from_db()
        assert (old.token, old.status, old.is_current) == (None, "erased", False)
        assert AccessToken.objects.get(pk=fresh.pk).token.reveal() == new_value
        assert AuditEvent.objects.filter(action="whatsapp.token_rotated").exists()


def test_rotation_refuses_a_token_that_cannot_see_the_waba(simulator, connected, alpha):
    from aerostic.core.errors import DomainError

    other = simulator.state.create_business(name="y", display_number="+1 555 0998", verified_name="y")["token"]
    with pytest.raises(DomainError, match="cannot see this WhatsApp Business Account"):
        token_rotate(account=connected, new_token=other, actor=alpha.admin.user)
    assert _current_token(connected, alpha.tenant).status == "valid"


def test_rotation_command_reads_the_token_from_stdin(simulator, connected, alpha, monkeypatch):
    new_value = simulator.state.create_business(name="z", display_number="+1 555 0997", verified_name="z")["token"]
    simulator.state.tokens[new_value].waba_ids.append(connected.waba_id)
    monkeypatch.setattr("sys.stdin", io.StringIO(new_value + "\n"))
    out = io.StringIO()
    call_command("rotate_whatsapp_token", "--account", str(connected.pk), stdout=out)
    assert "rotated" in out.getvalue() and new_value not in out.getvalue()
    assert _current_token(connected, alpha.tenant).token.reveal() == new_value


def test_rotation_command_with_a_bad_token_fails_clearly(simulator, connected, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("EAA-bad\n"))
    with pytest.raises(CommandError, match="not valid"):
        call_command("rotate_whatsapp_token", "--account", str(connected.pk))


def test_rotation_from_the_admin_console(simulator, connected, alpha):
    from accounts.models import User

    staff = User.objects.create_superuser(email="ops@platform.test", password="a-long-passphrase-1")
    client = Client()
    client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    url = f"/admin/whatsapp/whatsappaccount/{connected.pk}/rotate-token/"
    assert client.get(url).status_code == 200
    bad = client.post(url, {"token": "EAA-bad"})
    assert bad.status_code == 200 and b"not valid" in bad.content
    new_value = simulator.state.create_business(name="w", display_number="+1 555 0996", verified_name="w")["token"]
    simulator.state.tokens[new_value].waba_ids.append(connected.waba_id)
    assert client.post(url, {"token": new_value}).status_code == 302
    with platform_context("test"):
        assert AuditEvent.all_tenants.filter(action="whatsapp.token_rotated", actor=staff).exists()


def test_a_token_refused_with_190_marks_the_account_for_reconnection(simulator, connected, alpha, login_client):
    with tenant_context(alpha.tenant):
        phone = connected.phone_numbers.get()
        phone.is_registered = False
        phone.save()
    simulator.state.tokens.pop(_current_token(connected, alpha.tenant).token.reveal())
    login_client(alpha.admin).post(f"/whatsapp/numbers/{phone.pk}/register/", {"pin": "123456"})
    with tenant_context(alpha.tenant):
        assert WhatsAppAccount.objects.get().status == "needs_attention"
        assert Alert.objects.get(resolved_at=None).level == "critical"
