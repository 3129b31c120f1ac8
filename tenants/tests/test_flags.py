"""Feature flags per workspace (django-waffle with tenants.WorkspaceFlag): rollout by stable hash,
allow / deny lists, the kill state, the cache, the template tag and the console's audited edits."""

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import platform_context
from tenants.flags import WorkspaceFlag, flag_enabled, rollout_bucket

pytestmark = pytest.mark.django_db

WORKSPACES = range(1, 4001)


def _share(flag: WorkspaceFlag) -> float:
    return sum(flag.is_active_for_tenant(tenant_id) for tenant_id in WORKSPACES) / len(WORKSPACES)


@pytest.mark.parametrize("percent", [1, 10, 30, 50, 90])
def test_a_rollout_reaches_its_share_of_workspaces(percent):
    WorkspaceFlag.objects.create(name=f"feature-{percent}", percent=percent)
    flag = WorkspaceFlag.get_from_db(f"feature-{percent}")  # as waffle caches it: its lists read along
    assert abs(_share(flag) - percent / 100) < 0.02


def test_a_workspace_keeps_its_answer_and_a_larger_rollout_only_adds_workspaces():
    WorkspaceFlag.objects.create(name="ai_replies", percent=20)
    flag = WorkspaceFlag.get_from_db("ai_replies")
    first = {tenant_id for tenant_id in WORKSPACES if flag.is_active_for_tenant(tenant_id)}
    assert first == {tenant_id for tenant_id in WORKSPACES if flag.is_active_for_tenant(tenant_id)}
    flag.percent = 45
    wider = {tenant_id for tenant_id in WORKSPACES if flag.is_active_for_tenant(tenant_id)}
    assert first < wider
    WorkspaceFlag.objects.create(name="automations", percent=20)
    other = WorkspaceFlag.get_from_db("automations")
    theirs = {tenant_id for tenant_id in WORKSPACES if other.is_active_for_tenant(tenant_id)}
    assert len(first & theirs) < 0.5 * len(first)  # independent flags, not the same fifth
    assert rollout_bucket("ai_replies", 7) == rollout_bucket("ai_replies", 7)


def test_kill_beats_everything_deny_beats_everyone_allow_beats_off(alpha, bravo):
    flag = WorkspaceFlag.objects.create(name="ai_replies", everyone=True)
    flag.denied.add(bravo.tenant)
    flag = WorkspaceFlag.get_from_db("ai_replies")
    assert (flag.is_active_for_tenant(alpha.tenant.pk), flag.is_active_for_tenant(bravo.tenant.pk)) == (True, False)
    flag.everyone = False
    flag.allowed.add(alpha.tenant)
    flag = WorkspaceFlag.get_from_db("ai_replies")
    flag.everyone = False
    assert flag.is_active_for_tenant(alpha.tenant.pk) and not flag.is_active_for_tenant(999)
    flag.killed = True
    assert not flag.is_active_for_tenant(alpha.tenant.pk)
    assert not flag_enabled("never-created", alpha.tenant) and not flag.is_active_for_tenant(None)


def test_flag_enabled_reads_the_cache_and_every_change_flushes_it(alpha, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        flag = WorkspaceFlag.objects.create(name="ai_replies", everyone=False)
    assert flag_enabled("ai_replies", alpha.tenant) is False
    with django_capture_on_commit_callbacks(execute=True):
        flag.allowed.add(alpha.tenant)
    assert flag_enabled("ai_replies", alpha.tenant.pk) is True
    with django_capture_on_commit_callbacks(execute=True):
        flag.killed, flag.killed_reason = True, "replies in the wrong language"
        flag.save()
    assert flag_enabled("ai_replies", alpha.tenant) is False


def test_the_template_tag_asks_the_requests_workspace(alpha, bravo):
    flag = WorkspaceFlag.objects.create(name="ai_replies")
    flag.allowed.add(alpha.tenant)
    template = Template('{% load waffle_tags %}{% flag "ai_replies" %}on{% else %}off{% endflag %}')
    request = RequestFactory().get("/")
    request.tenant = alpha.tenant
    assert template.render(Context({"request": request})) == "on"
    request.tenant = bravo.tenant
    assert template.render(Context({"request": request})) == "off"


def test_the_console_edits_a_flag_and_every_edit_is_audited(console_client, alpha):
    flag = WorkspaceFlag.objects.create(name="ai_replies", percent=10)
    url = f"/admin/tenants/workspaceflag/{flag.pk}/change/"
    form = {"name": "ai_replies", "note": "AI auto-replies (issue 20)", "percent": "25", "everyone": "unknown"}
    response = console_client.post(url, {**form, "killed": "on"})
    assert response.status_code == 200 and "Say why the flag is killed" in response.content.decode()
    response = console_client.post(url, {**form, "allowed": [alpha.tenant.pk]})
    assert response.status_code == 302, response.content.decode()[:2000]
    flag.refresh_from_db()
    assert flag.percent == 25 and list(flag.allowed.all()) == [alpha.tenant]
    with platform_context("test"):
        event = AuditEvent.all_tenants.get(action="flag.changed")
    assert event.metadata["name"] == "ai_replies" and event.metadata["state"] == "rollout 25 %"
    assert event.metadata["allowed"] == [alpha.tenant.slug]
    listing = console_client.get("/admin/tenants/workspaceflag/").content.decode()
    assert "ai_replies" in listing and "rollout 25 %" in listing
