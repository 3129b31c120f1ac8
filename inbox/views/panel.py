"""The conversation's side panel (an htmx fragment beside the timeline): its state, assignee, team
and labels with their actions, the 24-hour window, and the customer's contact with what the apps
above the inbox add (inbox.contact_panel); and the signed-in agent's Available / Away toggle.

Each action answers the refreshed panel for htmx (a refusal shown in it, with its 4xx status) and
a redirect to the conversation's page otherwise. The conversation is always fetched through what
the member may see (inbox.selectors.conversation_get): another workspace's id is a 404.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.roles import Perm, role_has_perm
from aerostic.core.errors import DomainError
from compliance.consent import consent_history
from contacts import selectors as contact_selectors
from contacts.models import ConsentState
from inbox import panel_rules, selectors, settings_services, teamwork
from inbox.ai.selectors import ai_active_on
from inbox.ai.takeover import conversation_release, conversation_takeover
from inbox.contact_panel import contact_panel_sections
from inbox.models import Conversation, Label, Team
from inbox.selectors import Agent, conversation_get
from tenants.portal_base import PortalView

CONSENT_KIND = {ConsentState.OPTED_IN: "success", ConsentState.OPTED_OUT: "danger", ConsentState.UNKNOWN: "neutral"}
STATUS_KIND = {"open": "success", "pending": "warning", "snoozed": "info", "resolved": "neutral"}
CONSENT_HISTORY_SHOWN = 5
CHANGED_EVENT = "inbox-conversation-changed"  # htmx event the conversation page may listen for


def _can(request: HttpRequest, permission: str) -> bool:
    membership = getattr(request, "membership", None)
    return membership is not None and role_has_perm(membership.role, permission)


def _conversation(request: HttpRequest, conversation_id: int) -> Conversation:
    return PortalView.scoped_get(conversation_get, Agent.of(request.membership), conversation_id)


def _conversation_url(conversation_id: int) -> str:
    """The UI's conversation page (another engineer's route); the panel itself until it exists."""
    try:
        return reverse("inbox:conversation", args=[conversation_id])
    except NoReverseMatch:
        return reverse("inbox:panel", args=[conversation_id])


def _contact_context(request: HttpRequest, conversation: Conversation) -> dict[str, Any]:
    contact = conversation.contact
    if contact is None:
        return {"contact": None}
    values = contact.attributes or {}
    history = consent_history(contact)
    return {
        "contact": contact,
        "consent_kind": CONSENT_KIND.get(contact.consent_state, "neutral"),
        "consent_history": history[:CONSENT_HISTORY_SHOWN],
        "consent_history_more": max(0, len(history) - CONSENT_HISTORY_SHOWN),
        "contact_lists": contact_selectors.contact_lists_of(contact),
        "contact_attributes": [
            (definition.label or definition.key, values[definition.key])
            for definition in contact_selectors.attribute_definitions()
            if values.get(definition.key) not in (None, "")
        ],
        "can_view_contact": _can(request, Perm.CONTACTS_VIEW),
        "can_reveal": _can(request, Perm.CONTACTS_REVEAL_PHONE) and not contact.is_erased,
        "can_export": _can(request, Perm.CONTACTS_EXPORT),
        "can_erase": _can(request, Perm.CONTACTS_ERASE) and not contact.is_erased,
    }


def _contact_sections(request: HttpRequest, conversation: Conversation, zone: str) -> list[Any]:
    if conversation.contact is None:
        return []
    with timezone.override(zone):  # the sections' dates in the workspace's time zone, as the panel's
        return contact_panel_sections(request, conversation.contact)


def panel_context(request: HttpRequest, conversation: Conversation, **extra: Any) -> dict[str, Any]:
    now = timezone.now()
    labels_on = selectors.labels_of([conversation.pk], using_replica=False).get(conversation.pk, [])
    on_ids = {label.pk for label in labels_on}
    can_assign = _can(request, Perm.INBOX_ASSIGN)
    user_id = request.user.pk
    zone = panel_rules.workspace_zone(request.tenant.timezone).key
    context = {
        "conversation": conversation,
        "status_kind": STATUS_KIND.get(conversation.status, "neutral"),
        "zone": zone,
        "now": now,
        "window_open": bool(conversation.window_expires_at and conversation.window_expires_at > now),
        "can_reply": _can(request, Perm.INBOX_REPLY),
        "can_assign": can_assign,
        "may_take": _can(request, Perm.INBOX_REPLY)
        and conversation.assignee_id != user_id
        and (conversation.assignee_id is None or can_assign),
        "may_unassign": conversation.assignee_id is not None and (can_assign or conversation.assignee_id == user_id),
        "agents": panel_rules.assignable_agents() if can_assign else [],
        "teams": list(selectors.teams()) if can_assign else [],
        "labels_on": labels_on,
        "labels_off": [label for label in selectors.labels() if label.pk not in on_ids],
        "snooze_choices": panel_rules.SNOOZE_CHOICES,
        "conversation_url": _conversation_url(conversation.pk),
        "ai_on": ai_active_on(conversation.tenant_id, conversation.phone_number_id) is not None,
        "can_takeover": _can(request, Perm.INBOX_TAKEOVER),
        **_contact_context(request, conversation),
        "extra_sections": _contact_sections(request, conversation, zone),
    }
    context.update(extra)
    return context


def render_panel(request: HttpRequest, conversation: Conversation, *, status: int = 200, **extra: Any) -> HttpResponse:
    return render(request, "inbox/panel/panel.html", panel_context(request, conversation, **extra), status=status)


class PanelView(PortalView):
    """GET <id>/panel/: the side panel of a conversation the member may see."""

    template_name = "inbox/panel/panel.html"
    required_permission = Perm.INBOX_VIEW

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return render_panel(request, _conversation(request, self.kwargs["conversation_id"]))


class PanelActionView(PortalView):
    """POST-only base of the panel's actions: `act()` calls one inbox.teamwork service inside a
    savepoint, so a refusal leaves nothing behind."""

    http_method_names = ["post"]
    required_permission: str | None = Perm.INBOX_REPLY

    def act(self, request: HttpRequest, conversation: Conversation) -> str:
        """Does the change; returns a notice to show in the panel ("" for none)."""
        raise NotImplementedError

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        conversation = _conversation(request, self.kwargs["conversation_id"])
        try:
            with transaction.atomic():
                notice = self.act(request, conversation)
        except DomainError as error:
            return self._refused(request, conversation.pk, error)
        if not request.htmx:
            return redirect(_conversation_url(conversation.pk))
        try:
            conversation = conversation_get(Agent.of(request.membership), conversation.pk)
        except ObjectDoesNotExist:
            # The change took the conversation out of what this member sees (another team's now).
            response = render(request, "inbox/panel/gone.html", {"conversation_id": conversation.pk})
        else:
            response = render_panel(request, conversation, notice=notice)
        response["HX-Trigger"] = json.dumps({CHANGED_EVENT: {"id": conversation.pk}})
        return response

    def _refused(self, request: HttpRequest, conversation_id: int, error: DomainError) -> HttpResponse:
        if not request.htmx:
            context = {"message": error.message, "conversation_url": _conversation_url(conversation_id)}
            return render(request, "inbox/panel/refused.html", context, status=error.status_code)
        conversation = _conversation(request, conversation_id)  # read again: the savepoint was undone
        return render_panel(request, conversation, error=error.message, status=error.status_code)


def _int_or_none(raw: str, *, what: str) -> int | None:
    if raw in ("", None):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise DomainError(f"That is not a {what} of this workspace.") from None


class AssignView(PanelActionView):
    """assignee = a user id, "me", or empty to unassign (panel_rules.assign_check says who may)."""

    def act(self, request: HttpRequest, conversation: Conversation) -> str:
        raw = request.POST.get("assignee", "").strip()
        assignee_id = request.user.pk if raw == "me" else _int_or_none(raw, what="member")
        panel_rules.assign_check(
            conversation, role=request.membership.role, user_id=request.user.pk, assignee_id=assignee_id
        )
        teamwork.conversation_assign(conversation, assignee_id=assignee_id, actor=request.user)
        return ""


class TeamView(PanelActionView):
    """team = a team id (or empty: no team); round_robin = also assign its next available agent."""

    required_permission = Perm.INBOX_ASSIGN

    def act(self, request: HttpRequest, conversation: Conversation) -> str:
        team_id = _int_or_none(request.POST.get("team", "").strip(), what="team")
        round_robin = request.POST.get("round_robin") in ("1", "on", "true")
        team = self.scoped_get(Team.objects.get, pk=team_id) if team_id is not None else None
        if round_robin and team is None:
            raise DomainError("Choose the team whose available agents take turns.")
        teamwork.conversation_team(conversation, team_id=team_id, actor=request.user, round_robin=round_robin)
        if round_robin and conversation.assignee_id is None:
            return f"No one in {team} is available right now: the conversation waits unassigned."
        return ""


class LabelsView(PanelActionView):
    """label = a label id; op = add | remove."""

    def act(self, request: HttpRequest, conversation: Conversation) -> str:
        label_id = _int_or_none(request.POST.get("label", "").strip(), what="label")
        if label_id is None:
            raise DomainError("Choose a label.")
        label = self.scoped_get(Label.objects.get, pk=label_id)
        op = request.POST.get("op", "add")
        if op not in ("add", "remove"):
            raise DomainError("A label is added or removed.")
        teamwork.conversation_label(conversation, label_id=label.pk, actor=request.user, add=op == "add")
        return ""


class StatusView(PanelActionView):
    """status = open | pending | resolved | snoozed; a snooze takes snooze = 1h | tomorrow | monday |
    custom, and for custom until = a local date and time in the workspace's time zone."""

    def act(self, request: HttpRequest, conversation: Conversation) -> str:
        status = request.POST.get("status", "")
        until = None
        if status == Conversation.Status.SNOOZED:
            until = panel_rules.snooze_until(
                request.POST.get("snooze", ""),
                zone=panel_rules.workspace_zone(request.tenant.timezone),
                custom=request.POST.get("until", ""),
            )
        teamwork.conversation_status(conversation, status=status, actor=request.user, snoozed_until=until)
        return ""


class AIView(PanelActionView):
    """action = takeover (the AI stays silent here) | release (the AI answers again)."""

    required_permission = Perm.INBOX_TAKEOVER

    def act(self, request: HttpRequest, conversation: Conversation) -> str:
        action = request.POST.get("action", "")
        if action == "takeover":
            conversation_takeover(conversation, actor=request.user)
            return "You took over: the AI stays silent in this conversation until you hand it back."
        if action == "release":
            conversation_release(conversation, actor=request.user)
            return "Handed back: the AI answers the customer's next message."
        raise DomainError("Choose take over or hand back.")


class AvailabilityView(PortalView):
    """GET: the signed-in agent's Available / Away toggle (nothing for members who never take
    conversations); POST: toggles it (or sets available=1/0)."""

    template_name = "inbox/panel/availability.html"
    required_permission = Perm.INBOX_VIEW

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can(Perm.INBOX_REPLY):
            return HttpResponse("")
        return self.render_to_response({"available": teamwork.is_available(request.user)})

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can(Perm.INBOX_REPLY):
            raise PermissionDenied("Your role does not take conversations.")
        wanted = request.POST.get("available")
        available = (wanted == "1") if wanted in ("0", "1") else not teamwork.is_available(request.user)
        settings_services.availability_change(
            user=request.user, available=available, actor=request.user, request=request
        )
        if request.htmx:
            return self.render_to_response({"available": available})
        try:
            return redirect("inbox:index")
        except NoReverseMatch:
            return redirect("portal:dashboard")
