"""The composer: a reply within the 24-hour window is queued (origin inbox) and shows at once; one
outside it is refused with the text kept, and a template goes instead; a failed send is retried;
a note mentions a teammate; quick replies and the template preview answer the composer's scripts."""

from __future__ import annotations

import re

import pytest

from aerostic.core.tenant_context import tenant_context
from inbox.models import ConversationEvent, Mention, QuickReply
from inbox.tests.portal_support import (
    ASHA,
    conversation_of,
    inbound,
    receive,
    sent,
    text_of,
    window,
)
from whatsapp.models import OutboundMessage
from whatsapp.tests.factories import OutboundMessageFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def conversation(alpha, number):
    receive(alpha.tenant, number, inbound(ASHA, "wamid.in", text={"body": "Is my order late?"}))
    return conversation_of(alpha.tenant, number)


def _outbound(alpha) -> list[OutboundMessage]:
    with tenant_context(alpha.tenant):
        return list(OutboundMessage.objects.order_by("pk"))


def test_a_reply_within_the_window_is_queued_from_the_inbox_and_shows_at_once(alpha, login_client, conversation):
    client = login_client(alpha.agent)

    response = client.post(f"/inbox/{conversation.pk}/reply/", {"text": "It ships *today*", "key": "k1"}, **HTMX)

    assert response.status_code == 200
    (queued,) = _outbound(alpha)
    assert queued.origin == OutboundMessage.Origin.INBOX and queued.created_by == alpha.agent.user
    assert queued.content == {"type": "text", "text": {"body": "It ships *today*", "preview_url": True}}
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="composer" id="composer"')  # a fresh composer
    assert '<textarea id="composer-text"' in html and "It ships *today*</textarea>" not in html
    assert 'id="timeline" aria-label="Messages" hx-swap-oob="true"' in html
    assert "It ships *today* Queued…" in text_of(html)
    # the same form posted twice (a double click) queues one message
    client.post(f"/inbox/{conversation.pk}/reply/", {"text": "It ships *today*", "key": "k1"}, **HTMX)
    assert len(_outbound(alpha)) == 1


def test_a_reply_without_javascript_redirects_back_to_the_conversation(alpha, login_client, conversation):
    response = login_client(alpha.agent).post(f"/inbox/{conversation.pk}/reply/", {"text": "Hello"})
    assert response.status_code == 302 and response.url == f"/inbox/{conversation.pk}/#composer"
    assert len(_outbound(alpha)) == 1


def test_a_reply_outside_the_window_is_refused_with_the_text_kept(alpha, login_client, conversation):
    window(alpha.tenant, conversation, open=False)
    client = login_client(alpha.agent)

    response = client.post(f"/inbox/{conversation.pk}/reply/", {"text": "Are you <there>?"}, **HTMX)

    assert response.status_code == 400
    html = response.content.decode()
    assert "24-hour window is closed" in html
    assert "Are you &lt;there&gt;?</textarea>" in html
    assert _outbound(alpha) == []
    # without JavaScript: the whole page, the message inline, the text kept
    page = client.post(f"/inbox/{conversation.pk}/reply/", {"text": "Are you there?"})
    assert page.status_code == 400 and "Are you there?</textarea>" in page.content.decode()
    assert 'class="form-error" role="alert"' in page.content.decode()


def test_outside_the_window_the_composer_offers_the_template_picker(alpha, login_client, conversation, approved):
    window(alpha.tenant, conversation, open=False)
    html = login_client(alpha.agent).get(f"/inbox/{conversation.pk}/").content.decode()
    assert re.search(r'<form class="composer-text"[^>]*data-free-text hidden', html)
    assert '<details class="composer-templates" data-template-picker open>' in html
    assert "order_update (en_US)" in html
    assert "24-hour window closed: templates only" in html


def test_a_template_is_sent_with_its_values_even_when_the_window_is_closed(alpha, login_client, conversation, approved):
    window(alpha.tenant, conversation, open=False)
    client = login_client(alpha.agent)
    form = {"mode": "template", "template_id": approved.pk, "v.body.1": "Asha", "v.body.2": "A-1042"}

    response = client.post(f"/inbox/{conversation.pk}/reply/", form, **HTMX)

    assert response.status_code == 200, response.content[:400]
    (queued,) = _outbound(alpha)
    assert queued.template_id == approved.pk and queued.origin == OutboundMessage.Origin.INBOX
    assert queued.content["template"]["components"] == [
        {"type": "body", "parameters": [{"type": "text", "text": "Asha"}, {"type": "text", "text": "A-1042"}]}
    ]
    assert "Template: order_update Queued…" in text_of(response.content.decode())


def test_a_template_with_a_missing_value_is_refused_with_the_values_kept(alpha, login_client, conversation, approved):
    client = login_client(alpha.agent)
    form = {"mode": "template", "template_id": approved.pk, "v.body.1": "Asha"}

    response = client.post(f"/inbox/{conversation.pk}/reply/", form, **HTMX)

    assert response.status_code == 400
    html = response.content.decode()
    assert "Missing values: body.2." in html
    assert 'name="v.body.1" value="Asha"' in html
    assert _outbound(alpha) == []


def test_the_template_preview_fills_the_values_typed_so_far(alpha, login_client, conversation, approved):
    client = login_client(alpha.agent)
    url = f"/inbox/{conversation.pk}/template-preview/"

    form = client.get(url, {"template_id": approved.pk}).content.decode()
    preview = client.get(url, {"template_id": approved.pk, "v.body.1": "Ravi", "part": "preview"}).content.decode()

    assert (
        'name="v.body.1"' in form and 'placeholder="Asha"' in form and "Hi Asha, your order A-1 is on its way." in form
    )
    assert "Hi Ravi, your order A-1 is on its way." in preview and 'name="v.body.1"' not in preview
    assert client.get(url, {"template_id": 999999}).status_code == 400


def test_a_failed_send_is_retried_as_a_new_message(alpha, login_client, number, conversation):
    with tenant_context(alpha.tenant):
        failed = OutboundMessageFactory(
            phone_number=number,
            recipient=ASHA,
            state=OutboundMessage.State.FAILED,
            origin=OutboundMessage.Origin.INBOX,
            content={"type": "text", "text": {"body": "Try me again"}},
            error_detail="Meta was unavailable",
        )
    client = login_client(alpha.agent)

    response = client.post(f"/inbox/{conversation.pk}/retry/", {"outbound_id": failed.pk}, **HTMX)

    assert response.status_code == 200
    again = _outbound(alpha)[-1]
    assert again.pk != failed.pk and again.state == OutboundMessage.State.QUEUED
    assert again.content == failed.content and again.created_by == alpha.agent.user
    assert "Try me again Queued…" in text_of(response.content.decode())


def test_a_message_meta_failed_is_retried_and_a_wrong_id_is_refused(alpha, login_client, number, conversation):
    message = sent(alpha.tenant, number, "wamid.failed", {"type": "text", "text": {"body": "Lost"}}, status="failed")
    client = login_client(alpha.agent)

    assert client.post(f"/inbox/{conversation.pk}/retry/", {"message_id": message.pk}).status_code == 302
    assert _outbound(alpha)[-1].content["text"]["body"] == "Lost"
    refused = client.post(f"/inbox/{conversation.pk}/retry/", {"message_id": 123456789}, **HTMX)
    assert refused.status_code == 400 and "Only a failed message" in refused.content.decode()


def test_a_note_with_a_mention_notifies_the_teammate(alpha, login_client, conversation):
    client = login_client(alpha.admin)

    response = client.post(f"/inbox/{conversation.pk}/note/", {"body": "@agent can you call her?"}, **HTMX)

    assert response.status_code == 200
    with tenant_context(alpha.tenant):
        note = ConversationEvent.objects.get(kind=ConversationEvent.Kind.NOTE)
        assert Mention.objects.get(event=note).user == alpha.agent.user
    html = response.content.decode()
    assert '<span class="mention">@agent</span> can you call her?' in html
    assert 'data-composer-panel="note">' in html  # the note tab stays open
    empty = client.post(f"/inbox/{conversation.pk}/note/", {"body": "  "}, **HTMX)
    assert empty.status_code == 400 and "Write the note first." in empty.content.decode()


def test_quick_replies_match_the_shortcut_prefix(alpha, login_client):
    with tenant_context(alpha.tenant):
        QuickReply.objects.create(shortcut="hours", title="Opening hours", body="We open at 9.")
        QuickReply.objects.create(shortcut="holiday", title="Holidays", body="Closed on Sunday.")
        QuickReply.objects.create(shortcut="refund", title="Refunds", body="Refunds take 5 days.")
    client = login_client(alpha.agent)

    found = client.get("/inbox/quick-replies/", {"q": "/ho"}).json()["results"]

    assert [row["shortcut"] for row in found] == ["holiday", "hours"]
    assert found[1] == {"shortcut": "hours", "title": "Opening hours", "body": "We open at 9."}
    assert len(client.get("/inbox/quick-replies/").json()["results"]) == 3
