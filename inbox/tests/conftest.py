"""Fixtures of the inbox tests: the portal's number and approved template (inbox.tests.portal_support),
and `fake_openai`, a local OpenAI-compatible server (inbox.tests.fake_openai documents its API)."""

from collections.abc import Iterator

import pytest

from inbox.tests.fake_openai import FakeOpenAI
from inbox.tests.portal_support import approved, number  # noqa: F401 - fixtures, found by name


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A fake chat-completions server on 127.0.0.1 for one test: `.base_url`, `.queue(...)`, `.requests`."""
    with FakeOpenAI() as server:
        yield server
