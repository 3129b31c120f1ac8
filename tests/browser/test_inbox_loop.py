"""The team inbox's whole loop in real browsers, against `make run`'s stack (simulator, web, the
three workers, the scheduler): a customer writes with a photo; the conversation appears without a
reload for the admin, who assigns it to the agent, on whose open page it appears in turn; the agent
sees the photo, replies with text and a file (the customer's phone — the simulator — receives both)
and watches the ticks move; a note mentions the admin; the conversation is resolved and the
customer's next message reopens it; outside the 24-hour window only a template can be sent."""

from __future__ import annotations

import base64
import struct
import time
import zlib

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.stack import start_stack, stop_stack

pytestmark = [pytest.mark.browser]

CUSTOMER = "919812340077"


def _png(width: int = 4, height: int = 3) -> bytes:
    """A small valid PNG (browsers decode it: the preview must have a size)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\x20\x90\x60" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def stack():
    running, process, database = start_stack()
    try:
        yield running
    finally:
        stop_stack(process, database)


def _sign_in(page, stack, email: str) -> None:
    page.goto(f"{stack.url}/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", stack.password)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_be_visible()


def _customer_writes(stack, **message) -> None:
    phone_number_id = stack.sql("SELECT phone_number_id FROM whatsapp_phonenumber ORDER BY id LIMIT 1")[0][0]
    answer = requests.post(
        f"{stack.simulator_url}/_sim/inbound",
        json={"phone_number_id": phone_number_id, "from": CUSTOMER, "name": "Nadia Customer", **message},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def _received(stack) -> list[dict]:
    """What the customer's phone received (the simulator's record of the business's messages)."""
    answer = requests.get(f"{stack.simulator_url}/_sim/messages", timeout=10).json()
    messages = answer["messages"] if isinstance(answer, dict) else answer
    return [message for message in messages if str(message.get("to", "")).endswith(CUSTOMER)]


def _wait_for(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError("not reached in time")


def test_the_whole_inbox_loop(browser, stack, tmp_path):
    admin_context, agent_context = browser.new_context(), browser.new_context()
    admin, agent = admin_context.new_page(), agent_context.new_page()
    for page in (admin, agent):
        page.set_default_timeout(20_000)
    try:
        _sign_in(admin, stack, stack.admin_email)
        _sign_in(agent, stack, stack.agent_email)
        admin.goto(f"{stack.url}/inbox/?view=all")
        agent.goto(f"{stack.url}/inbox/?view=mine")
        for page in (admin, agent):
            page.evaluate("window.notReloaded = true")

        # A customer writes with a photo: the admin's list shows it without a reload.
        photo = _png()
        _customer_writes(
            stack,
            type="image",
            content={"bytes_b64": base64.b64encode(photo).decode(), "mime_type": "image/png", "caption": "Broken lid"},
        )
        row = admin.locator("[data-conversation-row]", has_text="Nadia Customer")
        expect(row).to_be_visible()
        assert admin.evaluate("window.notReloaded") is True

        # The admin assigns it to the agent; the agent's "mine" list shows it without a reload.
        row.click()
        admin.get_by_label("Assign to").select_option(label="Demo Agent")
        admin.get_by_role("button", name="Assign", exact=True).click()
        expect(admin.locator(".timeline")).to_contain_text("Demo Agent")
        agent_row = agent.locator("[data-conversation-row]", has_text="Nadia Customer")
        expect(agent_row).to_be_visible()
        assert agent.evaluate("window.notReloaded") is True

        # The agent opens it: the photo is fetched from Meta (the simulator) and shown.
        agent_row.click()
        image = agent.locator(".bubble-media img").first
        expect(image).to_be_visible()
        _wait_for(lambda: agent.evaluate("(img) => img.complete && img.naturalWidth > 0", image.element_handle()))
        expect(agent.locator(".timeline")).to_contain_text("Broken lid")

        # Text and a file; the customer's phone receives both; the ticks move to read.
        agent.fill("#composer-text", "Sorry about that! A new lid is on its way.")
        agent.get_by_role("button", name="Send", exact=True).click()
        expect(agent.locator(".timeline")).to_contain_text("A new lid is on its way")
        upload = tmp_path / "label.png"
        upload.write_bytes(_png(8, 8))
        agent.set_input_files("#composer-file", str(upload))
        agent.fill("#composer-caption", "Your return label")
        agent.get_by_role("button", name="📎 Send file").click()
        received = _wait_for(lambda: (lambda got: got if len(got) >= 2 else None)(_received(stack)))
        assert {message.get("type") for message in received} >= {"text", "image"}
        expect(agent.locator(".ticks-read").first).to_be_visible(timeout=30_000)

        # A note mentions the admin (only the team sees it).
        agent.get_by_role("tab", name="Private note").click()
        agent.fill("#composer-note", "@admin the customer may want a refund too")
        agent.get_by_role("button", name="Add note").click()
        expect(agent.locator(".timeline")).to_contain_text("may want a refund too")
        mentions = stack.sql("SELECT count(*) FROM inbox_mention WHERE seen_at IS NULL")
        assert mentions == [(1,)]

        # Resolved; the customer's next message reopens it.
        agent.get_by_role("button", name="Resolve").click()
        expect(agent.locator(".timeline")).to_contain_text("resolved")
        _customer_writes(stack, content={"body": "One more question"})
        expect(agent.locator(".timeline")).to_contain_text("One more question")
        assert stack.sql("SELECT status FROM inbox_conversation") == [("open",)]

        # Outside the 24-hour window only a template can be sent.
        stack.sql("UPDATE inbox_conversation SET window_expires_at = now() - interval '1 minute'")
        agent.reload()
        expect(agent.locator("#composer-text")).to_be_hidden()
        expect(agent.get_by_text("The customer's 24-hour window is closed")).to_be_visible()
        expect(agent.get_by_label("Approved template")).to_be_visible()
    finally:
        admin_context.close()
        agent_context.close()
