"""The one permission matrix: named permissions and which tenant roles hold them.

Views ask for a permission by name (`PortalView.required_permission`, `HasTenantPermission`),
never for a role, so changing who may do what is a one-line change here.
"""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    AGENT = "agent", "Agent"
    VIEWER = "viewer", "Viewer"


class Perm(models.TextChoices):
    DASHBOARD_VIEW = "dashboard.view", "See the dashboard"
    INBOX_VIEW = "inbox.view", "Read conversations"
    INBOX_REPLY = "inbox.reply", "Reply to customers"
    INBOX_ASSIGN = "inbox.assign", "Assign conversations"
    INBOX_VIEW_ALL = "inbox.view_all", "See every conversation, not only assigned ones"
    INBOX_TAKEOVER = "inbox.takeover", "Take over from the AI auto-reply"
    AI_CONFIGURE = "ai.configure", "Configure the AI auto-reply"
    CONTACTS_VIEW = "contacts.view", "See contacts"
    CONTACTS_EDIT = "contacts.edit", "Create and edit contacts"
    CONTACTS_IMPORT = "contacts.import", "Import contacts"
    CONTACTS_EXPORT = "contacts.export", "Export contacts"
    CONTACTS_REVEAL_PHONE = "contacts.reveal_phone", "See full phone numbers"
    CONTACTS_ERASE = "contacts.erase", "Erase a contact's data (GDPR)"
    CAMPAIGNS_VIEW = "campaigns.view", "See campaigns"
    CAMPAIGNS_EDIT = "campaigns.edit", "Create and edit campaigns"
    CAMPAIGNS_LAUNCH = "campaigns.launch", "Launch, pause and cancel campaigns"
    TEMPLATES_VIEW = "templates.view", "See message templates"
    TEMPLATES_EDIT = "templates.edit", "Create and edit message templates"
    TEMPLATES_SUBMIT = "templates.submit", "Submit templates to Meta"
    TEMPLATES_DELETE = "templates.delete", "Delete templates"
    WHATSAPP_VIEW = "whatsapp.view", "See WhatsApp connections"
    WHATSAPP_CONNECT = "whatsapp.connect", "Connect and disconnect WhatsApp numbers"
    MESSAGES_SEND = "messages.send", "Send one-off messages"
    BILLING_VIEW = "billing.view", "See billing and usage"
    BILLING_MANAGE = "billing.manage", "Manage balance and billing settings"
    TEAM_VIEW = "team.view", "See the team"
    TEAM_MANAGE = "team.manage", "Invite, change roles and remove members"
    SETTINGS_VIEW = "settings.view", "See workspace settings"
    SETTINGS_MANAGE = "settings.manage", "Change workspace settings"
    AUDIT_VIEW = "audit.view", "Read the audit log"
    COMPLIANCE_MANAGE = "compliance.manage", "Manage consent, quiet hours and retention"
    API_USE = "api.use", "Use the REST API"


_VIEWER = {
    Perm.DASHBOARD_VIEW,
    Perm.INBOX_VIEW,
    Perm.CONTACTS_VIEW,
    Perm.CAMPAIGNS_VIEW,
    Perm.TEMPLATES_VIEW,
    Perm.WHATSAPP_VIEW,
    Perm.BILLING_VIEW,
    Perm.TEAM_VIEW,
    Perm.SETTINGS_VIEW,
    Perm.API_USE,
}
_AGENT = _VIEWER | {
    Perm.INBOX_REPLY,
    Perm.INBOX_TAKEOVER,
    Perm.CONTACTS_EDIT,
    Perm.MESSAGES_SEND,
}
_ADMIN = set(Perm)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(_ADMIN),
    Role.AGENT: frozenset(_AGENT),
    Role.VIEWER: frozenset(_VIEWER),
}


def role_has_perm(role: str, perm: str) -> bool:
    if perm not in Perm.values:
        raise ValueError(f"Unknown permission {perm!r}: add it to accounts.roles.Perm first.")
    return perm in ROLE_PERMISSIONS.get(role, frozenset())


def permissions_for_role(role: str) -> frozenset[str]:
    return ROLE_PERMISSIONS.get(role, frozenset())
