"""A customer's media in the inbox, against the simulator over HTTP: fetched from Meta the first
time someone opens it (checked against Meta's sha256 and size limit, kept once), then served from
storage; who may open it; and its file deleted with the message's content (retention, GDPR)."""

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aerostic.core.tenant_context import tenant_context
from compliance.privacy import contact_erase, tenant_erase
from inbox import media as media_services
from inbox.models import Conversation, MediaFile
from inbox.personal_data import messages_expire
from inbox.tests.media_support import (
    KB,
    PDF,
    PNG,
    customer_sends,
    graph_calls,
    media_url,
    stored_files,
    temporary_media_root,
    webp,
)
from whatsapp.simulator import Faults

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


@pytest.fixture
def media_root(settings, tmp_path):
    return temporary_media_root(settings, tmp_path)


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def _expire_all(alpha, django_capture_on_commit_callbacks) -> int:
    with tenant_context(alpha.tenant), django_capture_on_commit_callbacks(execute=True):
        return messages_expire(tenant_id=alpha.tenant.pk, before=timezone.now() + timedelta(minutes=1))


def test_a_customers_image_is_fetched_from_meta_once_and_served_with_its_bytes(
    alpha, phone, simulator, login_client, media_root
):
    message = customer_sends(simulator, phone, caption="Our menu")
    media_id = message.payload["image"]["id"]
    client = login_client(alpha.admin)

    first = client.get(media_url(message))
    assert first.status_code == 200 and _body(first) == PNG
    assert first["Content-Type"] == "image/png"
    assert first["Content-Disposition"].startswith("inline")
    assert first["X-Content-Type-Options"] == "nosniff"
    assert first["Cache-Control"].startswith("private")
    second = client.get(media_url(message))
    assert second.status_code == 200 and _body(second) == PNG

    assert graph_calls(simulator, media_id) == {"get_media": 1, "download": 1, "upload": 0}
    with tenant_context(alpha.tenant):
        kept = MediaFile.objects.get()
    assert (kept.media_id, kept.mime_type, kept.size) == (media_id, "image/png", len(PNG))
    assert kept.sha256 == hashlib.sha256(PNG).hexdigest()
    assert [path.read_bytes() for path in stored_files(media_root)] == [PNG]


def test_a_document_is_offered_as_a_download_under_the_customers_file_name_but_stored_under_a_random_one(
    alpha, phone, simulator, login_client, media_root
):
    message = customer_sends(
        simulator, phone, kind="document", data=PDF, mime_type="application/pdf", filename="../../etc/Invoice 7.pdf"
    )
    response = login_client(alpha.agent).get(media_url(message))
    assert response.status_code == 200 and _body(response) == PDF
    assert response["Content-Disposition"] == 'attachment; filename="Invoice 7.pdf"'
    [stored] = stored_files(media_root)
    assert "Invoice" not in stored.name and stored.suffix == ".pdf"


def test_a_file_whose_sha256_does_not_match_metas_is_refused_and_nothing_is_kept(
    alpha, phone, simulator, login_client, media_root
):
    message = customer_sends(simulator, phone, sha256="q1MKE+RZFJgrefm34/uplM/R8/si9xzqGvvwK0YMbR0=")
    response = login_client(alpha.admin).get(media_url(message))
    assert response.status_code == 502
    assert "does not match its checksum" in response.content.decode()
    with tenant_context(alpha.tenant):
        assert not MediaFile.objects.exists()
    assert stored_files(media_root) == []


def test_a_file_over_metas_limit_for_its_type_is_refused_without_downloading_it(
    alpha, phone, simulator, login_client, media_root
):
    message = customer_sends(
        simulator, phone, kind="sticker", data=webp(600 * KB, animated=True), mime_type="image/webp"
    )
    response = login_client(alpha.admin).get(media_url(message))
    assert response.status_code == 502
    assert "larger than WhatsApp allows for sticker messages (500 KB)" in response.content.decode()
    assert graph_calls(simulator, message.payload["sticker"]["id"])["download"] == 0
    assert stored_files(media_root) == []


def test_metas_failure_is_a_502_page_and_keeps_nothing(alpha, phone, simulator, login_client, settings, media_root):
    settings.GRAPH_MAX_ATTEMPTS = 1
    message = customer_sends(simulator, phone)
    simulator.state.faults = Faults(server_error_rate=1.0)
    response = login_client(alpha.admin).get(media_url(message))
    assert response.status_code == 502
    assert "Meta did not hand over this file" in response.content.decode()
    assert stored_files(media_root) == []


def test_another_workspaces_message_is_not_found(alpha, bravo, phone, simulator, login_client):
    message = customer_sends(simulator, phone)
    assert login_client(bravo.admin).get(media_url(message)).status_code == 404
    assert graph_calls(simulator, message.payload["image"]["id"])["get_media"] == 0


def test_an_agent_who_cannot_see_the_conversation_gets_404_and_one_who_can_gets_the_file(
    alpha, phone, simulator, login_client
):
    message = customer_sends(simulator, phone)
    with tenant_context(alpha.tenant):
        Conversation.objects.filter(pk=message.conversation_id).update(assignee=alpha.admin.user)
    assert login_client(alpha.agent).get(media_url(message)).status_code == 404
    with tenant_context(alpha.tenant):
        Conversation.objects.filter(pk=message.conversation_id).update(assignee=alpha.agent.user)
    assert login_client(alpha.agent).get(media_url(message)).status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in(phone, simulator):
    message = customer_sends(simulator, phone)
    response = Client().get(media_url(message))
    assert response.status_code == 302 and "/accounts/" in response["Location"]


def test_a_message_without_media_is_not_found(alpha, phone, simulator, login_client):
    message = customer_sends(simulator, phone)
    with tenant_context(alpha.tenant):
        type(message).objects.filter(pk=message.pk).update(
            type="text", payload={"type": "text", "text": {"body": "Hi"}}
        )
    assert login_client(alpha.admin).get(media_url(message)).status_code == 404


def test_no_public_media_route_serves_stored_files(alpha, phone, simulator, login_client, media_root):
    message = customer_sends(simulator, phone)
    login_client(alpha.admin).get(media_url(message))
    [stored] = stored_files(media_root)
    public = "/media/" + stored.relative_to(media_root).as_posix()
    assert login_client(alpha.admin).get(public).status_code == 404


def test_retention_deletes_the_kept_file_and_the_media_is_then_no_longer_available(
    alpha, phone, simulator, login_client, media_root, django_capture_on_commit_callbacks
):
    message = customer_sends(simulator, phone)
    client = login_client(alpha.admin)
    assert client.get(media_url(message)).status_code == 200
    assert _expire_all(alpha, django_capture_on_commit_callbacks) == 1
    with tenant_context(alpha.tenant):
        assert not MediaFile.objects.exists()
    assert stored_files(media_root) == []
    gone = client.get(media_url(message))
    assert gone.status_code == 410 and "no longer available" in gone.content.decode()


def test_retention_deletes_files_in_a_constant_number_of_statements(
    alpha, phone, simulator, login_client, django_capture_on_commit_callbacks
):
    def expire_after_viewing(count: int) -> int:
        for _ in range(count):
            assert login_client(alpha.admin).get(media_url(customer_sends(simulator, phone))).status_code == 200
        with CaptureQueriesContext(connection) as statements:
            _expire_all(alpha, django_capture_on_commit_callbacks)
        return len(statements)

    assert expire_after_viewing(1) == expire_after_viewing(3)


def test_erasing_the_customer_deletes_their_kept_files(
    alpha, phone, simulator, login_client, media_root, django_capture_on_commit_callbacks
):
    message = customer_sends(simulator, phone)
    assert login_client(alpha.admin).get(media_url(message)).status_code == 200
    with tenant_context(alpha.tenant), django_capture_on_commit_callbacks(execute=True):
        contact = Conversation.objects.get(pk=message.conversation_id).contact
        contact_erase(contact=contact, actor=alpha.admin.user)
    with tenant_context(alpha.tenant):
        assert not MediaFile.objects.exists()
    assert stored_files(media_root) == []
    assert login_client(alpha.admin).get(media_url(message)).status_code == 410


def test_erasing_the_workspace_deletes_its_kept_files(
    alpha, phone, simulator, login_client, media_root, django_capture_on_commit_callbacks
):
    assert login_client(alpha.admin).get(media_url(customer_sends(simulator, phone))).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        tenant_erase(tenant_id=alpha.tenant.pk, force=True)
    assert stored_files(media_root) == []


def test_a_second_fetch_of_the_same_media_ends_with_one_row_and_one_file(alpha, phone, simulator, media_root):
    message = customer_sends(simulator, phone)
    with tenant_context(alpha.tenant):
        first = media_services.media_for_message(message)
        # A concurrent fetch that got past the lookup before the first row existed:
        second = media_services._keep(
            media_id=first.media_id, data=PNG, mime_type="image/png", sha256=first.sha256, filename=""
        )
        assert second.pk == first.pk and MediaFile.objects.count() == 1
    assert len(stored_files(media_root)) == 1
