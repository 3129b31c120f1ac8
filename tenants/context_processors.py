"""Template context for every portal page: tenant, memberships, navigation and permissions."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from accounts.roles import Perm, permissions_for_role
from tenants.selectors import memberships_for_user

NAVIGATION = [
    ("Dashboard", "portal:dashboard", "dashboard", Perm.DASHBOARD_VIEW),
    ("Inbox", "portal:inbox", "inbox", Perm.INBOX_VIEW),
    ("Contacts", "portal:contacts", "contacts", Perm.CONTACTS_VIEW),
    ("Campaigns", "portal:campaigns", "campaigns", Perm.CAMPAIGNS_VIEW),
    ("Templates", "portal:templates", "templates", Perm.TEMPLATES_VIEW),
    ("WhatsApp", "portal:whatsapp", "whatsapp", Perm.WHATSAPP_VIEW),
    ("Billing", "portal:billing", "billing", Perm.BILLING_VIEW),
    ("Team", "tenants:team", "team", Perm.TEAM_VIEW),
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
        nav_items.append({"label": label, "url": url, "icon": icon, "active": active})
    return {
        "current_tenant": membership.tenant,
        "current_membership": membership,
        "user_memberships": memberships_for_user(request.user),
        "nav_items": nav_items,
        "tenant_perms": perms,
    }
