"""The client IP rule: the N-th X-Forwarded-For entry from the right with N trusted proxies."""

import pytest
from django.test import RequestFactory

from aerostic.core.clientip import client_ip


def _request(forwarded_for: str | None = None, remote_addr: str = "10.0.0.5"):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote_addr, **headers)


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        pytest.param(0, "198.51.100.7", "10.0.0.5", id="no-proxy-ignores-the-header"),
        pytest.param(0, None, "10.0.0.5", id="no-proxy-no-header"),
        pytest.param(1, "198.51.100.7", "198.51.100.7", id="one-proxy"),
        pytest.param(1, "6.6.6.6, 198.51.100.7", "198.51.100.7", id="one-proxy-spoofed-left-part-ignored"),
        pytest.param(2, "6.6.6.6, 198.51.100.7, 172.16.0.2", "198.51.100.7", id="two-proxies"),
        pytest.param(2, "198.51.100.7", "10.0.0.5", id="fewer-entries-than-proxies-uses-the-socket"),
        pytest.param(1, None, "10.0.0.5", id="proxy-but-no-header"),
        pytest.param(1, " 198.51.100.7:4431 ", "198.51.100.7", id="ipv4-port-and-spaces"),
        pytest.param(1, "[2001:db8::1]:443", "2001:db8::1", id="ipv6-with-port"),
        pytest.param(1, "2001:DB8:0::1", "2001:db8::1", id="bare-ipv6-normalised"),
        pytest.param(1, "::ffff:198.51.100.7", "198.51.100.7", id="ipv4-mapped"),
        pytest.param(1, "unknown", "10.0.0.5", id="not-an-address-uses-the-socket"),
        pytest.param(1, "198.51.100.7, ", "10.0.0.5", id="empty-entry-uses-the-socket"),
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(settings, proxies, forwarded_for, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_ip(_request(forwarded_for)) == expected


def test_no_request_has_no_address():
    assert client_ip(None) is None
