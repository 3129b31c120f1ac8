"""A conversation's page: every message type Meta sends (stored through the real inbound path with
Meta-shaped payloads) and what we send, with its ticks and its sender; reactions, replies, edits
and deletions on their message; activity and notes; "Load earlier"; opening it marks it read."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from aerostic.core.tenant_context import tenant_context
from inbox import teamwork
from inbox.models import Conversation
from inbox.statuses import status_record
from inbox.tests.portal_support import (
    ASHA,
    conversation_of,
    inbound,
    receive,
    sent,
    text_of,
    unix,
)
from whatsapp.models import OutboundMessage
from whatsapp.tests.factories import OutboundMessageFactory

pytestmark = pytest.mark.django_db

TARGET = "wamid.target"


def _page(client, conversation) -> str:
    response = client.get(f"/inbox/{conversation.pk}/")
    assert response.status_code == 200, response.content[:400]
    return response.content.decode()


@pytest.fixture
def every_type(alpha, number):
    """One conversation holding a message of every kind a customer sends."""
    t = timezone.now() - timedelta(minutes=30)

    def at(minutes: int):
        return t + timedelta(minutes=minutes)

    receive(
        alpha.tenant,
        number,
        inbound(ASHA, TARGET, at=at(0), text={"body": "Hi <script>alert('x')</script> *bold* _it_ ~gone~ ```co de```"}),
        inbound(ASHA, "wamid.link", at=at(1), text={"body": "See https://example.com/a_b?x=1&y=2."}),
        inbound(
            ASHA,
            "wamid.img",
            type="image",
            at=at(2),
            image={"id": "1", "mime_type": "image/jpeg", "caption": "My *receipt*"},
        ),
        inbound(ASHA, "wamid.vid", type="video", at=at(3), video={"id": "2", "mime_type": "video/mp4"}),
        inbound(ASHA, "wamid.aud", type="audio", at=at(4), audio={"id": "3", "mime_type": "audio/ogg", "voice": True}),
        inbound(
            ASHA,
            "wamid.doc",
            type="document",
            at=at(5),
            document={"id": "4", "filename": "invoice.pdf", "mime_type": "application/pdf"},
        ),
        inbound(ASHA, "wamid.stk", type="sticker", at=at(6), sticker={"id": "5", "mime_type": "image/webp"}),
        inbound(
            ASHA,
            "wamid.loc",
            type="location",
            at=at(7),
            location={
                "latitude": 37.44221,
                "longitude": -122.16166,
                "name": "Philz Coffee",
                "address": "101 Forest Ave",
            },
        ),
        inbound(
            ASHA,
            "wamid.card",
            type="contacts",
            at=at(8),
            contacts=[
                {
                    "name": {"formatted_name": "Barbara J. Johnson", "first_name": "Barbara"},
                    "org": {"company": "Social Tsunami"},
                    "phones": [{"phone": "+1 (415) 555-0829", "wa_id": "14155550829", "type": "MOBILE"}],
                }
            ],
        ),
        inbound(
            ASHA,
            "wamid.btn",
            type="interactive",
            at=at(9),
            context={"from": "15550783881", "id": TARGET},
            interactive={"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes, ship it"}},
        ),
        inbound(
            ASHA,
            "wamid.list",
            type="interactive",
            at=at(10),
            interactive={
                "type": "list_reply",
                "list_reply": {"id": "x", "title": "Priority Mail", "description": "Next day"},
            },
        ),
        inbound(
            ASHA, "wamid.qr", type="button", at=at(11), button={"payload": "Unsubscribe", "text": "Stop promotions"}
        ),
        inbound(ASHA, "wamid.react", type="reaction", at=at(12), reaction={"message_id": TARGET, "emoji": "👍"}),
        inbound(
            ASHA,
            "wamid.unsup",
            type="unsupported",
            at=at(13),
            errors=[
                {
                    "code": 131051,
                    "title": "Message type unknown",
                    "message": "Message type unknown",
                    "error_data": {"details": "Message type is currently not supported."},
                }
            ],
            unsupported={"type": "poll"},
        ),
        inbound(
            ASHA,
            "wamid.sys",
            type="system",
            at=at(14),
            system={
                "body": "User Asha changed from 919812345601 to 919812340000",
                "wa_id": "919812340000",
                "type": "user_changed_number",
            },
        ),
        inbound(
            ASHA,
            "wamid.order",
            type="order",
            at=at(15),
            order={
                "catalog_id": "1",
                "text": "Love these!",
                "product_items": [{"product_retailer_id": "sku-1", "quantity": 2, "item_price": 30, "currency": "USD"}],
            },
        ),
        inbound(ASHA, "wamid.gone", at=at(16), text={"body": "Oops wrong chat"}),
        inbound(ASHA, "wamid.revoke", type="revoke", at=at(17), revoke={"original_message_id": "wamid.gone"}),
        inbound(ASHA, "wamid.typo", at=at(18), text={"body": "teh parcel"}),
        inbound(
            ASHA,
            "wamid.edit",
            type="edit",
            at=at(19),
            edit={"original_message_id": "wamid.typo", "message": {"type": "text", "text": {"body": "the parcel"}}},
        ),
        inbound(ASHA, "wamid.mystery", type="hologram", at=at(20), hologram={"id": "9"}),
    )
    return conversation_of(alpha.tenant, number)


def test_text_formatting_escapes_html_first_and_links_are_safe(alpha, login_client, every_type):
    html = _page(login_client(alpha.agent), every_type)

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "<strong>bold</strong>" in html and "<em>it</em>" in html and "<del>gone</del>" in html
    assert "<code>co de</code>" in html
    assert '<a href="https://example.com/a_b?x=1&amp;y=2" target="_blank" rel="noopener noreferrer nofollow">' in html


def test_every_message_type_renders(alpha, login_client, every_type):
    html = _page(login_client(alpha.agent), every_type)
    text = text_of(html)

    # media: a preview each, fetched through the permission-checked media route
    for element in ('alt="Photo"', 'alt="Sticker"', "<video src=", "<audio src="):
        assert element in html
    assert "🎤 Voice message" in text and "/media/" in html
    assert "invoice.pdf" in text and "<strong>receipt</strong>" in html
    assert "Philz Coffee" in text and "101 Forest Ave" in text
    assert "https://www.openstreetmap.org/?mlat=37.442210&amp;mlon=-122.161660" in html
    assert "Barbara J. Johnson" in text and "Social Tsunami" in text and "+1 (415) 555-0829" in text
    assert "↩ Yes, ship it" in text and "Priority Mail" in text and "Next day" in text
    assert "↩ Stop promotions" in text
    assert "Message type unknown: Message type is currently not supported. (131051)" in text
    assert "User Asha changed from" in text and "919812340000" not in html  # the notice's numbers masked
    assert "sku-1" in text and "Love these!" in text
    assert "Hologram" in text  # an unknown type says what it is


def test_reactions_replies_edits_and_deletions_land_on_their_message(alpha, login_client, every_type):
    html = _page(login_client(alpha.agent), every_type)
    bubbles = html.split('<div class="bubble-row')
    (target,) = [bubble for bubble in bubbles if "alert(&#x27;x&#x27;)" in bubble and "bubble-quote" not in bubble]

    assert '<div class="bubble-reactions"><span title="Asha Rao">👍</span></div>' in target
    assert "Reacted 👍" not in text_of(html)  # folded onto its message, not a line of its own
    quote = re.search(r'<blockquote class="bubble-quote">(.*?)</blockquote>', html, re.S).group(1)
    assert "Asha Rao" in quote and "Hi &lt;script&gt;" in quote
    assert "Oops wrong chat" not in html and "This message was deleted" in html
    assert "teh parcel" not in html and "the parcel" in html and ">Edited<" in html


def test_outbound_messages_show_ticks_errors_retry_and_who_sent_them(alpha, login_client, number, approved):
    receive(alpha.tenant, number, inbound(ASHA, "wamid.in", at=timezone.now() - timedelta(minutes=5)))
    tenant = alpha.tenant
    text = {"type": "text", "text": {"body": "On its way"}}
    sent(tenant, number, "wamid.o-sent", text)
    sent(tenant, number, "wamid.o-delivered", {"type": "text", "text": {"body": "Delivered one"}})
    sent(tenant, number, "wamid.o-read", {"type": "text", "text": {"body": "Read one"}})
    sent(tenant, number, "wamid.o-failed", {"type": "text", "text": {"body": "Failed one"}})
    template = {
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "en_US"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": "Asha"}, {"type": "text", "text": "A-1"}]}
            ],
        },
    }
    sent(tenant, number, "wamid.o-template", template)
    sent(tenant, number, "wamid.o-deleted", {"type": "text", "text": {"body": "Unsent words"}})
    now = unix(timezone.now())
    with tenant_context(tenant):
        for wamid, status, extra in (
            ("wamid.o-delivered", "delivered", {}),
            ("wamid.o-read", "read", {}),
            ("wamid.o-failed", "failed", {"errors": [{"code": 131026, "title": "Message undeliverable"}]}),
            ("wamid.o-deleted", "deleted", {}),
        ):
            status_record(status={"id": wamid, "status": status, "timestamp": now, "recipient_id": ASHA, **extra})
        OutboundMessageFactory(
            phone_number=number,
            wamid="wamid.o-sent",
            origin=OutboundMessage.Origin.INBOX,
            created_by=alpha.agent.user,
            state=OutboundMessage.State.SENT,
        )
        OutboundMessageFactory(
            phone_number=number, wamid="wamid.o-template", origin=OutboundMessage.Origin.CAMPAIGN, state="sent"
        )
        OutboundMessageFactory(
            phone_number=number, wamid="wamid.o-read", origin=OutboundMessage.Origin.API, state="sent"
        )
        alpha.agent.user.full_name = "Ana"
        alpha.agent.user.save()
    conversation = conversation_of(tenant, number)

    html = _page(login_client(alpha.agent), conversation)
    text = text_of(html)

    assert 'class="ticks" title="Sent">✓<' in html
    assert 'class="ticks" title="Delivered">✓✓<' in html
    assert 'class="ticks ticks-read" title="Read">✓✓<' in html
    assert 'class="ticks ticks-failed" title="Failed">✗<' in html
    assert "Not delivered: error 131026 · Message undeliverable" in text
    assert re.search(
        r'name="message_id" value="\d+"><button class="btn btn-small btn-secondary" type="submit">Retry', html
    )
    assert "Template order_update (en_US)" in text and "Asha" in text and "A-1" in text
    assert "Unsent words" not in html and "This message was deleted" in text
    assert "Ana · Inbox" in text and "Campaign" in text and "API" in text
    assert "WhatsApp Business app" in text  # no ledger row: sent outside Aerostic


def test_sends_on_their_way_show_queued_sending_and_not_sent_with_retry(alpha, login_client, number):
    receive(alpha.tenant, number, inbound(ASHA, "wamid.in", at=timezone.now() - timedelta(minutes=5)))
    conversation = conversation_of(alpha.tenant, number)
    with tenant_context(alpha.tenant):
        for state, extra in (
            ("queued", {}),
            ("sending", {}),
            ("skipped", {"hold_reason": "Quiet hours for this customer"}),
            ("failed", {"error_code": 131047, "error_detail": "More than 24 hours have passed"}),
        ):
            OutboundMessageFactory(
                phone_number=number,
                recipient=ASHA,
                state=state,
                origin=OutboundMessage.Origin.INBOX,
                created_by=alpha.agent.user,
                content={"type": "text", "text": {"body": f"A {state} reply"}},
                **extra,
            )

    text = text_of(_page(login_client(alpha.agent), conversation))

    assert "A queued reply Queued…" in text
    assert "Sending…" in text
    assert "Not sent: Quiet hours for this customer" in text
    assert "Not sent: More than 24 hours have passed (error 131047)" in text
    assert text.count("Retry") == 2


def test_events_and_notes_show_with_actor_and_time(alpha, login_client, number):
    receive(alpha.tenant, number, inbound(ASHA, "wamid.in", at=timezone.now() - timedelta(minutes=5)))
    conversation = conversation_of(alpha.tenant, number)
    admin = alpha.admin.user
    admin.full_name = "Ben Admin"
    admin.save()
    with tenant_context(alpha.tenant):
        teamwork.conversation_assign(conversation, assignee_id=alpha.agent.user_id, actor=admin)
        teamwork.note_add(conversation, body="@agent please call <b>her</b>", actor=admin)
        teamwork.conversation_status(conversation, status="resolved", actor=admin)
    receive(alpha.tenant, number, inbound(ASHA, "wamid.again", text={"body": "Still there?"}))

    html = _page(login_client(alpha.agent), conversation)
    text = text_of(html)

    assert "Ben Admin assigned this to" in text
    assert "Ben Admin resolved this" in text
    assert "Reopened: the customer wrote again" in text
    assert "Only your team sees this" in text
    assert '<span class="mention">@agent</span> please call &lt;b&gt;her&lt;/b&gt;' in html


def test_opening_marks_read_and_older_messages_load_with_before(alpha, login_client, number):
    start = timezone.now() - timedelta(hours=3)
    receive(
        alpha.tenant,
        number,
        *[
            inbound(ASHA, f"wamid.m{n}", at=start + timedelta(minutes=n), text={"body": f"Message {n}"})
            for n in range(40)
        ],
    )
    conversation = conversation_of(alpha.tenant, number)
    client = login_client(alpha.agent)

    html = _page(client, conversation)

    with tenant_context(alpha.tenant):
        assert Conversation.objects.get(pk=conversation.pk).unread_count == 0
    assert "Message 39" in html and "Message 10" in html and "Message 9<" not in html
    before = re.search(r'hx-get="/inbox/\d+/timeline/\?before=([^"]+)"', html).group(1)
    older = client.get(f"/inbox/{conversation.pk}/timeline/?before={before}", HTTP_HX_REQUEST="true").content.decode()
    assert "Message 9<" in older and "Message 0<" in older and "Message 10<" not in older
    assert "Load earlier" not in older
    # Without JavaScript: the page itself with ?before=, and a way back to the latest.
    page = client.get(f"/inbox/{conversation.pk}/?before={before}").content.decode()
    assert "Message 0<" in page and "Jump to the latest messages" in page
    assert client.get(f"/inbox/{conversation.pk}/?before=yesterday").status_code == 400


def test_viewers_read_without_a_composer(alpha, login_client, number):
    receive(alpha.tenant, number, inbound(ASHA, "wamid.in"))
    html = _page(login_client(alpha.viewer), conversation_of(alpha.tenant, number))
    assert 'id="composer"' not in html and "your role does not let you reply" in html


def test_the_phone_layout_has_one_pane_with_a_back_link(alpha, login_client, number):
    receive(alpha.tenant, number, inbound(ASHA, "wamid.in"))
    html = _page(login_client(alpha.agent), conversation_of(alpha.tenant, number))
    assert 'class="inbox inbox-has-conversation"' in html
    assert 'class="conversation-back" href="/inbox/"' in html
