"""The inbox's settings pages: read receipts, teams and their members, labels, quick replies.

Everyone in the inbox may look. Read receipts and labels are changed by those who manage the
workspace's settings (SETTINGS_MANAGE), teams by those who manage its people (TEAM_MANAGE: a team
decides who sees which conversations). Quick replies are shared tools of the agents: anyone who
may reply adds them and changes their own; SETTINGS_MANAGE changes anyone's. Every change goes
through inbox.settings_services (audited); a refusal shows beside its field with a 400.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.roles import Perm
from aerostic.core.errors import DomainError
from inbox import selectors, settings_selectors, settings_services, teamwork
from inbox.forms import InboxSettingsForm, LabelForm, QuickReplyForm, TeamForm, TeamMemberForm, refusal_to_form
from inbox.models import QuickReply
from tenants.portal_base import PortalView


def _applied(form: Any, change: Callable[[], Any]) -> bool:
    """Runs the service in a savepoint; its refusal lands on the form (nothing of it stays)."""
    try:
        with transaction.atomic():
            change()
    except DomainError as error:
        refusal_to_form(form, error)
        return False
    return True


class SettingsPage(PortalView):
    required_permission = Perm.INBOX_VIEW
    manage_permission: str = Perm.SETTINGS_MANAGE
    section = ""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(section=self.section, can_manage=self.can(self.manage_permission))
        return context

    def require_manage(self) -> None:
        if not self.can(self.manage_permission):
            raise PermissionDenied("Your role does not allow changing this.")

    def refused(self, **context: Any) -> HttpResponse:
        return self.render_to_response(self.get_context_data(**context), status=400)


class SettingsIndexView(SettingsPage):
    template_name = "inbox/settings/index.html"
    section = "general"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        current = teamwork.inbox_settings()
        context.setdefault("form", InboxSettingsForm(initial={"send_read_receipts": current.send_read_receipts}))
        context.update(
            settings_row=current,
            team_count=selectors.teams().count(),
            label_count=selectors.labels().count(),
            quick_reply_count=settings_selectors.quick_reply_list().count(),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.require_manage()
        form = InboxSettingsForm(request.POST)
        if form.is_valid() and _applied(
            form,
            lambda: settings_services.inbox_settings_update(
                send_read_receipts=form.cleaned_data["send_read_receipts"], actor=request.user, request=request
            ),
        ):
            messages.success(request, "Inbox settings saved.")
            return redirect("inbox:settings")
        return self.refused(form=form)


# --- teams


class TeamListView(SettingsPage):
    template_name = "inbox/settings/teams.html"
    manage_permission = Perm.TEAM_MANAGE
    section = "teams"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", TeamForm())
        context["teams"] = selectors.teams()
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.require_manage()
        form = TeamForm(request.POST)
        created: list[Any] = []
        if form.is_valid() and _applied(
            form,
            lambda: created.append(
                settings_services.team_create(name=form.cleaned_data["name"], actor=request.user, request=request)
            ),
        ):
            messages.success(request, f"Team {created[0].name} created: add its members.")
            return redirect("inbox:settings-team", team_id=created[0].pk)
        return self.refused(form=form)


class TeamDetailView(SettingsPage):
    """GET: the team, its members, rename and delete; POST: rename."""

    template_name = "inbox/settings/team.html"
    manage_permission = Perm.TEAM_MANAGE
    section = "teams"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        team = self.scoped_get(settings_selectors.team_get, self.kwargs["team_id"])
        context.update(
            team=team,
            members=settings_selectors.team_members(team),
            form=kwargs.get("form") or TeamForm(initial={"name": team.name}),
            member_form=kwargs.get("member_form")
            or TeamMemberForm(candidates=settings_selectors.team_candidates(team)),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.require_manage()
        team = self.scoped_get(settings_selectors.team_get, self.kwargs["team_id"])
        form = TeamForm(request.POST)
        if form.is_valid() and _applied(
            form,
            lambda: settings_services.team_rename(
                team=team, name=form.cleaned_data["name"], actor=request.user, request=request
            ),
        ):
            messages.success(request, "Team renamed.")
            return redirect("inbox:settings-team", team_id=team.pk)
        return self.refused(form=form)


class TeamMembersView(TeamDetailView):
    """POST: add a member (user), or remove one (user and remove=1)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.require_manage()
        team = self.scoped_get(settings_selectors.team_get, self.kwargs["team_id"])
        candidates = settings_selectors.team_candidates(team)
        if request.POST.get("remove") == "1":
            try:
                with transaction.atomic():
                    settings_services.team_member_remove(
                        team=team, user_id=int(request.POST.get("user", "")), actor=request.user, request=request
                    )
            except (ValueError, DomainError):
                return self.refused(member_error="That person is not in this team.")
            messages.success(request, "Member removed.")
            return redirect("inbox:settings-team", team_id=team.pk)
        form = TeamMemberForm(request.POST, candidates=candidates)
        if form.is_valid() and _applied(
            form,
            lambda: settings_services.team_member_add(
                team=team, user_id=form.cleaned_data["user"], actor=request.user, request=request
            ),
        ):
            messages.success(request, "Member added.")
            return redirect("inbox:settings-team", team_id=team.pk)
        return self.refused(member_form=form)


class TeamDeleteView(SettingsPage):
    manage_permission = Perm.TEAM_MANAGE
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.require_manage()
        team = self.scoped_get(settings_selectors.team_get, self.kwargs["team_id"])
        settings_services.team_delete(team=team, actor=request.user, request=request)
        messages.success(request, f"Team {team.name} deleted; its conversations have no team now.")
        return redirect("inbox:settings-teams")


# --- labels


class LabelListView(SettingsPage):
    template_name = "inbox/settings/labels.html"
    section = "labels"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        in_use = settings_selectors.labels_in_use()
        context.setdefault("form", LabelForm())
        context["labels"] = [(label, in_use.get(label.pk, 0)) for label in selectors.labels()]
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.require_manage()
        form = LabelForm(request.POST)
        if form.is_valid() and _applied(
            form, lambda: settings_services.label_create(**form.cleaned_data, actor=request.user, request=request)
        ):
            messages.success(request, "Label created.")
            return redirect("inbox:settings-labels")
        return self.refused(form=form)


class LabelDetailView(SettingsPage):
    template_name = "inbox/settings/label.html"
    section = "labels"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        label = self.scoped_get(settings_selectors.label_get, self.kwargs["label_id"])
        context["label"] = label
        context.setdefault("form", LabelForm(initial={"name": label.name, "color": label.color}))
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.require_manage()
        label = self.scoped_get(settings_selectors.label_get, self.kwargs["label_id"])
        form = LabelForm(request.POST)
        if form.is_valid() and _applied(
            form,
            lambda: settings_services.label_update(
                label=label, **form.cleaned_data, actor=request.user, request=request
            ),
        ):
            messages.success(request, "Label saved.")
            return redirect("inbox:settings-labels")
        return self.refused(form=form)


class LabelDeleteView(SettingsPage):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.require_manage()
        label = self.scoped_get(settings_selectors.label_get, self.kwargs["label_id"])
        settings_services.label_delete(label=label, actor=request.user, request=request)
        messages.success(request, f"Label {label.name} deleted and taken off its conversations.")
        return redirect("inbox:settings-labels")


# --- quick replies


class QuickReplyPage(SettingsPage):
    manage_permission = Perm.INBOX_REPLY  # adding; changing one is quick_reply_may_change's rule
    section = "quick-replies"

    def may_change(self, quick_reply: QuickReply) -> bool:
        membership = self.request.membership
        return settings_services.quick_reply_may_change(quick_reply, user_id=membership.user_id, role=membership.role)

    def changeable(self) -> QuickReply:
        quick_reply = self.scoped_get(settings_selectors.quick_reply_get, self.kwargs["quick_reply_id"])
        if not self.may_change(quick_reply):
            raise PermissionDenied("Only its author or a workspace admin may change this quick reply.")
        return quick_reply


class QuickReplyListView(QuickReplyPage):
    template_name = "inbox/settings/quick_replies.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", QuickReplyForm())
        context["quick_replies"] = [(reply, self.may_change(reply)) for reply in settings_selectors.quick_reply_list()]
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.require_manage()
        form = QuickReplyForm(request.POST)
        if form.is_valid() and _applied(
            form, lambda: settings_services.quick_reply_create(**form.cleaned_data, actor=request.user, request=request)
        ):
            messages.success(request, "Quick reply added.")
            return redirect("inbox:settings-quick-replies")
        return self.refused(form=form)


class QuickReplyDetailView(QuickReplyPage):
    template_name = "inbox/settings/quick_reply.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        quick_reply = self.scoped_get(settings_selectors.quick_reply_get, self.kwargs["quick_reply_id"])
        context.update(quick_reply=quick_reply, may_change=self.may_change(quick_reply))
        context.setdefault(
            "form",
            QuickReplyForm(
                initial={"shortcut": quick_reply.shortcut, "title": quick_reply.title, "body": quick_reply.body}
            ),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        quick_reply = self.changeable()
        form = QuickReplyForm(request.POST)
        if form.is_valid() and _applied(
            form,
            lambda: settings_services.quick_reply_update(
                quick_reply=quick_reply, **form.cleaned_data, actor=request.user, request=request
            ),
        ):
            messages.success(request, "Quick reply saved.")
            return redirect("inbox:settings-quick-replies")
        return self.refused(form=form)


class QuickReplyDeleteView(QuickReplyPage):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        quick_reply = self.changeable()
        settings_services.quick_reply_delete(quick_reply=quick_reply, actor=request.user, request=request)
        messages.success(request, f"Quick reply /{quick_reply.shortcut} deleted.")
        return redirect("inbox:settings-quick-replies")
