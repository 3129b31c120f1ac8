"""Platform console edits of workspaces and teams go through the tenants services: the last admin
stays, every change is audited."""

import pytest
from django.urls import reverse

from accounts.roles import Role
from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import platform_context
from aerostic.core.tests.admin_forms import change_form_data, inline_prefix, messages_of, staff_client
from tenants.models import Membership, Tenant

pytestmark = pytest.mark.django_db

LAST_ADMIN = "A workspace needs at least one admin"


def _events(action: str) -> list[AuditEvent]:
    with platform_context("test"):
        return list(AuditEvent.all_tenants.filter(action=action))


def _role(membership: Membership) -> str:
    with platform_context("test"):
        return Membership.all_tenants.get(pk=membership.pk).role


def _membership_exists(membership: Membership) -> bool:
    with platform_context("test"):
        return Membership.all_tenants.filter(pk=membership.pk).exists()


def _inline_index(response, membership: Membership) -> int:
    prefix = inline_prefix(response, Membership)
    data = change_form_data(response)
    return next(
        index
        for index in range(int(data[f"{prefix}-TOTAL_FORMS"]))
        if data.get(f"{prefix}-{index}-id") == str(membership.pk)
    )


def test_staff_cannot_demote_the_last_admin_through_membership_admin(alpha):
    client = staff_client()
    url = reverse("admin:tenants_membership_change", args=[alpha.admin.pk])
    data = {**change_form_data(client.get(url)), "role": Role.VIEWER}
    response = client.post(url, data, follow=True)
    assert any(LAST_ADMIN in message for message in messages_of(response))
    assert _role(alpha.admin) == Role.ADMIN
    assert _events("team.role_changed") == []


def test_staff_cannot_remove_the_last_admin_through_membership_admin(alpha):
    client = staff_client()
    url = reverse("admin:tenants_membership_delete", args=[alpha.admin.pk])
    response = client.post(url, {"post": "yes"}, follow=True)
    assert any(LAST_ADMIN in message for message in messages_of(response))
    assert _membership_exists(alpha.admin)
    assert _events("team.member_removed") == []


def test_staff_cannot_demote_the_last_admin_through_the_workspace_inline(alpha):
    client = staff_client()
    url = reverse("admin:tenants_tenant_change", args=[alpha.tenant.pk])
    page = client.get(url)
    prefix, index = inline_prefix(page, Membership), _inline_index(page, alpha.admin)
    data = {**change_form_data(page), f"{prefix}-{index}-role": Role.AGENT, "name": "Renamed"}
    response = client.post(url, data, follow=True)
    assert any(LAST_ADMIN in message for message in messages_of(response))
    assert _role(alpha.admin) == Role.ADMIN
    assert Tenant.objects.get(pk=alpha.tenant.pk).name == "Alpha"  # the whole save is undone
    assert _events("team.role_changed") == []


def test_staff_cannot_remove_the_last_admin_through_the_workspace_inline(alpha):
    client = staff_client()
    url = reverse("admin:tenants_tenant_change", args=[alpha.tenant.pk])
    page = client.get(url)
    prefix, index = inline_prefix(page, Membership), _inline_index(page, alpha.admin)
    response = client.post(url, {**change_form_data(page), f"{prefix}-{index}-DELETE": "on"}, follow=True)
    assert any(LAST_ADMIN in message for message in messages_of(response))
    assert _membership_exists(alpha.admin)


def test_staff_role_change_through_membership_admin_is_audited(alpha):
    client = staff_client()
    url = reverse("admin:tenants_membership_change", args=[alpha.agent.pk])
    response = client.post(url, {**change_form_data(client.get(url)), "role": Role.ADMIN})
    assert response.status_code == 302
    assert _role(alpha.agent) == Role.ADMIN
    [event] = _events("team.role_changed")
    assert event.tenant_id == alpha.tenant.pk and event.actor.email == "ops@platform.test"


def test_staff_demotes_an_admin_once_another_admin_is_made_in_the_same_save(alpha):
    client = staff_client()
    url = reverse("admin:tenants_tenant_change", args=[alpha.tenant.pk])
    page = client.get(url)
    prefix = inline_prefix(page, Membership)
    data = {
        **change_form_data(page),
        f"{prefix}-{_inline_index(page, alpha.admin)}-role": Role.AGENT,
        f"{prefix}-{_inline_index(page, alpha.agent)}-role": Role.ADMIN,
    }
    assert client.post(url, data).status_code == 302
    assert (_role(alpha.admin), _role(alpha.agent)) == (Role.AGENT, Role.ADMIN)
    assert len(_events("team.role_changed")) == 2


def test_staff_member_removal_through_the_inline_is_audited(alpha):
    client = staff_client()
    url = reverse("admin:tenants_tenant_change", args=[alpha.tenant.pk])
    page = client.get(url)
    prefix, index = inline_prefix(page, Membership), _inline_index(page, alpha.viewer)
    assert client.post(url, {**change_form_data(page), f"{prefix}-{index}-DELETE": "on"}).status_code == 302
    assert not _membership_exists(alpha.viewer)
    [event] = _events("team.member_removed")
    assert event.tenant_id == alpha.tenant.pk


def test_staff_member_added_through_the_inline_is_audited(alpha, bravo):
    client = staff_client()
    url = reverse("admin:tenants_tenant_change", args=[alpha.tenant.pk])
    page = client.get(url)
    prefix = inline_prefix(page, Membership)
    data = change_form_data(page)
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": str(index + 1),
            f"{prefix}-{index}-user": str(bravo.agent.user.pk),
            f"{prefix}-{index}-role": Role.VIEWER,
            f"{prefix}-{index}-tenant": str(alpha.tenant.pk),
        }
    )
    assert client.post(url, data).status_code == 302
    with platform_context("test"):
        assert Membership.all_tenants.get(tenant=alpha.tenant, user=bravo.agent.user).role == Role.VIEWER
    [event] = _events("team.member_added")
    assert event.tenant_id == alpha.tenant.pk


def test_staff_workspace_edit_is_audited(alpha):
    client = staff_client()
    url = reverse("admin:tenants_tenant_change", args=[alpha.tenant.pk])
    data = {**change_form_data(client.get(url)), "messages_per_minute": "42"}
    assert client.post(url, data).status_code == 302
    assert Tenant.objects.get(pk=alpha.tenant.pk).messages_per_minute == 42
    [event] = _events("tenant.platform_settings_changed")
    assert event.metadata["changes"] == {"messages_per_minute": ["600", "42"]}
    assert event.tenant_id == alpha.tenant.pk


def test_staff_revoking_an_invitation_is_audited_and_invitations_cannot_be_deleted(alpha):
    from aerostic.core.tenant_context import tenant_context
    from tenants.models import Invitation
    from tenants.services import invitation_create

    with tenant_context(alpha.tenant):
        invitation, _ = invitation_create(
            tenant=alpha.tenant, email="new@alpha.test", role=Role.AGENT, actor=alpha.admin.user
        )
    client = staff_client()
    response = client.post(
        reverse("admin:tenants_invitation_changelist"), {"action": "revoke", "_selected_action": [str(invitation.pk)]}
    )
    assert response.status_code == 302
    with platform_context("test"):
        assert Invitation.all_tenants.get(pk=invitation.pk).revoked_at is not None
    [event] = _events("team.invitation_revoked")
    assert event.actor.email == "ops@platform.test"
    assert client.post(reverse("admin:tenants_invitation_delete", args=[invitation.pk])).status_code == 403
