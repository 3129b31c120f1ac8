"""Media through the Graph client and the simulator over real HTTP: uploads kept with their bytes,
Meta's short-lived URL and its authenticated download, the size cap, the hosts a download may
reach, a customer's file injected with /_sim/inbound, and what the customer received."""

import base64
import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from whatsapp.graph import GraphPermanentError, MediaHostRefused, MediaTooLarge
from whatsapp.graph.media import media_url_allowed

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def _phone(simulator) -> str:
    return simulator.state.sandbox["phone_number_id"]


def _requests(simulator, method: str, fragment: str) -> list[dict]:
    return [r for r in simulator.state.requests if r["method"] == method and fragment in r["path"]]


def test_an_upload_is_kept_and_downloads_with_its_bytes_and_sha256(simulator, graph_client):
    client = graph_client()
    media_id = client.upload_media(_phone(simulator), filename="menu.png", content=PNG, mime_type="image/png")
    answer = client.get_media(media_id)
    assert answer["url"].startswith(f"{simulator.url}/_sim/media/{media_id}/download?expires=")
    assert (answer["mime_type"], answer["file_size"]) == ("image/png", len(PNG))
    assert answer["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert client.download_media(answer["url"]) == PNG


def test_the_request_log_keeps_the_uploads_name_type_size_and_hash_but_not_its_bytes(simulator, graph_client):
    graph_client().upload_media(_phone(simulator), filename="menu.png", content=PNG, mime_type="image/png")
    [upload] = _requests(simulator, "POST", "/media")
    assert upload["json"]["type"] == "image/png" and upload["json"]["messaging_product"] == "whatsapp"
    assert upload["json"]["file"] == {
        "filename": "menu.png",
        "mime_type": "image/png",
        "size": len(PNG),
        "sha256": hashlib.sha256(PNG).hexdigest(),
    }
    assert "PNG" not in str(simulator.state.requests)


def test_an_unsupported_type_is_refused_by_meta(simulator, graph_client):
    with pytest.raises(GraphPermanentError) as refused:
        graph_client().upload_media(_phone(simulator), filename="a.gif", content=b"GIF89a", mime_type="image/gif")
    assert refused.value.code == 131053


def test_the_download_needs_a_token_of_the_media_waba(simulator, graph_client):
    client = graph_client()
    url = client.get_media(
        client.upload_media(_phone(simulator), filename="a.png", content=PNG, mime_type="image/png")
    )["url"]
    assert requests.get(url, timeout=5).status_code == 401
    stranger = requests.post(f"{simulator.url}/_sim/businesses", json={"name": "Other"}, timeout=5).json()["token"]
    assert requests.get(url, headers={"Authorization": f"Bearer {stranger}"}, timeout=5).status_code == 403
    with pytest.raises(GraphPermanentError):  # nor may it read the media's URL
        graph_client(token=stranger).get_media(url.split("/")[-2])


def test_an_expired_url_is_a_permanent_error(simulator, graph_client):
    client = graph_client()
    media_id = client.upload_media(_phone(simulator), filename="a.png", content=PNG, mime_type="image/png")
    with pytest.raises(GraphPermanentError) as expired:
        client.download_media(f"{simulator.url}/_sim/media/{media_id}/download?expires=1")
    assert expired.value.http_status == 404


def test_a_download_past_the_cap_is_refused(simulator, graph_client):
    client = graph_client()
    media_id = client.upload_media(_phone(simulator), filename="a.png", content=PNG, mime_type="image/png")
    with pytest.raises(MediaTooLarge):
        client.download_media(client.get_media(media_id)["url"], max_bytes=len(PNG) - 1)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:5432/",
        "https://lookaside.fbsbx.com.attacker.example/x",
        "https://evilfbsbx.com/x",
        "ftp://lookaside.fbsbx.com/x",
        "https://user:pass@lookaside.fbsbx.com/x",
        "https://lookaside.fbsbx.com:8443/x",
        "/relative/path",
    ],
    ids=["metadata", "internal-port", "suffix-trick", "lookalike", "ftp", "credentials", "other-port", "relative"],
)
def test_a_download_from_a_host_that_is_not_metas_is_refused_before_any_request(simulator, graph_client, url):
    with pytest.raises(MediaHostRefused):
        graph_client().download_media(url)


def test_in_production_only_metas_media_hosts_over_https_are_fetched(simulator, settings):
    settings.IS_DEPLOYED, settings.SANDBOX_ENABLED = True, False
    assert media_url_allowed("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1&ext=2&hash=3")
    assert media_url_allowed("https://scontent.xx.fbcdn.net/v/t1/abc.jpg")
    assert not media_url_allowed("http://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1")
    assert not media_url_allowed(f"{simulator.url}/_sim/media/1/download")  # the Graph base is no media host
    settings.SANDBOX_ENABLED = True  # the configured sandbox is
    assert media_url_allowed(f"{simulator.url}/_sim/media/1/download")


def test_in_production_the_client_refuses_a_non_meta_host(simulator, graph_client, settings):
    client = graph_client()
    media_id = client.upload_media(_phone(simulator), filename="a.png", content=PNG, mime_type="image/png")
    url = client.get_media(media_id)["url"]
    settings.IS_DEPLOYED, settings.SANDBOX_ENABLED = True, False
    before = len(simulator.state.requests)
    with pytest.raises(MediaHostRefused):
        client.download_media(url)
    assert len(simulator.state.requests) == before


class _Redirect(BaseHTTPRequestHandler):
    location = ""
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        type(self).hits.append(self.path)
        self.send_response(302)
        self.send_header("Location", type(self).location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_redirect_to_a_host_that_is_not_metas_is_not_followed(simulator, graph_client, settings):
    target = ThreadingHTTPServer(("127.0.0.1", 0), type("Target", (_Redirect,), {"hits": []}))
    redirector = ThreadingHTTPServer(("127.0.0.1", 0), type("Redirector", (_Redirect,), {"hits": []}))
    redirector.RequestHandlerClass.location = f"http://localhost:{target.server_address[1]}/secret"
    for server in (target, redirector):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.META_SANDBOX_URL = f"http://127.0.0.1:{redirector.server_address[1]}"
    try:
        with pytest.raises(MediaHostRefused):
            graph_client().download_media(f"{settings.META_SANDBOX_URL}/media")
        assert redirector.RequestHandlerClass.hits == ["/media"]
        assert target.RequestHandlerClass.hits == []
    finally:
        for server in (target, redirector):
            server.shutdown()
            server.server_close()


def test_a_customers_file_sent_with_sim_inbound_is_kept_and_named_in_the_webhook(simulator, graph_client):
    payload = requests.post(
        f"{simulator.url}/_sim/inbound",
        json={"content": {"image": {"bytes_b64": base64.b64encode(PNG).decode(), "mime_type": "image/png"}}},
        timeout=5,
    ).json()
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    assert message["type"] == "image"
    image = message["image"]
    assert image["mime_type"] == "image/png"
    assert image["sha256"] == base64.b64encode(hashlib.sha256(PNG).digest()).decode()  # base64, as Meta's webhooks
    client = graph_client()
    assert client.download_media(client.get_media(image["id"])["url"]) == PNG
    assert simulator.webhooks.delivered[-1] == payload


def test_sim_inbound_refuses_bytes_that_are_not_base64(simulator):
    answer = requests.post(
        f"{simulator.url}/_sim/inbound", json={"type": "document", "content": {"bytes_b64": "%%%"}}, timeout=5
    )
    assert answer.status_code == 400 and "base64" in answer.json()["error"]


def test_the_customer_receives_a_media_message_with_its_media_id(simulator, graph_client):
    client = graph_client()
    media_id = client.upload_media(_phone(simulator), filename="a.png", content=PNG, mime_type="image/png")
    client.send_message(
        _phone(simulator), {"to": "14155552671", "type": "image", "image": {"id": media_id, "caption": "Menu"}}
    )
    received = requests.get(f"{simulator.url}/_sim/messages", timeout=5).json()["messages"]
    assert received[-1]["type"] == "image"
    assert received[-1]["media"] == {
        "id": media_id,
        "caption": "Menu",
        "mime_type": "image/png",
        "sha256": hashlib.sha256(PNG).hexdigest(),
    }
