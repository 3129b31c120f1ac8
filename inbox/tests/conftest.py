"""Fixtures of the inbox tests: the portal's number and approved template (inbox.tests.portal_support)."""

from inbox.tests.portal_support import approved, number  # noqa: F401 - fixtures, found by name
