"""Taking over from the AI and handing back, where people do it: the conversation's side panel
(INBOX_TAKEOVER: agents and admins, not viewers) and the REST API; an agent's reply through the
API refused once, with 409, when the AI answered a moment ago."""

from __future__ import annotations

import pytest

from aerostic.core.tenant_context import tenant_context
from inbox.models import Conversation, ConversationEvent
from inbox.tests.ai_support import KNOWN_QUESTION, ai_on, customer_says, run_ai, run_sends

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(alpha, phone):
    ai_on(alpha, phone)
    customer_says(phone, KNOWN_QUESTION)
    with tenant_context(alpha.tenant):
        return Conversation.objects.get()


def _paused(alpha, conversation) -> bool:
    with tenant_context(alpha.tenant):
        return Conversation.objects.get(pk=conversation.pk).ai_paused_at is not None


def test_the_panel_shows_the_ai_and_takes_over_and_hands_back(alpha, conversation, login_client):
    agent = login_client(alpha.agent)
    panel = agent.get(f"/inbox/{conversation.pk}/panel/").content.decode()
    assert "AI answering" in panel and "Take over" in panel
    response = agent.post(f"/inbox/{conversation.pk}/ai/", {"action": "takeover"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200 and "Taken over" in page and "Hand back to the AI" in page
    assert "You took over" in page and _paused(alpha, conversation)
    response = agent.post(f"/inbox/{conversation.pk}/ai/", {"action": "release"})
    assert response.status_code == 302 and not _paused(alpha, conversation)
    with tenant_context(alpha.tenant):
        kinds = list(ConversationEvent.objects.order_by("pk").values_list("kind", "actor_id"))
    assert kinds == [("taken_over", alpha.agent.user.pk), ("released", alpha.agent.user.pk)]


def test_a_viewer_sees_no_takeover_button_and_may_not_take_over(alpha, conversation, login_client):
    viewer = login_client(alpha.viewer)
    assert "Take over" not in viewer.get(f"/inbox/{conversation.pk}/panel/").content.decode()
    assert viewer.post(f"/inbox/{conversation.pk}/ai/", {"action": "takeover"}).status_code == 403
    assert not _paused(alpha, conversation)


def test_an_unknown_action_is_refused(alpha, conversation, login_client):
    response = login_client(alpha.agent).post(f"/inbox/{conversation.pk}/ai/", {"action": "pause"})
    assert response.status_code == 400 and "take over or hand back" in response.content.decode()


def test_the_api_takes_over_and_releases(alpha, conversation, api_client_for):
    api = api_client_for(alpha.agent)
    answer = api.post(f"/api/v1/conversations/{conversation.pk}/takeover/")
    assert answer.status_code == 200 and answer.json()["ai_taken_over_at"] is not None
    answer = api.post(f"/api/v1/conversations/{conversation.pk}/release/")
    assert answer.status_code == 200 and answer.json()["ai_taken_over_at"] is None
    assert api_client_for(alpha.viewer).post(f"/api/v1/conversations/{conversation.pk}/takeover/").status_code == 403


def test_an_api_reply_right_after_the_ais_is_refused_once_with_409(alpha, phone, conversation, api_client_for):
    run_ai()
    run_sends(alpha, phone)
    api = api_client_for(alpha.agent)
    url = f"/api/v1/conversations/{conversation.pk}/messages/"
    first = api.post(url, {"text": "Let me check"}, format="json")
    assert first.status_code == 409 and first.json()["code"] == "ai_just_answered"
    assert _paused(alpha, conversation)  # the takeover stays though the reply was refused
    assert api.post(url, {"text": "Let me check"}, format="json").status_code == 202
