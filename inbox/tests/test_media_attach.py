"""An agent's attachment, against the simulator over HTTP: checked (type by its first bytes and
its declared type, Meta's size limit, caption, window) before anything reaches Meta, uploaded,
queued as a reply, received by the customer with its media id, and shown in the timeline from
storage. The portal route and its API twin, each with who may use them."""

import hashlib
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from aerostic.core.tenant_context import tenant_context
from inbox import media_types, uploads
from inbox.models import Conversation, MediaFile, Message
from inbox.tests.media_support import (
    JPEG,
    KB,
    MB,
    OGG,
    PDF,
    PNG,
    customer_sends,
    media_url,
    stored_files,
    temporary_media_root,
    webp,
)
from inbox.tests.media_support import (
    uploads as simulator_uploads,
)
from whatsapp.jobs import send_outbound
from whatsapp.models import OutboundMessage

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


@pytest.fixture
def media_root(settings, tmp_path):
    return temporary_media_root(settings, tmp_path)


@pytest.fixture
def conversation(alpha, phone, simulator) -> Conversation:
    """A customer who just wrote (their window is open)."""
    return customer_sends(simulator, phone).conversation


def _attach(client, conversation, upload=None, *, caption: str = "", htmx: bool = True):
    data = {"caption": caption}
    if upload is not None:
        data["file"] = upload
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(reverse("inbox:attach", args=[conversation.pk]), data, **headers)


def _nothing_sent(alpha, simulator) -> bool:
    with tenant_context(alpha.tenant):
        stored = MediaFile.objects.exists() or OutboundMessage.objects.exists()
    return not stored and not simulator_uploads(simulator)


def test_an_agents_image_reaches_the_customer_and_shows_in_the_timeline_from_storage(
    alpha, simulator, conversation, login_client
):
    client = login_client(alpha.agent)
    response = _attach(client, conversation, SimpleUploadedFile("menu.png", PNG, "image/png"), caption="Our menu")
    assert response.status_code == 200 and "menu.png is on its way" in response.content.decode()
    assert response["HX-Trigger"] == "inbox:reply-queued"

    [upload] = simulator_uploads(simulator)
    assert upload["json"]["file"]["sha256"] == hashlib.sha256(PNG).hexdigest()
    with tenant_context(alpha.tenant):
        kept = MediaFile.objects.get()
        queued = OutboundMessage.objects.get()
    assert queued.content == {"type": "image", "image": {"id": kept.media_id, "caption": "Our menu"}}
    assert (kept.mime_type, kept.size, kept.sha256) == ("image/png", len(PNG), hashlib.sha256(PNG).hexdigest())

    send_outbound(tenant_id=alpha.tenant.pk, message_id=queued.pk)
    received = simulator.state.messages[-1]
    assert received["type"] == "image"
    assert received["media"] == {
        "id": kept.media_id,
        "caption": "Our menu",
        "mime_type": "image/png",
        "sha256": kept.sha256,
    }
    with tenant_context(alpha.tenant):
        sent = Message.objects.get(direction=Message.Direction.OUTBOUND)
    before = len(simulator.state.requests)
    shown = client.get(media_url(sent))
    assert shown.status_code == 200 and b"".join(shown.streaming_content) == PNG
    assert len(simulator.state.requests) == before  # served from storage: no call to Meta


def test_a_document_keeps_its_name_for_the_customer(alpha, simulator, conversation, login_client):
    upload = SimpleUploadedFile("Price list.pdf", PDF, "application/pdf")
    assert _attach(login_client(alpha.agent), conversation, upload).status_code == 200
    with tenant_context(alpha.tenant):
        content = OutboundMessage.objects.get().content
    assert content["type"] == "document" and content["document"]["filename"] == "Price list.pdf"


@pytest.mark.parametrize(
    ("upload", "caption", "problem"),
    [
        (("anim.gif", b"GIF89a" + b"\x00" * 50, "image/gif"), "", "WhatsApp does not take image/gif: send JPEG or PNG"),
        (("photo.png", JPEG, "image/png"), "", "says it is image/png but its content is a JPEG image"),
        (("notes.txt", PNG, "text/plain"), "", "says it is text/plain but its content is a PNG image"),
        (("big.png", PNG + b"\x00" * (int(7.2 * MB) - len(PNG)), "image/png"), "", None),
        (("s.webp", webp(150 * KB), "image/webp"), "", "Static stickers may be at most 100 KB (this one is 150 KB)."),
        (("a.webp", webp(600 * KB, animated=True), "image/webp"), "", "Stickers may be at most 500 KB"),
        (("empty.pdf", b"", "application/pdf"), "", "The file is empty."),
        (("voice.ogg", OGG, "audio/ogg"), "Listen", "WhatsApp shows no caption under audio messages"),
        (("menu.png", PNG, "image/png"), "x" * 1025, "A caption holds at most 1024 characters."),
    ],
    ids=[
        "gif",
        "jpeg-as-png",
        "png-as-text",
        "image-7mb",
        "static-sticker",
        "animated-sticker",
        "empty",
        "audio-caption",
        "long-caption",
    ],
)
def test_a_file_whatsapp_would_refuse_is_refused_before_it_reaches_meta(
    alpha, simulator, conversation, login_client, upload, caption, problem
):
    response = _attach(login_client(alpha.agent), conversation, SimpleUploadedFile(*upload), caption=caption)
    assert response.status_code == 400
    expected = problem or "Images may be at most 5 MB (this one is 7.2 MB)."
    assert expected in response.content.decode()
    assert _nothing_sent(alpha, simulator)


def test_an_untyped_upload_is_known_by_its_first_bytes(alpha, simulator, conversation, login_client):
    upload = SimpleUploadedFile("scan", PDF, "application/octet-stream")
    assert _attach(login_client(alpha.agent), conversation, upload).status_code == 200
    with tenant_context(alpha.tenant):
        assert MediaFile.objects.get().mime_type == "application/pdf"


def test_without_a_file_the_agent_is_asked_for_one(alpha, simulator, conversation, login_client):
    response = _attach(login_client(alpha.agent), conversation)
    assert response.status_code == 400 and "Choose a file to send." in response.content.decode()


def test_a_closed_window_refuses_the_attachment_before_the_upload(alpha, simulator, conversation, login_client):
    with tenant_context(alpha.tenant):
        Conversation.objects.filter(pk=conversation.pk).update(window_expires_at=timezone.now() - timedelta(hours=1))
    response = _attach(login_client(alpha.agent), conversation, SimpleUploadedFile("a.png", PNG, "image/png"))
    assert response.status_code == 400 and "24-hour window is closed" in response.content.decode()
    assert _nothing_sent(alpha, simulator)


def test_a_reply_refused_after_the_upload_keeps_no_file(alpha, simulator, conversation, login_client, media_root):
    with tenant_context(alpha.tenant):  # a customer behind a username: WhatsApp lets us answer only by template
        Conversation.objects.filter(pk=conversation.pk).update(customer_wa_id="")
    response = _attach(login_client(alpha.agent), conversation, SimpleUploadedFile("a.png", PNG, "image/png"))
    assert response.status_code == 400 and "hides their number" in response.content.decode()
    assert len(simulator_uploads(simulator)) == 1
    with tenant_context(alpha.tenant):
        assert not MediaFile.objects.exists() and not OutboundMessage.objects.exists()
    assert stored_files(media_root) == []


def test_a_file_past_the_upload_cap_is_refused_by_its_size_and_its_bytes_are_not_kept(
    alpha, simulator, conversation, login_client, monkeypatch
):
    monkeypatch.setattr(uploads, "MEDIA_MAX_BYTES", 4 * KB)
    monkeypatch.setattr(media_types, "MEDIA_MAX_BYTES", 4 * KB)
    upload = SimpleUploadedFile("big.pdf", PDF + b"0" * (10 * KB), "application/pdf")
    response = _attach(login_client(alpha.agent), conversation, upload)
    assert response.status_code == 400 and "Files may be at most 4 KB (this one is 11 KB)." in response.content.decode()
    assert _nothing_sent(alpha, simulator)


def test_without_htmx_a_refusal_redirects_with_the_message(alpha, simulator, conversation, login_client):
    response = _attach(
        login_client(alpha.agent), conversation, SimpleUploadedFile("a.gif", b"GIF89a", "image/gif"), htmx=False
    )
    assert response.status_code == 302
    assert any("WhatsApp does not take image/gif" in str(m) for m in get_messages(response.wsgi_request))


def test_the_attachment_needs_the_csrf_token(alpha, simulator, conversation):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alpha.agent.user, backend="django.contrib.auth.backends.ModelBackend")
    response = _attach(client, conversation, SimpleUploadedFile("a.png", PNG, "image/png"))
    assert response.status_code == 403
    assert _nothing_sent(alpha, simulator)


def test_a_viewer_may_not_attach(alpha, simulator, conversation, login_client):
    response = _attach(login_client(alpha.viewer), conversation, SimpleUploadedFile("a.png", PNG, "image/png"))
    assert response.status_code == 403
    assert _nothing_sent(alpha, simulator)


def test_another_workspaces_conversation_is_not_found(alpha, bravo, simulator, conversation, login_client):
    response = _attach(login_client(bravo.admin), conversation, SimpleUploadedFile("a.png", PNG, "image/png"))
    assert response.status_code == 404
    assert _nothing_sent(alpha, simulator)


def test_an_agent_who_cannot_see_the_conversation_may_not_attach_to_it(alpha, simulator, conversation, login_client):
    with tenant_context(alpha.tenant):
        Conversation.objects.filter(pk=conversation.pk).update(assignee=alpha.admin.user)
    response = _attach(login_client(alpha.agent), conversation, SimpleUploadedFile("a.png", PNG, "image/png"))
    assert response.status_code == 404
    assert _nothing_sent(alpha, simulator)


def _api_post(api, conversation, data):
    return api.post(reverse("api:conversation-attachments", args=[conversation.pk]), data, format="multipart")


def test_the_api_queues_an_attachment_and_answers_202(alpha, simulator, conversation, api_client_for):
    api = api_client_for(alpha.agent)
    upload = SimpleUploadedFile("menu.png", PNG, "image/png")
    response = _api_post(api, conversation, {"file": upload, "caption": "Menu"})
    assert response.status_code == 202, response.content
    assert response.json()["state"] == "queued" and response["Location"] == response.json()["status_url"]
    with tenant_context(alpha.tenant):
        assert OutboundMessage.objects.get().content["image"]["id"] == MediaFile.objects.get().media_id


def test_the_api_says_why_a_file_is_refused(alpha, simulator, conversation, api_client_for):
    upload = SimpleUploadedFile("big.png", PNG + b"\x00" * (6 * MB), "image/png")
    response = _api_post(api_client_for(alpha.agent), conversation, {"file": upload})
    assert response.status_code == 400
    assert response.json()["detail"] == "Images may be at most 5 MB (this one is 6.1 MB)."
    assert _nothing_sent(alpha, simulator)


@pytest.mark.parametrize(("who", "status"), [("viewer", 403), ("other-workspace", 404)])
def test_the_api_refuses_who_may_not_attach(alpha, bravo, simulator, conversation, api_client_for, who, status):
    member = alpha.viewer if who == "viewer" else bravo.admin
    upload = SimpleUploadedFile("a.png", PNG, "image/png")
    assert _api_post(api_client_for(member), conversation, {"file": upload}).status_code == status
    assert _nothing_sent(alpha, simulator)


def test_the_api_refuses_anonymous_callers(alpha, simulator, conversation):
    from rest_framework.test import APIClient

    upload = SimpleUploadedFile("a.png", PNG, "image/png")
    assert _api_post(APIClient(), conversation, {"file": upload}).status_code == 401
