"""Every inbox route of a conversation answers 404 for another workspace's conversation and for one
an agent may not see (assigned to someone else), and a viewer is refused (403) every composer
action — with nothing written and nothing queued in each case."""

from __future__ import annotations

import django_rq
import pytest

from aerostic.core.tenant_context import platform_context, tenant_context
from inbox import teamwork
from inbox.models import ConversationEvent, Mention
from inbox.tests.portal_support import (
    ASHA,
    conversation_of,
    inbound,
    receive,
)
from tenants.tests.factories import MembershipFactory
from whatsapp.models import OutboundMessage

pytestmark = pytest.mark.django_db

ROUTES = [
    ("get", "/inbox/{id}/", {}),
    ("get", "/inbox/{id}/timeline/", {}),
    ("get", "/inbox/{id}/template-preview/", {}),
    ("get", "/inbox/changes/?conversation={id}&token=stale", {}),
    ("post", "/inbox/{id}/reply/", {"text": "Hello"}),
    ("post", "/inbox/{id}/note/", {"body": "A note"}),
    ("post", "/inbox/{id}/retry/", {"outbound_id": "1"}),
    ("post", "/inbox/{id}/typing/", {}),
]
POSTS = [route for route in ROUTES if route[0] == "post"]


@pytest.fixture
def conversation(alpha, number):
    receive(alpha.tenant, number, inbound(ASHA, "wamid.in"))
    return conversation_of(alpha.tenant, number)


def _written() -> tuple:
    with platform_context("isolation snapshot"):
        return (
            OutboundMessage.all_tenants.count(),
            ConversationEvent.all_tenants.count(),
            Mention.all_tenants.count(),
            sum(django_rq.get_queue(name).count for name in ("default", "low", "sends")),
        )


def _call(client, method: str, path: str, data: dict, conversation_id: int):
    url = path.format(id=conversation_id)
    return client.post(url, data) if method == "post" else client.get(url)


@pytest.mark.parametrize(("method", "path", "data"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_another_workspace_gets_a_404_and_changes_nothing(method, path, data, bravo, conversation, login_client):
    before = _written()
    response = _call(login_client(bravo.admin), method, path, data, conversation.pk)
    assert response.status_code == 404, response.content[:300]
    assert _written() == before


@pytest.mark.parametrize(("method", "path", "data"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_an_agent_gets_a_404_for_a_conversation_assigned_to_another_agent(
    method, path, data, alpha, conversation, login_client
):
    other = MembershipFactory(tenant=alpha.tenant, role="agent")
    with tenant_context(alpha.tenant):
        teamwork.conversation_assign(conversation, assignee_id=other.user_id, actor=alpha.admin.user)
    before = _written()
    response = _call(login_client(alpha.agent), method, path, data, conversation.pk)
    assert response.status_code == 404, response.content[:300]
    assert _written() == before
    # an admin (who sees every conversation) is served
    assert login_client(alpha.admin).get(f"/inbox/{conversation.pk}/").status_code == 200


@pytest.mark.parametrize(("method", "path", "data"), POSTS, ids=[p for _, p, _ in POSTS])
def test_a_viewer_is_refused_every_composer_action(method, path, data, alpha, conversation, login_client):
    before = _written()
    response = _call(login_client(alpha.viewer), method, path, data, conversation.pk)
    assert response.status_code == 403
    assert _written() == before


def test_a_viewer_is_refused_quick_replies_and_the_template_preview(alpha, conversation, login_client):
    client = login_client(alpha.viewer)
    assert client.get("/inbox/quick-replies/").status_code == 403
    assert client.get(f"/inbox/{conversation.pk}/template-preview/").status_code == 403


def test_the_list_of_another_workspace_shows_none_of_alphas_conversations(bravo, conversation, login_client):
    html = login_client(bravo.admin).get("/inbox/?state=any").content.decode()
    assert "Asha" not in html and "data-conversation-row" not in html
