"""Live updates: the page polls /inbox/changes/ with the versions it was rendered at; nothing
changed is a 204 that reads no conversation; a customer's message brings the list, the counts, the
badge and the timeline out of band; a send on its way keeps the conversation re-read; typing
notices show who else is writing."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aerostic.core.tenant_context import tenant_context
from inbox.tests.portal_support import ASHA, conversation_of, inbound, receive
from whatsapp.models import OutboundMessage
from whatsapp.tests.factories import OutboundMessageFactory

pytestmark = pytest.mark.django_db


def _poll_url(page: str) -> str:
    tag = re.search(r'<div id="inbox-poll"[^>]*>', page).group(0)
    return html_lib.unescape(re.search(r'hx-get="([^"]+)"', tag).group(1))


@pytest.fixture
def opened(alpha, number, login_client, django_capture_on_commit_callbacks):
    """The agent's client with the conversation open (its unread notice already seen by a poll)."""
    with django_capture_on_commit_callbacks(execute=True):
        receive(alpha.tenant, number, inbound(ASHA, "wamid.first", text={"body": "First"}))
    conversation = conversation_of(alpha.tenant, number)
    client = login_client(alpha.agent)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.get(f"/inbox/{conversation.pk}/").content.decode()
    # opening it marked it read: that change shows on the next poll, then the page is current
    refreshed = client.get(_poll_url(page))
    url = _poll_url(refreshed.content.decode()) if refreshed.status_code == 200 else _poll_url(page)
    return client, conversation, url


def test_an_unchanged_poll_is_a_204_that_reads_no_conversation(opened):
    client, conversation, url = opened

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)

    assert response.status_code == 204 and response.content == b""
    assert not [q["sql"] for q in queries.captured_queries if "inbox_" in q["sql"]]


def test_a_customer_message_brings_fragments_and_a_new_token(alpha, number, opened, django_capture_on_commit_callbacks):
    client, conversation, url = opened
    with django_capture_on_commit_callbacks(execute=True):
        receive(alpha.tenant, number, inbound(ASHA, "wamid.second", text={"body": "Anyone there?"}))

    response = client.get(url)

    assert response.status_code == 200
    body = response.content.decode()
    assert '<div class="inbox-rows" id="inbox-rows" hx-swap-oob="true">' in body
    assert 'id="inbox-tabs" aria-label="Views" hx-swap-oob="true"' in body
    assert 'id="nav-badge-inbox-index" hx-swap-oob="true"' in body
    assert 'id="timeline" aria-label="Messages" hx-swap-oob="true"' in body and "Anyone there?" in body
    assert 'id="conversation-head"' in body
    assert response["HX-Trigger"] == "inbox-conversation-changed"
    next_url = _poll_url(body)
    assert next_url != url
    assert client.get(next_url).status_code == 204


def test_a_send_on_its_way_keeps_the_conversation_polled(alpha, number, opened):
    client, conversation, url = opened
    with tenant_context(alpha.tenant):
        queued = OutboundMessageFactory(
            phone_number=number, recipient=ASHA, origin="inbox", content={"type": "text", "text": {"body": "On my way"}}
        )
    page = client.get(f"/inbox/{conversation.pk}/").content.decode()
    url = _poll_url(page)
    assert "inflight=1" in url

    # the send path refuses it without bumping a version: the poll still shows it
    with tenant_context(alpha.tenant):
        OutboundMessage.objects.filter(pk=queued.pk).update(state="skipped", hold_reason="The customer opted out")
    response = client.get(url)

    assert response.status_code == 200
    assert "Not sent: The customer opted out" in response.content.decode()
    assert "inflight=1" not in _poll_url(response.content.decode())


def test_typing_shows_on_the_other_agents_poll(alpha, opened, login_client):
    client, conversation, url = opened
    admin = alpha.admin.user
    admin.full_name = "Ben Admin"
    admin.save()

    assert login_client(alpha.admin).post(f"/inbox/{conversation.pk}/typing/").status_code == 204
    response = client.get(url)

    assert response.status_code == 200
    assert "Ben Admin is typing…" in response.content.decode()
    assert client.get(_poll_url(response.content.decode())).status_code == 204


def test_the_list_page_polls_without_a_conversation(alpha, number, login_client, django_capture_on_commit_callbacks):
    client = login_client(alpha.agent)
    url = _poll_url(client.get("/inbox/?view=all&state=any").content.decode())
    assert "conversation=" not in url and "state=any" in url
    assert client.get(url).status_code == 204

    with django_capture_on_commit_callbacks(execute=True):
        receive(alpha.tenant, number, inbound(ASHA, "wamid.new", text={"body": "New here"}))
    response = client.get(url)

    assert response.status_code == 200 and "New here" in response.content.decode()
    assert 'id="timeline"' not in response.content.decode()


def test_a_conversation_reassigned_away_sends_the_agents_page_back_to_the_list(alpha, opened):
    from inbox import teamwork
    from tenants.tests.factories import MembershipFactory

    client, conversation, url = opened
    other = MembershipFactory(tenant=alpha.tenant, role="agent")
    with tenant_context(alpha.tenant):
        teamwork.conversation_assign(conversation, assignee_id=other.user_id, actor=alpha.admin.user)

    response = client.get(url.replace("token=", "token=stale"), HTTP_HX_REQUEST="true")

    assert response.status_code == 404 and response["HX-Redirect"] == "/inbox/"
