"""The standing isolation suite: every portal page and API route, walked by

- an anonymous visitor,
- a member of another tenant ("bravo", using alpha's ids),
- a member of alpha whose role lacks the permission,
- a member of alpha whose role holds it,

asserting the status code and, for refusals, that nothing changed, nothing was enqueued and no
e-mail went out. Add every new route to ROUTES: the completeness test fails until you do.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import django_rq
import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from aerostic.core.alerts import raise_alert
from aerostic.core.models import Alert, AlertChannel, AuditEvent
from aerostic.core.tenant_context import platform_context, tenant_context
from billing.models import BillingProfile, LedgerEntry, UnpricedUsage
from campaigns.models import Campaign, CampaignMessage, CampaignVariant
from campaigns.services import campaign_create, campaign_launch
from compliance.models import ConsentEvent
from contacts.importing import import_upload
from contacts.models import AttributeDefinition, Contact, ContactImport, ContactList, ContactListMember, Segment
from contacts.services import contact_create, list_create, list_members_add, segment_save
from inbox import settings_services
from inbox.ai import services as ai_services
from inbox.ai.models import AINumber, AIReply, AISettings, KnowledgeAnswer
from inbox.inbound import inbound_store
from inbox.models import (
    AgentStatus,
    Conversation,
    ConversationEvent,
    ConversationLabel,
    InboxSettings,
    Label,
    Message,
    QuickReply,
    SearchTerm,
    Team,
    TeamMember,
)
from tenants.models import Invitation, Membership, Tenant
from tenants.tests.factories import TenantScopedFactory
from whatsapp.connections.clients import graph_for
from whatsapp.connections.connect import sandbox_connect
from whatsapp.dispatch import message_enqueue
from whatsapp.models import AccessToken, MessageTemplate, OutboundMessage, PhoneNumber, WhatsAppAccount

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # may hold {member}, {invitation}, {campaign}...: alpha's ids
    allowed_role: str  # the least role that may use it
    denied_role: str | None  # a role of alpha without the permission (None: every role may)
    data: dict | None = None
    ok: int = 200
    is_api: bool = False


ROUTES = [
    Route("GET", "/", "viewer", None),
    Route("GET", "/inbox/", "viewer", None),
    Route("GET", "/inbox/list/", "viewer", None),
    Route("GET", "/inbox/rows/", "viewer", None),
    Route("GET", "/inbox/changes/", "viewer", None),
    Route("GET", "/inbox/quick-replies/", "agent", "viewer"),
    Route("GET", "/inbox/{conversation}/", "viewer", None),
    Route("GET", "/inbox/{conversation}/timeline/", "viewer", None),
    Route("GET", "/inbox/{conversation}/template-preview/", "agent", "viewer"),
    Route("POST", "/inbox/{conversation}/reply/", "agent", "viewer", {"text": ""}, 400),
    Route("POST", "/inbox/{conversation}/note/", "agent", "viewer", {"body": ""}, 400),
    Route("POST", "/inbox/{conversation}/retry/", "agent", "viewer", {}, 400),
    Route("POST", "/inbox/{conversation}/typing/", "agent", "viewer", {}, 204),
    Route("POST", "/inbox/{conversation}/ai/", "agent", "viewer", {"action": "takeover"}, 302),
    # Inbox media: {message} is a customer's image (its file at the simulator), {conversation} theirs.
    Route("GET", "/inbox/media/{message}/", "viewer", None),
    Route("POST", "/inbox/{conversation}/attachments/", "agent", "viewer", {}, 302),
    Route("POST", "/api/v1/conversations/{conversation}/attachments/", "agent", "viewer", {}, 400, is_api=True),
    Route("GET", "/contacts/", "viewer", None),
    Route("GET", "/campaigns/", "viewer", None),
    Route("GET", "/templates/", "viewer", None),
    Route("GET", "/whatsapp/", "viewer", None),
    Route("GET", "/billing/", "viewer", None),
    Route("GET", "/billing/ledger.csv", "viewer", None),
    Route("GET", "/billing/rate-card/", "viewer", None),
    Route("GET", "/billing/profile/", "admin", "agent"),
    Route("GET", "/settings/", "viewer", None),
    Route("GET", "/alerts/", "viewer", None),
    Route("POST", "/alerts/{alert}/acknowledge/", "admin", "agent", {}, 302),
    Route("POST", "/alerts/{alert}/resolve/", "admin", "agent", {}, 302),
    Route("GET", "/settings/alerts/", "admin", "agent"),
    Route("POST", "/settings/alerts/", "admin", "agent", {"name": ""}, 400),
    Route("GET", "/settings/alerts/{alert_channel}/", "admin", "agent"),
    Route("POST", "/settings/alerts/{alert_channel}/", "admin", "agent", {"name": ""}, 400),
    Route("POST", "/settings/alerts/{alert_channel}/enabled/", "admin", "agent", {"enabled": "1"}, 302),
    Route("POST", "/settings/alerts/{alert_channel}/delete/", "admin", "agent", {}, 302),
    Route("POST", "/settings/alerts/{alert_channel}/test/", "admin", "agent", {}, 302),
    Route("GET", "/api/v1/alerts/", "viewer", None, is_api=True),
    Route("GET", "/api/v1/alerts/{alert}/", "viewer", None, is_api=True),
    Route("POST", "/api/v1/alerts/{alert}/acknowledge/", "admin", "agent", {}, 200, is_api=True),
    Route("POST", "/api/v1/alerts/{alert}/resolve/", "admin", "agent", {}, 200, is_api=True),
    Route("GET", "/api/v1/alert-channels/", "admin", "agent", is_api=True),
    Route("POST", "/api/v1/alert-channels/", "admin", "agent", {"name": ""}, 400, is_api=True),
    Route("GET", "/api/v1/alert-channels/{alert_channel}/", "admin", "agent", is_api=True),
    Route("PATCH", "/api/v1/alert-channels/{alert_channel}/", "admin", "agent", {"name": ""}, 400, is_api=True),
    Route("DELETE", "/api/v1/alert-channels/{alert_channel}/", "admin", "agent", {}, 204, is_api=True),
    Route("POST", "/api/v1/alert-channels/{alert_channel}/test/", "admin", "agent", {}, 200, is_api=True),
    Route("POST", "/settings/", "admin", "agent", {"name": "Renamed", "timezone": "UTC", "default_country": "IN"}, 302),
    Route("GET", "/workspace/team/", "viewer", None),
    Route("POST", "/workspace/team/", "admin", "agent", {"email": "x@example.com", "role": "agent"}, 302),
    Route("POST", "/workspace/team/members/{member}/role/", "admin", "agent", {"role": "admin"}, 302),
    Route("POST", "/workspace/team/members/{member}/remove/", "admin", "agent", {}, 302),
    Route("POST", "/workspace/team/invitations/{invitation}/revoke/", "admin", "agent", {}, 302),
    Route("GET", "/workspace/audit/", "admin", "agent"),
    Route("GET", "/api/v1/tenant/", "viewer", None, is_api=True),
    Route("GET", "/api/v1/team/members/", "viewer", None, is_api=True),
    Route("GET", "/api/v1/team/members/{member}/", "viewer", None, is_api=True),
    Route("PATCH", "/api/v1/team/members/{member}/", "admin", "agent", {"role": "admin"}, is_api=True),
    Route("DELETE", "/api/v1/team/members/{member}/", "admin", "agent", {}, 204, is_api=True),
    Route("GET", "/api/v1/team/invitations/", "viewer", None, is_api=True),
    Route("POST", "/api/v1/team/invitations/", "admin", "agent", {"email": "y@example.com"}, 201, is_api=True),
    Route("DELETE", "/api/v1/team/invitations/{invitation}/", "admin", "agent", {}, 204, is_api=True),
    Route("GET", "/api/v1/audit/events/", "admin", "agent", is_api=True),
    Route("GET", "/api/v1/billing/usage/", "viewer", None, is_api=True),
    Route("GET", "/api/v1/billing/ledger/", "viewer", None, is_api=True),
    Route("GET", "/api/v1/billing/ledger/?cycle=2020-01-01&kind=debit", "viewer", None, is_api=True),
    # No rate card is loaded in this suite: the card "in force" is a 404 (billing/tests cover the 200).
    Route("GET", "/api/v1/billing/rate-card/", "viewer", None, ok=404, is_api=True),
    Route("POST", "/api/v1/billing/estimate/", "viewer", None, {"template_id": 0}, 400, is_api=True),
    Route("POST", "/whatsapp/", "admin", "agent", {"waba_id": "123456", "token": "EAA-x"}, 400),
    Route("POST", "/whatsapp/sandbox/", "admin", "agent", {}, 302),
    Route("POST", "/whatsapp/embedded-signup/", "admin", "agent", {}, 302),
    Route("POST", "/whatsapp/embedded-signup/start/", "admin", "agent", {}),
    Route("POST", "/whatsapp/embedded-signup/session/", "admin", "agent", {}, 400),
    Route("POST", "/whatsapp/numbers/{phone}/register/", "admin", "agent", {"pin": "123456"}, 302),
    Route("POST", "/whatsapp/accounts/{account}/check/", "admin", "agent", {}),
    Route("POST", "/whatsapp/accounts/{account}/disconnect/", "admin", "agent", {}, 302),
    Route("GET", "/api/v1/whatsapp/accounts/", "viewer", None, is_api=True),
    Route("GET", "/api/v1/whatsapp/validate", "admin", "agent", is_api=True),
    Route("GET", "/api/v1/whatsapp/check-connection", "admin", "agent", is_api=True),
    Route("GET", "/whatsapp/templates/new/", "viewer", None),
    Route("POST", "/whatsapp/templates/new/", "admin", "agent", {"name": "x"}, 400),
    Route("POST", "/whatsapp/templates/preview/", "viewer", None, {"body": "Hi"}),
    Route("GET", "/whatsapp/templates/{template}/", "viewer", None),
    Route("POST", "/whatsapp/templates/{template}/", "admin", "agent", {"body": ""}, 400),
    Route("POST", "/whatsapp/templates/{template}/submit/", "admin", "agent", {}, 302),
    Route("POST", "/whatsapp/templates/{template}/refresh/", "admin", "agent", {}, 302),
    Route("POST", "/whatsapp/templates/{template}/delete/", "admin", "agent", {}, 302),
    Route("POST", "/whatsapp/accounts/{account}/templates/sync/", "admin", "agent", {}, 302),
    Route("POST", "/api/v1/messages", "agent", "viewer", {"phone_number_id": 0}, 400, is_api=True),
    Route("GET", "/api/v1/messages/{outbound}/", "agent", "viewer", is_api=True),
    Route("GET", "/api/v1/templates/", "viewer", None, is_api=True),
    Route("POST", "/api/v1/templates/", "admin", "agent", {"account_id": 0}, 400, is_api=True),
    Route("GET", "/api/v1/templates/{template}/", "viewer", None, is_api=True),
    Route("PATCH", "/api/v1/templates/{template}/", "admin", "agent", {"category": "NOPE"}, 400, is_api=True),
    Route("DELETE", "/api/v1/templates/{template}/", "admin", "agent", {}, is_api=True),
    Route("POST", "/api/v1/templates/{template}/submit/", "admin", "agent", {}, is_api=True),
    Route("POST", "/api/v1/templates/{template}/refresh/", "admin", "agent", {}, is_api=True),
    Route("POST", "/api/v1/templates/{template}/render/", "viewer", None, {"values": {}}, is_api=True),
    Route("POST", "/api/v1/whatsapp/accounts/{account}/templates/sync/", "admin", "agent", {}, is_api=True),
    Route("GET", "/contacts/new/", "agent", "viewer"),
    Route("POST", "/contacts/new/", "agent", "viewer", {"phone": "not a number"}),
    Route("GET", "/contacts/export.csv", "admin", "agent"),
    Route("GET", "/contacts/{contact}/", "viewer", None),
    Route("POST", "/contacts/{contact}/", "agent", "viewer", {"phone": ""}),
    Route("POST", "/contacts/{contact}/reveal/", "admin", "agent", {}),
    Route("POST", "/contacts/{contact}/erase/", "admin", "agent", {}, 302),
    Route("GET", "/contacts/{contact}/export.json", "admin", "agent"),
    Route("GET", "/contacts/lists/", "viewer", None),
    Route("POST", "/contacts/lists/", "agent", "viewer", {"name": ""}),
    Route("POST", "/contacts/lists/add/", "agent", "viewer", {}, 302),
    Route("GET", "/contacts/lists/{list}/", "viewer", None),
    Route("POST", "/contacts/lists/{list}/", "agent", "viewer", {"action": "remove"}, 302),
    Route("GET", "/contacts/segments/", "viewer", None),
    Route("POST", "/contacts/segments/", "agent", "viewer", {"name": ""}),
    Route("GET", "/contacts/segments/{segment}/", "viewer", None),
    Route("POST", "/contacts/segments/{segment}/", "agent", "viewer", {}, 302),
    Route("GET", "/contacts/attributes/", "viewer", None),
    Route("POST", "/contacts/attributes/", "agent", "viewer", {"label": ""}),
    Route("GET", "/contacts/import/", "admin", "agent"),
    Route("POST", "/contacts/import/", "admin", "agent", {}),
    Route("GET", "/contacts/import/{import}/", "admin", "agent"),
    Route("POST", "/contacts/import/{import}/", "admin", "agent", {}),
    Route("GET", "/contacts/import/{import}/progress/", "admin", "agent"),
    Route("GET", "/contacts/import/{import}/errors.csv", "admin", "agent"),
    Route("GET", "/api/v1/contacts/", "viewer", None, is_api=True),
    Route("POST", "/api/v1/contacts/", "agent", "viewer", {"phone": "not a number"}, 400, is_api=True),
    Route("GET", "/api/v1/contacts/{contact}/", "viewer", None, is_api=True),
    Route("PATCH", "/api/v1/contacts/{contact}/", "agent", "viewer", {"name": "Renamed"}, is_api=True),
    Route("DELETE", "/api/v1/contacts/{contact}/", "admin", "agent", {}, is_api=True),
    Route("POST", "/api/v1/contacts/{contact}/reveal/", "admin", "agent", {}, is_api=True),
    Route("GET", "/api/v1/contacts/{contact}/consent/", "viewer", None, is_api=True),
    Route("POST", "/api/v1/contacts/{contact}/consent/", "agent", "viewer", {"kind": "maybe"}, 400, is_api=True),
    Route("GET", "/api/v1/contacts/{contact}/export/", "admin", "agent", is_api=True),
    Route("GET", "/api/v1/contacts/{contact}/can-send/?category=MARKETING", "viewer", None, is_api=True),
    Route("GET", "/api/v1/compliance/settings/", "viewer", None, is_api=True),
    Route("PATCH", "/api/v1/compliance/settings/", "admin", "agent", {"marketing_cap_days": 0}, 400, is_api=True),
    Route("GET", "/compliance/settings/", "viewer", None),
    Route("POST", "/compliance/settings/", "admin", "agent", {"marketing_cap_days": "x"}, 400),
    Route("GET", "/api/v1/contact-lists/", "viewer", None, is_api=True),
    Route("POST", "/api/v1/contact-lists/", "agent", "viewer", {"name": ""}, 400, is_api=True),
    Route("GET", "/api/v1/contact-lists/{list}/", "viewer", None, is_api=True),
    Route("DELETE", "/api/v1/contact-lists/{list}/", "agent", "viewer", {}, 204, is_api=True),
    Route("GET", "/api/v1/contact-lists/{list}/members/", "viewer", None, is_api=True),
    Route("POST", "/api/v1/contact-lists/{list}/members/", "agent", "viewer", {"contact_ids": []}, is_api=True),
    Route("DELETE", "/api/v1/contact-lists/{list}/members/", "agent", "viewer", {"contact_ids": []}, is_api=True),
    Route("GET", "/api/v1/segments/", "viewer", None, is_api=True),
    Route("POST", "/api/v1/segments/", "agent", "viewer", {"name": ""}, 400, is_api=True),
    Route("GET", "/api/v1/segments/{segment}/", "viewer", None, is_api=True),
    Route("PUT", "/api/v1/segments/{segment}/", "agent", "viewer", {"name": ""}, 400, is_api=True),
    Route("DELETE", "/api/v1/segments/{segment}/", "agent", "viewer", {}, 204, is_api=True),
    Route("GET", "/api/v1/contact-attributes/", "viewer", None, is_api=True),
    Route("POST", "/api/v1/contact-attributes/", "agent", "viewer", {"label": ""}, 400, is_api=True),
    Route("GET", "/api/v1/contact-imports/", "admin", "agent", is_api=True),
    Route("POST", "/api/v1/contact-imports/", "admin", "agent", {}, 400, is_api=True),
    Route("GET", "/api/v1/contact-imports/{import}/", "admin", "agent", is_api=True),
    Route("POST", "/api/v1/contact-imports/{import}/start/", "admin", "agent", {"mapping": {}}, 400, is_api=True),
    # Campaigns: {campaign} is running (launched, recipients queued), {draft} not launched yet.
    Route("GET", "/campaigns/new/", "admin", "agent"),
    Route("POST", "/campaigns/new/", "admin", "agent", {"name": ""}),
    Route("GET", "/campaigns/{campaign}/", "viewer", None),
    Route("GET", "/campaigns/{campaign}/edit/", "admin", "agent", None, 302),
    Route("GET", "/campaigns/{draft}/edit/", "admin", "agent"),
    Route("POST", "/campaigns/{campaign}/edit/", "admin", "agent", {"name": ""}),
    Route("GET", "/campaigns/{campaign}/mapping/", "admin", "agent", None, 302),
    Route("POST", "/campaigns/{campaign}/mapping/", "admin", "agent", {}, 302),
    Route("POST", "/campaigns/{campaign}/delete/", "admin", "agent", {}, 302),
    Route("GET", "/campaigns/{campaign}/review/", "viewer", None, None, 302),
    Route("GET", "/campaigns/{draft}/review/", "viewer", None),
    Route("POST", "/campaigns/{campaign}/launch/", "admin", "agent", {}, 302),
    Route("POST", "/campaigns/{draft}/launch/", "admin", "agent", {}, 302),
    Route("POST", "/campaigns/{campaign}/pause/", "admin", "agent", {}, 302),
    Route("POST", "/campaigns/{campaign}/resume/", "admin", "agent", {}, 302),
    Route("POST", "/campaigns/{campaign}/cancel/", "admin", "agent", {}, 302),
    Route("GET", "/campaigns/{campaign}/stats/", "viewer", None),
    Route("GET", "/campaigns/{campaign}/recipients/", "viewer", None),
    Route("GET", "/campaigns/{campaign}/recipients.csv", "viewer", None),
    Route("GET", "/api/v1/campaigns/", "viewer", None, is_api=True),
    Route("GET", "/api/v1/campaigns/?status=running", "viewer", None, is_api=True),
    Route("POST", "/api/v1/campaigns/", "admin", "agent", {"name": ""}, 400, is_api=True),
    Route("GET", "/api/v1/campaigns/{campaign}/", "viewer", None, is_api=True),
    Route("PUT", "/api/v1/campaigns/{campaign}/", "admin", "agent", {"name": ""}, 400, is_api=True),
    Route("DELETE", "/api/v1/campaigns/{campaign}/", "admin", "agent", {}, 409, is_api=True),
    Route("DELETE", "/api/v1/campaigns/{draft}/", "admin", "agent", {}, 204, is_api=True),
    Route("GET", "/api/v1/campaigns/{draft}/check/", "viewer", None, is_api=True),
    Route("POST", "/api/v1/campaigns/{draft}/launch/", "admin", "agent", {}, is_api=True),
    Route("POST", "/api/v1/campaigns/{campaign}/launch/", "admin", "agent", {}, 409, is_api=True),
    Route("POST", "/api/v1/campaigns/{campaign}/pause/", "admin", "agent", {"reason": "Checking"}, is_api=True),
    Route("POST", "/api/v1/campaigns/{campaign}/resume/", "admin", "agent", {}, 409, is_api=True),
    Route("POST", "/api/v1/campaigns/{campaign}/cancel/", "admin", "agent", {}, is_api=True),
    Route("GET", "/api/v1/campaigns/{campaign}/stats/", "viewer", None, is_api=True),
    Route("GET", "/api/v1/campaigns/{campaign}/recipients/", "viewer", None, is_api=True),
    Route("GET", "/api/v1/campaigns/{campaign}/recipients/?state=queued&variant=A", "viewer", None, is_api=True),
    # The inbox API: {conversation} is unassigned, its customer's window open.
    Route("GET", "/api/v1/conversations/", "viewer", None, is_api=True),
    Route("GET", "/api/v1/conversations/?view=mine&state=any&q=asha", "viewer", None, is_api=True),
    Route("GET", "/api/v1/conversations/unread/", "viewer", None, is_api=True),
    Route("GET", "/api/v1/conversations/{conversation}/", "viewer", None, is_api=True),
    Route("GET", "/api/v1/conversations/{conversation}/messages/", "viewer", None, is_api=True),
    Route(
        "POST", "/api/v1/conversations/{conversation}/messages/", "agent", "viewer", {"text": "Hi"}, 202, is_api=True
    ),
    Route("POST", "/api/v1/conversations/{conversation}/retry/", "agent", "viewer", {}, 400, is_api=True),
    Route("POST", "/api/v1/conversations/{conversation}/assign/", "admin", "agent", {"assignee_id": None}, is_api=True),
    Route("POST", "/api/v1/conversations/{conversation}/team/", "admin", "agent", {"team_id": None}, is_api=True),
    Route(
        "POST", "/api/v1/conversations/{conversation}/status/", "agent", "viewer", {"status": "pending"}, is_api=True
    ),
    Route("POST", "/api/v1/conversations/{conversation}/takeover/", "agent", "viewer", {}, is_api=True),
    Route("POST", "/api/v1/conversations/{conversation}/release/", "agent", "viewer", {}, is_api=True),
    Route("POST", "/api/v1/conversations/{conversation}/labels/", "agent", "viewer", {"add": []}, is_api=True),
    Route("POST", "/api/v1/conversations/{conversation}/notes/", "agent", "viewer", {"body": "x"}, 201, is_api=True),
    Route("POST", "/api/v1/conversations/{conversation}/read/", "agent", "viewer", {}, 204, is_api=True),
    Route("GET", "/api/v1/inbox/teams/", "viewer", None, is_api=True),
    Route("POST", "/api/v1/inbox/teams/", "admin", "agent", {"name": ""}, 400, is_api=True),
    Route("GET", "/api/v1/inbox/teams/{inbox_team}/", "viewer", None, is_api=True),
    Route("PATCH", "/api/v1/inbox/teams/{inbox_team}/", "admin", "agent", {"name": "Care"}, is_api=True),
    Route("DELETE", "/api/v1/inbox/teams/{inbox_team}/", "admin", "agent", {}, 204, is_api=True),
    Route("GET", "/api/v1/inbox/labels/", "viewer", None, is_api=True),
    Route("POST", "/api/v1/inbox/labels/", "admin", "agent", {"name": ""}, 400, is_api=True),
    Route("GET", "/api/v1/inbox/labels/{inbox_label}/", "viewer", None, is_api=True),
    Route("PATCH", "/api/v1/inbox/labels/{inbox_label}/", "admin", "agent", {"color": "red"}, is_api=True),
    Route("DELETE", "/api/v1/inbox/labels/{inbox_label}/", "admin", "agent", {}, 204, is_api=True),
    Route("GET", "/api/v1/inbox/quick-replies/", "viewer", None, is_api=True),
    Route("POST", "/api/v1/inbox/quick-replies/", "admin", "agent", {"shortcut": ""}, 400, is_api=True),
    Route("GET", "/api/v1/inbox/quick-replies/{quick_reply}/", "viewer", None, is_api=True),
    Route("PATCH", "/api/v1/inbox/quick-replies/{quick_reply}/", "admin", "agent", {"title": "Hours"}, is_api=True),
    Route("DELETE", "/api/v1/inbox/quick-replies/{quick_reply}/", "admin", "agent", {}, 204, is_api=True),
    Route("GET", "/api/v1/inbox/availability/", "viewer", None, is_api=True),
    Route("PUT", "/api/v1/inbox/availability/", "agent", "viewer", {"available": False}, is_api=True),
    Route("GET", "/api/v1/inbox/agents/", "viewer", None, is_api=True),
    # The inbox's side panel, availability and settings ({conversation} unassigned, in no team).
    Route("GET", "/inbox/{conversation}/panel/", "viewer", None),
    Route("POST", "/inbox/{conversation}/assign/", "agent", "viewer", {"assignee": "me"}, 302),
    Route("POST", "/inbox/{conversation}/team/", "admin", "agent", {"team": ""}, 302),
    Route("POST", "/inbox/{conversation}/labels/", "agent", "viewer", {"label": ""}, 400),
    Route("POST", "/inbox/{conversation}/status/", "agent", "viewer", {"status": "pending"}, 302),
    Route("GET", "/inbox/availability/", "viewer", None),
    Route("POST", "/inbox/availability/", "agent", "viewer", {}, 302),
    Route("GET", "/inbox/settings/", "viewer", None),
    Route("POST", "/inbox/settings/", "admin", "agent", {}, 302),
    Route("GET", "/inbox/settings/teams/", "viewer", None),
    Route("POST", "/inbox/settings/teams/", "admin", "agent", {"name": ""}, 400),
    Route("GET", "/inbox/settings/teams/{inbox_team}/", "viewer", None),
    Route("POST", "/inbox/settings/teams/{inbox_team}/", "admin", "agent", {"name": ""}, 400),
    Route("POST", "/inbox/settings/teams/{inbox_team}/members/", "admin", "agent", {"user": ""}, 400),
    Route("POST", "/inbox/settings/teams/{inbox_team}/delete/", "admin", "agent", {}, 302),
    Route("GET", "/inbox/settings/labels/", "viewer", None),
    Route("POST", "/inbox/settings/labels/", "admin", "agent", {"name": ""}, 400),
    Route("GET", "/inbox/settings/labels/{inbox_label}/", "viewer", None),
    Route("POST", "/inbox/settings/labels/{inbox_label}/", "admin", "agent", {"name": ""}, 400),
    Route("POST", "/inbox/settings/labels/{inbox_label}/delete/", "admin", "agent", {}, 302),
    Route("GET", "/inbox/settings/quick-replies/", "viewer", None),
    Route("POST", "/inbox/settings/quick-replies/", "agent", "viewer", {"shortcut": ""}, 400),
    Route("GET", "/inbox/settings/quick-replies/{quick_reply}/", "viewer", None),
    Route("POST", "/inbox/settings/quick-replies/{quick_reply}/", "admin", "agent", {"shortcut": ""}, 400),
    Route("POST", "/inbox/settings/quick-replies/{quick_reply}/delete/", "admin", "agent", {}, 302),
    # The AI auto-reply's settings pages and API (AI_CONFIGURE): {ai_pair} is a knowledge base pair.
    Route("GET", "/inbox/settings/ai/", "admin", "agent"),
    Route("POST", "/inbox/settings/ai/", "admin", "agent", {"provider": "knowledge_base", "threshold": "2"}, 400),
    Route("GET", "/inbox/settings/ai/knowledge/", "admin", "agent"),
    Route("GET", "/inbox/settings/ai/knowledge/?q=alpha&page=2", "admin", "agent"),
    Route("POST", "/inbox/settings/ai/knowledge/", "admin", "agent", {"question": ""}, 400),
    Route("POST", "/inbox/settings/ai/knowledge/import/", "admin", "agent", {}, 400),
    Route("GET", "/inbox/settings/ai/knowledge/export.csv", "admin", "agent"),
    Route("GET", "/inbox/settings/ai/knowledge/{ai_pair}/", "admin", "agent"),
    Route("POST", "/inbox/settings/ai/knowledge/{ai_pair}/", "admin", "agent", {"question": ""}, 400),
    Route("POST", "/inbox/settings/ai/knowledge/{ai_pair}/delete/", "admin", "agent", {}, 302),
    Route("GET", "/inbox/settings/ai/try/", "admin", "agent"),
    Route("POST", "/inbox/settings/ai/try/question/", "admin", "agent", {"question": "When do you open?"}),
    Route("POST", "/inbox/settings/ai/try/evaluation/", "admin", "agent", {}),
    Route("GET", "/api/v1/ai/settings/", "admin", "agent", is_api=True),
    Route("PATCH", "/api/v1/ai/settings/", "admin", "agent", {"threshold": 2}, 400, is_api=True),
    Route("PUT", "/api/v1/ai/numbers/", "admin", "agent", {"phone_number_ids": []}, is_api=True),
    Route("GET", "/api/v1/ai/knowledge/", "admin", "agent", is_api=True),
    Route("GET", "/api/v1/ai/knowledge/?q=alpha", "admin", "agent", is_api=True),
    Route("POST", "/api/v1/ai/knowledge/", "admin", "agent", {"question": "", "answer": ""}, 400, is_api=True),
    Route("POST", "/api/v1/ai/knowledge/import/", "admin", "agent", {}, 400, is_api=True),
    Route("GET", "/api/v1/ai/knowledge/export/", "admin", "agent", is_api=True),
    Route("GET", "/api/v1/ai/knowledge/{ai_pair}/", "admin", "agent", is_api=True),
    Route("PATCH", "/api/v1/ai/knowledge/{ai_pair}/", "admin", "agent", {"answer": ""}, 400, is_api=True),
    Route("DELETE", "/api/v1/ai/knowledge/{ai_pair}/", "admin", "agent", {}, 204, is_api=True),
    Route("POST", "/api/v1/ai/test/", "admin", "agent", {"question": "When do you open?"}, is_api=True),
]

# Routes deliberately outside the tenant suite, each with the reason.
NOT_TENANT_ROUTES = {
    "/healthz": "probe, no data",
    "/readyz": "probe, no data",
    "/metrics": "Prometheus scrape: a bearer token or an allowed network; counts only, no workspace's data",
    "/admin/": "super-admins only (tests/accounts: admin console)",
    "/admin/rq/": "super-admins only (django-rq's staff views)",
    "/accounts/": "sign-in, reset and invitation pages (accounts tests)",
    "/api/v1/auth/": "token endpoints (accounts tests)",
    "/api/v1/me/": "the user's own profile",
    "/api/v1/schema/": "public API description",
    "/api/v1/docs/": "public API description",
    "/workspace/switch/": "switching among one's own memberships (team tests)",
    "/static/": "assets",
    "/webhooks/": "Meta's signed deliveries, no user (whatsapp/tests/test_webhooks.py)",
}


class InvitationFactory(TenantScopedFactory):
    class Meta:
        model = Invitation

    email = "pending@example.com"
    token_hash = "0" * 64

    @classmethod
    def _adjust_kwargs(cls, **kwargs):
        from datetime import timedelta

        from django.utils import timezone

        kwargs.setdefault("expires_at", timezone.now() + timedelta(days=3))
        return kwargs


def _campaigns(workspace, phone, template_id: int, numbers: list[str]) -> tuple[Campaign, Campaign]:
    """A campaign launched to a few recipients (running: its batch job is never run here) and a draft."""
    actor = workspace.admin.user
    label = workspace.tenant.name
    recipients = [
        contact_create(phone=number, name=f"{label} recipient {n}", actor=actor) for n, number in enumerate(numbers)
    ]
    audience = list_create(name=f"{label} campaign audience", actor=actor)
    list_members_add(contact_list=audience, contact_ids=[contact.pk for contact in recipients], actor=actor)
    values = {
        "phone_number_id": phone.pk,
        "variants": [{"template_id": template_id, "percentage": 100, "mapping": {}}],
        "list_ids": [audience.pk],
        "actor": actor,
    }
    running = campaign_launch(campaign=campaign_create(name=f"{label} spring sale", **values), actor=actor)
    return running, campaign_create(name=f"{label} summer draft", **values)


def _media_message(account: WhatsAppAccount, phone: PhoneNumber) -> Message:
    """A customer's image in a conversation of the account's number, its file kept by the simulator."""
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    media_id = graph_for(account).upload_media(
        phone.phone_number_id, filename="p.png", content=png, mime_type="image/png"
    )
    image = {"id": media_id, "mime_type": "image/png", "sha256": hashlib.sha256(png).hexdigest()}
    message = {
        "from": "919812345621",
        "id": "wamid.ISOLATION",
        "timestamp": str(int(time.time())),
        "type": "image",
        "image": image,
    }
    stored = inbound_store(phone=phone, message=message, profile_name="Asha")
    assert stored is not None
    return stored


@pytest.fixture
def ids(alpha, bravo, connected, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)  # inbox media fetched by the suite
    bravo_account = sandbox_connect(tenant=bravo.tenant, actor=bravo.admin.user)
    with tenant_context(bravo.tenant):
        bravo_phone = bravo_account.phone_numbers.get()
        bravo_template = MessageTemplate.objects.get(account=bravo_account, name="hello_world")
        _campaigns(bravo, bravo_phone, bravo_template.pk, ["+919812345641", "+919812345642"])
    with tenant_context(alpha.tenant):
        phone = connected.phone_numbers.get()
        template_id = MessageTemplate.objects.get(account=connected, name="hello_world").pk
        contact = contact_create(phone="+919812345621", name="Asha Alpha", actor=alpha.admin.user)
        contact_list = list_create(name="Alpha VIPs", actor=alpha.admin.user)
        list_members_add(contact_list=contact_list, contact_ids=[contact.pk], actor=alpha.admin.user)
        segment = segment_save(name="Alpha opted in", filters={"consent": "opted_in"}, actor=alpha.admin.user)
        upload = import_upload(data=b"phone,name\n+919812345622,Ravi\n", filename="alpha.csv", actor=alpha.admin.user)
        outbound = message_enqueue(
            phone=phone,
            to="919812345621",
            content={"type": "text", "text": {"body": "Hi"}},
            category="SERVICE",
            origin="api",
        )
        campaign, draft = _campaigns(alpha, phone, template_id, ["+919812345631", "+919812345632", "+919812345633"])
        customer_message = {
            "from": "919812345621",
            "id": "wamid.isolation.1",
            "timestamp": str(int(time.time()) - 60),
            "type": "text",
            "text": {"body": "Hello"},
        }
        conversation_id = inbound_store(
            phone=phone, message=customer_message, profile_name="Asha Alpha"
        ).conversation_id
        actor = alpha.admin.user
        inbox_team = settings_services.team_create(name="Alpha support", member_ids=[actor.pk], actor=actor)
        inbox_label = settings_services.label_create(name="Alpha VIP", actor=actor)
        quick_reply = settings_services.quick_reply_create(shortcut="hours", title="Hours", body="9 to 5", actor=actor)
        media_message = _media_message(connected, phone)
        alert = raise_alert(tenant=alpha.tenant, key="token:1:expiring", title="Alpha token expires soon")
        alert_channel = AlertChannel.objects.create(name="Alpha on-call", kind="email", emails="ops@alpha.example")
        ai_services.ai_settings_update(blocked_words="Alpha secret word", actor=actor)
        ai_services.ai_numbers_set(phone_number_ids=[phone.pk], actor=actor)
        ai_pair = ai_services.knowledge_save(
            question="When does Alpha open?", answer="Alpha opens at 9.", alternates="Alpha hours", actor=actor
        )
    return {
        "campaign": campaign.pk,
        "draft": draft.pk,
        "contact": contact.pk,
        "list": contact_list.pk,
        "segment": segment.pk,
        "import": upload.pk,
        "outbound": outbound.pk,
        "member": alpha.agent.pk,
        "invitation": InvitationFactory(tenant=alpha.tenant).pk,
        "account": connected.pk,
        "phone": phone.pk,
        "template": template_id,
        "conversation": conversation_id,
        "inbox_team": inbox_team.pk,
        "inbox_label": inbox_label.pk,
        "quick_reply": quick_reply.pk,
        "message": media_message.pk,
        "alert": alert.pk,
        "alert_channel": alert_channel.pk,
        "ai_pair": ai_pair.pk,
    }


def _snapshot(tenant: Tenant) -> tuple:
    with platform_context("test snapshot"):
        members = sorted(Membership.all_tenants.filter(tenant=tenant).values_list("pk", "role"))
        invitations = sorted(Invitation.all_tenants.filter(tenant=tenant).values_list("pk", "revoked_at"))
        tenant_row = Tenant.objects.filter(pk=tenant.pk).values_list("name", "default_country").get()
        business_events = AuditEvent.all_tenants.filter(tenant=tenant).exclude(action__startswith="auth.").count()
        whatsapp = sorted(WhatsAppAccount.all_tenants.filter(tenant=tenant).values_list("pk", "status"))
        phones = sorted(PhoneNumber.all_tenants.filter(tenant=tenant).values_list("pk", "is_registered", "is_active"))
        tokens = sorted(AccessToken.all_tenants.filter(tenant=tenant).values_list("pk", "status", "is_current"))
        templates = sorted(
            MessageTemplate.all_tenants.filter(tenant=tenant).values_list("pk", "status", "components", "category")
        )
        contacts = sorted(
            Contact.all_tenants.filter(tenant=tenant).values_list("pk", "name", "phone_index", "consent_state", "tags")
        )
        contacts += [
            ("lists", ContactList.all_tenants.filter(tenant=tenant).count()),
            ("members", ContactListMember.all_tenants.filter(tenant=tenant).count()),
            ("segments", Segment.all_tenants.filter(tenant=tenant).count()),
            ("attributes", AttributeDefinition.all_tenants.filter(tenant=tenant).count()),
            ("consent", ConsentEvent.all_tenants.filter(tenant=tenant).count()),
            ("imports", sorted(ContactImport.all_tenants.filter(tenant=tenant).values_list("pk", "status"))),
            ("outbound", sorted(OutboundMessage.all_tenants.filter(tenant=tenant).values_list("pk", "state"))),
        ]
        campaigns = sorted(
            Campaign.all_tenants.filter(tenant=tenant).values_list(
                "pk", "name", "status", "status_reason", "list_ids", "send_at", "launched_at", "finished_at"
            )
        )
        campaigns += [
            (
                "variants",
                sorted(
                    CampaignVariant.all_tenants.filter(tenant=tenant).values_list(
                        "pk", "campaign_id", "label", "template_id", "percentage", "mapping"
                    )
                ),
            ),
            ("recipients", sorted(CampaignMessage.all_tenants.filter(tenant=tenant).values_list("pk", "state"))),
        ]
        billing = [
            sorted(
                BillingProfile.all_tenants.filter(tenant=tenant).values_list(
                    "currency", "prepaid", "credit_limit_micros", "cycle_day", "balance_micros"
                )
            ),
            LedgerEntry.all_tenants.filter(tenant=tenant).count(),
            UnpricedUsage.all_tenants.filter(tenant=tenant, resolved_at__isnull=True).count(),
        ]
        inbox = _inbox_snapshot(tenant)
        alerts = sorted(
            Alert.all_tenants.filter(tenant=tenant).values_list("pk", "acknowledged_at", "resolved_at", "title")
        )
        alerts += sorted(
            AlertChannel.all_tenants.filter(tenant=tenant).values_list("pk", "name", "emails", "enabled", "min_level")
        )
    queued = sum(django_rq.get_queue(name).count for name in ("default", "low", "sends", "campaigns"))
    return (
        members,
        invitations,
        tenant_row,
        business_events,
        queued,
        whatsapp,
        phones,
        tokens,
        templates,
        contacts,
        campaigns,
        billing,
        inbox,
        alerts,
    )


def _inbox_snapshot(tenant: Tenant) -> list:
    with platform_context("test snapshot"):
        return [
            sorted(
                Conversation.all_tenants.filter(tenant=tenant).values_list(
                    "pk", "status", "snoozed_until", "assignee_id", "team_id", "unread_count"
                )
            ),
            ConversationEvent.all_tenants.filter(tenant=tenant).count(),
            sorted(ConversationLabel.all_tenants.filter(tenant=tenant).values_list("conversation_id", "label_id")),
            sorted(Team.all_tenants.filter(tenant=tenant).values_list("pk", "name")),
            sorted(TeamMember.all_tenants.filter(tenant=tenant).values_list("team_id", "user_id")),
            sorted(Label.all_tenants.filter(tenant=tenant).values_list("pk", "name", "color")),
            sorted(QuickReply.all_tenants.filter(tenant=tenant).values_list("pk", "shortcut", "title", "body")),
            sorted(InboxSettings.all_tenants.filter(tenant=tenant).values_list("send_read_receipts", flat=True)),
            sorted(AgentStatus.all_tenants.filter(tenant=tenant).values_list("user_id", "available")),
            sorted(SearchTerm.all_tenants.filter(tenant=tenant).values_list("conversation_id", "term", "seen_at")),
            *_ai_snapshot(tenant),
        ]


def _ai_snapshot(tenant: Tenant) -> list:
    settings = AISettings.all_tenants.filter(tenant=tenant)
    fields = ("enabled", "provider", "threshold", "daily_reply_cap", "blocked_words", "handover_team_id")
    return [
        sorted(settings.values_list(*fields, "chat_base_url", "chat_model", "chat_api_key", "knowledge_version")),
        sorted(AINumber.all_tenants.filter(tenant=tenant).values_list("phone_number_id", flat=True)),
        sorted(
            KnowledgeAnswer.all_tenants.filter(tenant=tenant).values_list(
                "pk", "language", "question", "alternates", "answer", "enabled"
            )
        ),
        AIReply.all_tenants.filter(tenant=tenant).count(),
    ]


def _call(client, route: Route, ids: dict):
    path = route.path.format(**ids)
    method = getattr(client, route.method.lower())
    if route.is_api:
        return method(path, route.data or {}, format="json") if route.method != "GET" else method(path)
    return method(path, route.data or {}) if route.method != "GET" else method(path)


def _client(role: str | None, workspace, login_client, api_client_for, route: Route):
    if role is None:
        from django.test import Client
        from rest_framework.test import APIClient

        return APIClient() if route.is_api else Client()
    member = workspace.member(role)
    return api_client_for(member) if route.is_api else login_client(member)


def _route_id(route: Route) -> str:
    return f"{route.method} {route.path}"


@pytest.mark.parametrize("route", ROUTES, ids=_route_id)
def test_anonymous_is_refused_and_nothing_changes(route, alpha, ids, login_client, api_client_for, mailoutbox):
    before = _snapshot(alpha.tenant)
    response = _call(_client(None, alpha, login_client, api_client_for, route), route, ids)
    if route.is_api:
        assert response.status_code == 401
    else:
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert _snapshot(alpha.tenant) == before and mailoutbox == []


@pytest.mark.parametrize("route", ROUTES, ids=_route_id)
def test_member_of_another_tenant_sees_nothing_of_alpha(
    route, alpha, bravo, ids, login_client, api_client_for, mailoutbox
):
    before = _snapshot(alpha.tenant)
    response = _call(_client("admin", bravo, login_client, api_client_for, route), route, ids)
    if "{" in route.path:
        assert response.status_code == 404, response.content[:300]
    else:
        # A collection or page: it answers with bravo's own data, never alpha's.
        content = b"".join(response.streaming_content) if response.streaming else response.content
        body = content.decode()
        assert "alpha.test" not in body and "Alpha" not in body
    assert _snapshot(alpha.tenant) == before and mailoutbox == []


@pytest.mark.parametrize("route", [r for r in ROUTES if r.denied_role], ids=_route_id)
def test_member_without_the_permission_is_refused(route, alpha, ids, login_client, api_client_for, mailoutbox):
    before = _snapshot(alpha.tenant)
    response = _call(_client(route.denied_role, alpha, login_client, api_client_for, route), route, ids)
    assert response.status_code == 403, response.content[:300]
    assert _snapshot(alpha.tenant) == before and mailoutbox == []


@pytest.mark.parametrize("route", ROUTES, ids=_route_id)
def test_member_with_the_permission_is_served(route, alpha, ids, login_client, api_client_for):
    response = _call(_client(route.allowed_role, alpha, login_client, api_client_for, route), route, ids)
    assert response.status_code == route.ok, response.content[:500]


def _all_paths(resolver=None, prefix="") -> list[str]:
    paths = []
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            paths.extend(_all_paths(entry, route))
        elif isinstance(entry, URLPattern):
            paths.append("/" + route)
    return paths


def test_every_route_is_in_the_isolation_suite_or_explicitly_exempt():
    placeholders = {
        "{member}": "<int:membership_id>",
        "{invitation}": "<int:invitation_id>",
        "{account}": "<int:account_id>",
        "{phone}": "<int:phone_id>",
        "{template}": "<int:template_id>",
        "{contact}": "<int:contact_id>",
        "{list}": "<int:list_id>",
        "{segment}": "<int:segment_id>",
        "{import}": "<int:import_id>",
        "{outbound}": "<int:message_id>",
        "{campaign}": "<int:campaign_id>",
        "{draft}": "<int:campaign_id>",
        "{conversation}": "<int:conversation_id>",
        "{inbox_team}": "<int:team_id>",
        "{inbox_label}": "<int:label_id>",
        "{quick_reply}": "<int:quick_reply_id>",
        "{message}": "<int:message_id>",
        "{alert}": "<int:alert_id>",
        "{alert_channel}": "<int:channel_id>",
        "{ai_pair}": "<int:pair_id>",
    }
    covered = set()
    for route in ROUTES:
        path = route.path.split("?")[0]
        for placeholder, converter in placeholders.items():
            path = path.replace(placeholder, converter)
        covered.add(path)
    missing = [
        path
        for path in _all_paths()
        if path not in covered and not any(path.startswith(prefix) for prefix in NOT_TENANT_ROUTES)
    ]
    assert missing == [], f"Add these routes to tests/test_isolation.py ROUTES: {missing}"
