"""Template context for every portal page: tenant, memberships, navigation and permissions.

A section may show a count beside its navigation entry (the inbox's unread conversations): a higher
app registers a badge function for its URL name (`register_nav_badge`, from its AppConfig.ready()),
so this module never names it. The count is computed only when a page renders the navigation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from accounts.roles import Perm, permissions_for_role
from tenants.selectors import memberships_for_user

logger = logging.getLogger(__name__)

NavBadge = Callable[[HttpRequest], int | None]
_NAV_BADGES: dict[str, NavBadge] = {}


def register_nav_badge(url_name: str, badge: NavBadge) -> NavBadge:
    """`badge(request)` gives the count shown beside the navigation entry of `url_name` (None or 0:
    nothing shown). It runs on every full page a member of the section sees: keep it to one query."""
    _NAV_BADGES[url_name] = badge
    return badge


def nav_badge_id(url_name: str) -> str:
    """The element id of a badge, so a page's poll can replace it out of band."""
    return "nav-badge-" + url_name.replace(":", "-")


class _LazyBadge:
    """Called by the template only when the navigation is rendered (htmx fragments never are),
    and at most once per request."""

    def __init__(self, badge: NavBadge, request: HttpRequest) -> None:
        self._badge, self._request = badge, request
        self._value: int | None = None
        self._done = False

    def __call__(self) -> int | None:
        if not self._done:
            self._done = True
            try:
                self._value = self._badge(self._request)
            except Exception:  # a count beside a link never takes a page down
                logger.warning("navigation badge failed", exc_info=True)
        return self._value


NAVIGATION = [
    ("Dashboard", "portal:dashboard", "dashboard", Perm.DASHBOARD_VIEW),
    ("Inbox", "inbox:index", "inbox", Perm.INBOX_VIEW),
    ("Contacts", "portal:contacts", "contacts", Perm.CONTACTS_VIEW),
    ("Campaigns", "portal:campaigns", "campaigns", Perm.CAMPAIGNS_VIEW),
    ("Templates", "portal:templates", "templates", Perm.TEMPLATES_VIEW),
    ("WhatsApp", "portal:whatsapp", "whatsapp", Perm.WHATSAPP_VIEW),
    ("Billing", "portal:billing", "billing", Perm.BILLING_VIEW),
    ("Team", "tenants:team", "team", Perm.TEAM_VIEW),
    ("Alerts", "portal:alerts", "alerts", Perm.DASHBOARD_VIEW),
    ("Audit log", "tenants:audit", "audit", Perm.AUDIT_VIEW),
    ("Settings", "portal:settings", "settings", Perm.SETTINGS_VIEW),
]


def portal(request: HttpRequest) -> dict[str, Any]:
    membership = getattr(request, "membership", None)
    if membership is None or request.path.startswith("/admin/"):
        return {"current_tenant": None, "current_membership": None, "nav_items": [], "tenant_perms": frozenset()}
    perms = permissions_for_role(membership.role)
    nav_items = []
    for label, url_name, icon, perm in NAVIGATION:
        if perm not in perms:
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        active = request.path == url if url == "/" else request.path.startswith(url)
        item: dict[str, Any] = {"label": label, "url": url, "icon": icon, "active": active}
        badge = _NAV_BADGES.get(url_name)
        if badge is not None:
            item["badge"] = _LazyBadge(badge, request)
            item["badge_id"] = nav_badge_id(url_name)
        nav_items.append(item)
    return {
        "current_tenant": membership.tenant,
        "current_membership": membership,
        "user_memberships": getattr(request, "user_memberships", None) or memberships_for_user(request.user),
        "nav_items": nav_items,
        "tenant_perms": perms,
    }
