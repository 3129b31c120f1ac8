"""Team management: invite, accept, change role, remove — each audited, last admin protected."""

import re

import pytest
from django.test import Client

from accounts.models import User
from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import tenant_context
from tenants.models import Invitation, Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def invite(django_capture_on_commit_callbacks):
    """Posts the invite form and runs the on-commit hooks (the e-mail is sent after commit)."""

    def post(client, email="new.person@example.com", role="agent"):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/workspace/team/", {"email": email, "role": role})

    return post


def _link_path(mail) -> str:
    url = re.search(r"https?://\S+/accounts/invite/\S+/", mail.body).group(0)
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_admin_invites_by_email_and_the_link_creates_an_account_and_membership(invite, alpha, login_client, mailoutbox):
    response = invite(login_client(alpha.admin))
    assert response.status_code == 302
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["new.person@example.com"]
    path = _link_path(mailoutbox[0])

    visitor = Client()
    assert visitor.get(path).status_code == 200
    joined = visitor.post(
        path, {"full_name": "New Person", "password1": "a-long-passphrase-1", "password2": "a-long-passphrase-1"}
    )
    assert joined.status_code == 302 and joined.url == "/"
    user = User.objects.get(email="new.person@example.com")
    with tenant_context(alpha.tenant):
        assert Membership.objects.get(user=user).role == "agent"
        assert set(AuditEvent.objects.values_list("action", flat=True)) >= {"team.invited", "team.joined"}
    assert visitor.get("/").status_code == 200


def test_invitation_link_works_once(invite, alpha, login_client, mailoutbox):
    invite(login_client(alpha.admin))
    path = _link_path(mailoutbox[0])
    Client().post(path, {"full_name": "A", "password1": "a-long-passphrase-1", "password2": "a-long-passphrase-1"})
    assert Client().get(path).status_code == 404


def test_existing_user_accepts_after_signing_in(invite, alpha, bravo, login_client, mailoutbox):
    invite(login_client(alpha.admin), email=bravo.viewer.user.email, role="viewer")
    path = _link_path(mailoutbox[0])
    client = login_client(bravo.viewer)
    assert client.post(path).status_code == 302
    with tenant_context(alpha.tenant):
        assert Membership.objects.filter(user=bravo.viewer.user, role="viewer").exists()


def test_invitation_for_someone_else_is_refused_when_signed_in_as_another_user(
    invite, alpha, bravo, login_client, mailoutbox
):
    invite(login_client(alpha.admin), email="someone@example.com")
    response = login_client(bravo.agent).post(_link_path(mailoutbox[0]))
    assert response.status_code == 403
    with tenant_context(alpha.tenant):
        assert not Membership.objects.filter(user=bravo.agent.user).exists()


def test_inviting_an_existing_member_is_a_form_error(invite, alpha, login_client, mailoutbox):
    response = invite(login_client(alpha.admin), email=alpha.agent.user.email)
    assert response.status_code == 400
    assert b"already a member" in response.content
    assert mailoutbox == []


def test_invalid_email_is_a_form_error(invite, alpha, login_client):
    response = invite(login_client(alpha.admin), email="not-an-email")
    assert response.status_code == 400
    with tenant_context(alpha.tenant):
        assert not Invitation.objects.exists()


def test_agent_cannot_invite(invite, alpha, login_client, mailoutbox):
    response = invite(login_client(alpha.agent))
    assert response.status_code == 403
    assert mailoutbox == []


def test_admin_changes_a_role_and_it_is_audited(alpha, login_client):
    client = login_client(alpha.admin)
    response = client.post(f"/workspace/team/members/{alpha.agent.pk}/role/", {"role": "viewer"})
    assert response.status_code == 302
    with tenant_context(alpha.tenant):
        assert Membership.objects.get(pk=alpha.agent.pk).role == "viewer"
        event = AuditEvent.objects.get(action="team.role_changed")
    assert event.metadata == {"from": "agent", "to": "viewer", "member": alpha.agent.user.email}
    assert event.actor_id == alpha.admin.user_id


def test_the_last_admin_cannot_be_demoted_or_removed(alpha, login_client):
    client = login_client(alpha.admin)
    client.post(f"/workspace/team/members/{alpha.admin.pk}/role/", {"role": "agent"})
    client.post(f"/workspace/team/members/{alpha.admin.pk}/remove/")
    with tenant_context(alpha.tenant):
        assert Membership.objects.get(pk=alpha.admin.pk).role == "admin"


def test_admin_removes_a_member(alpha, login_client):
    login_client(alpha.admin).post(f"/workspace/team/members/{alpha.viewer.pk}/remove/")
    with tenant_context(alpha.tenant):
        assert not Membership.objects.filter(pk=alpha.viewer.pk).exists()
        assert AuditEvent.objects.filter(action="team.member_removed").exists()


def test_api_invite_change_role_and_remove(alpha, api_client_for, mailoutbox, django_capture_on_commit_callbacks):
    client = api_client_for(alpha.admin)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            "/api/v1/team/invitations/", {"email": "api@example.com", "role": "viewer"}, format="json"
        )
    assert created.status_code == 201 and created.json()["email"] == "api@example.com"
    assert len(mailoutbox) == 1
    assert (
        client.patch(f"/api/v1/team/members/{alpha.agent.pk}/", {"role": "admin"}, format="json").json()["role"]
        == "admin"
    )
    assert client.delete(f"/api/v1/team/members/{alpha.viewer.pk}/").status_code == 204
    assert client.delete(f"/api/v1/team/invitations/{created.json()['id']}/").status_code == 204


def test_api_bad_role_is_a_400_with_the_field(alpha, api_client_for):
    response = api_client_for(alpha.admin).patch(
        f"/api/v1/team/members/{alpha.agent.pk}/", {"role": "owner"}, format="json"
    )
    assert response.status_code == 400
    assert "role" in response.json()


def test_api_removing_the_last_admin_is_a_409(alpha, api_client_for):
    response = api_client_for(alpha.admin).delete(f"/api/v1/team/members/{alpha.admin.pk}/")
    assert response.status_code == 409
    assert "at least one admin" in response.json()["detail"]


def test_switching_tenant_changes_the_active_workspace(alpha, bravo, login_client):
    from tenants.tests.factories import MembershipFactory

    MembershipFactory(tenant=bravo.tenant, user=alpha.admin.user, role="viewer")
    client = login_client(alpha.admin)
    assert client.post("/workspace/switch/", {"tenant": bravo.tenant.pk}).status_code == 302
    assert b"Bravo" in client.get("/settings/").content


def test_switching_to_a_foreign_tenant_is_404(alpha, bravo, login_client):
    client = login_client(alpha.admin)
    assert client.post("/workspace/switch/", {"tenant": bravo.tenant.pk}).status_code == 404
    assert client.post("/workspace/switch/", {"tenant": "x"}).status_code == 404
