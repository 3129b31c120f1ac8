"""Error tracking: with SENTRY_DSN set, errors reach Sentry without a customer's number, a token or
a message body in them (a real SDK, sending to a local receiver)."""

import gzip
import json
import os
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from aerostic.core.error_tracking import scrub_breadcrumb, scrub_event

ROOT = Path(__file__).resolve().parents[3]
NUMBER = "+919812345621"
TOKEN = "EAAGm0PX4ZCpsBAKZCZCqZBnumbers0123456789"
BODY = "my order 5521 never arrived, call me"


def _leaks(text: str) -> list[str]:
    return [secret for secret in (NUMBER, "919812345621", TOKEN, BODY, "hunter2-passphrase") if secret in text]


def test_an_event_loses_numbers_tokens_bodies_and_secrets():
    event = {
        "message": f"send to {NUMBER} failed",
        "exception": {"values": [{"type": "GraphError", "value": f"token {TOKEN} refused for {NUMBER}"}]},
        "request": {
            "url": f"https://app.example.com/api/v1/messages?access_token={TOKEN}",
            "headers": {"Authorization": f"Bearer {TOKEN}", "Cookie": "sessionid=abc", "X-Request-Id": "r1"},
            "data": {"to": NUMBER, "text": {"body": BODY}},
        },
        "extra": {"body": BODY, "password": "hunter2-passphrase", "wamid": "wamid.HBgL"},
        "breadcrumbs": {"values": [{"category": "query", "message": "SELECT 1", "data": {"params": [NUMBER, BODY]}}]},
    }
    scrubbed = scrub_event(event)
    text = json.dumps(scrubbed, ensure_ascii=False)
    assert _leaks(text) == []
    assert "+91 98••••21" in text and "[redacted-token]" in text and "access_token=[redacted]" in text
    assert scrubbed["extra"]["wamid"] == "wamid.HBgL" and scrubbed["request"]["headers"]["X-Request-Id"] == "r1"
    assert "data" not in scrubbed["request"]
    crumb = scrub_breadcrumb({"category": "log", "message": f"retry {NUMBER}", "data": {"caption": BODY}})
    assert _leaks(json.dumps(crumb, ensure_ascii=False)) == []


class _Receiver(BaseHTTPRequestHandler):
    received: list[str] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            raw = gzip.decompress(raw)
        elif encoding == "deflate":
            raw = zlib.decompress(raw)
        self.received.append(raw.decode("utf-8", "replace"))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


SCRIPT = f"""
import logging, sentry_sdk
logging.getLogger("aerostic.test").error("send to {NUMBER} failed", extra={{"body": "{BODY}"}})
def send(token="{TOKEN}", body="{BODY}"):  # locals: a frame's variables are never sent
    raise RuntimeError(f"Graph refused {{token}} for {NUMBER}")
try:
    send()
except RuntimeError:
    sentry_sdk.capture_exception()
sentry_sdk.flush(5)
"""


@pytest.mark.django_db
def test_errors_reach_sentry_scrubbed():
    _Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {**os.environ, "SENTRY_DSN": f"http://publickey@127.0.0.1:{server.server_port}/7"}
        result = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "shell"],
            input=SCRIPT,  # on stdin, not in argv (the SDK sends argv)
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr[-2000:]
    finally:
        server.shutdown()
    # Envelopes are JSON lines: read back, so escaped characters compare as themselves.
    sent = "\n".join(
        json.dumps(json.loads(line), ensure_ascii=False)
        for envelope in _Receiver.received
        for line in envelope.splitlines()
        if line.startswith("{")
    )
    assert "RuntimeError" in sent and "send to +91 98••••21 failed" in sent  # both reached the receiver
    assert _leaks(sent) == []
