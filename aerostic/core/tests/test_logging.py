"""Logs: JSON lines with request/tenant/user ids; phone numbers masked; message bodies dropped."""

import json
import logging

import pytest

from aerostic.core.logging import JsonFormatter, PiiFilter, RequestContextFilter, mask_phones
from aerostic.core.tenant_context import tenant_context


def _format(record: logging.LogRecord) -> dict:
    RequestContextFilter().filter(record)
    PiiFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


def _record(msg: str, *args, **extra) -> logging.LogRecord:
    record = logging.LogRecord("aerostic.test", logging.INFO, __file__, 1, msg, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("+919812345621", "+91 98••••21"),
        ("call 14155552671 now", "call 14 15••••71 now"),
        ("+55 11 98765-4321", "+55 11••••21"),
    ],
    ids=["india-e164", "us-bare", "brazil-formatted"],
)
def test_phone_numbers_are_masked(text, masked):
    assert mask_phones(text) == masked


def test_masking_leaves_ids_and_short_numbers_alone():
    assert mask_phones("order 1234 for tenant 42") == "order 1234 for tenant 42"
    job = "job c0f43ab2-2207-4890-b99b-7d3699f59292 done"
    assert mask_phones(job) == job  # a UUID's digit groups are not a phone number


def test_formatted_arguments_are_masked_too():
    entry = _format(_record("sent to %s", "+919812345621"))
    assert "9812345621" not in json.dumps(entry)
    assert entry["msg"] == "sent to +91 98••••21"


def test_message_bodies_passed_as_extras_are_dropped():
    entry = _format(_record("inbound", body="my card number is 4111", text="hello"))
    assert entry["body"] == "[dropped]" and entry["text"] == "[dropped]"
    assert "4111" not in json.dumps(entry)


def test_nested_extras_are_scrubbed():
    entry = _format(_record("webhook", payload_meta={"from": "+919812345621", "body": "hi"}))
    assert entry["payload_meta"] == {"from": "+91 98••••21", "body": "[dropped]"}


def test_tenant_id_comes_from_the_context():
    with tenant_context(7):
        entry = _format(_record("hello"))
    assert entry["tenant_id"] == 7


def test_every_response_carries_a_request_id(client, db):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="abc12345-trace")
    assert response["X-Request-ID"] == "abc12345-trace"
    assert len(client.get("/healthz", HTTP_X_REQUEST_ID="bad id!")["X-Request-ID"]) == 32


def test_access_tokens_are_redacted_anywhere_in_a_line():
    line = mask_phones(
        "GET /debug_token?input_token=EAAsimABCDEF1234567890xyz&x=1 with EAAGm0PX4ZCpsBAabcdefghijklmnop"
    )
    assert "EAAsim" not in line and "EAAGm0" not in line
    assert "input_token=[redacted]" in line and "[redacted-token]" in line
