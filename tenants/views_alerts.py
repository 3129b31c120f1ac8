"""Portal pages of the workspace's alerts: the Alerts page (open, resolved, all; acknowledge and
resolve) and, in its settings, the alert channels its notices go to.

Every member who sees the dashboard sees the alerts; acknowledging, resolving and the channels are
for those who manage the workspace's settings. The writes are aerostic.core's services (audited).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from accounts.roles import Perm
from aerostic.core import alert_channels
from aerostic.core.alert_notices import NoticeFailed, send_test
from aerostic.core.alerts import alert_acknowledge, alert_for_action, alert_resolve, recent_alerts
from aerostic.core.errors import DomainError
from aerostic.core.errors import NotFound as AlertNotFound
from aerostic.core.models import Alert, AlertChannel
from tenants.forms_alerts import AlertChannelForm
from tenants.portal_base import PortalView, redirect_back, require_permission, workspace_zone

STATES = [("open", "Open"), ("resolved", "Resolved"), ("all", "All")]
LEVEL_KIND: dict[str, str] = {Alert.Level.CRITICAL: "danger", Alert.Level.WARNING: "warning", Alert.Level.INFO: "info"}
PAGE_SIZE = 50


# --- the Alerts page


class AlertListView(PortalView):
    template_name = "tenants/alerts.html"
    required_permission = Perm.DASHBOARD_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        state = self.request.GET.get("state", "open")
        if state not in dict(STATES):
            state = "open"
        page = Paginator(recent_alerts(state=state), PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(
            state=state,
            states=STATES,
            page_obj=page,
            rows=[{"alert": alert, "kind": LEVEL_KIND.get(alert.level, "neutral")} for alert in page],
            zone=workspace_zone(self.request),
            can_manage=self.can(Perm.SETTINGS_MANAGE),
        )
        return context


def _alert(alert_id: int) -> Alert:
    try:
        return alert_for_action(alert_id)
    except AlertNotFound:
        raise Http404("Not found.") from None


@require_POST
@require_permission(Perm.SETTINGS_MANAGE)
def alert_acknowledge_view(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = _alert(alert_id)
    if alert_acknowledge(alert=alert, actor=request.user, request=request):
        messages.success(request, f"Acknowledged: {alert.title}.")
    else:
        alert.refresh_from_db()
        done = "resolved" if alert.resolved_at else "acknowledged"
        messages.info(request, f"This alert was already {done}: {alert.title}.")
    return redirect_back(request, "portal:alerts")


@require_POST
@require_permission(Perm.SETTINGS_MANAGE)
def alert_resolve_view(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = _alert(alert_id)
    if alert_resolve(alert=alert, actor=request.user, request=request):
        messages.success(request, f"Resolved: {alert.title}.")
    else:
        messages.info(request, f"This alert was already resolved: {alert.title}.")
    return redirect_back(request, "portal:alerts")


# --- the alert channels (workspace settings)


class AlertChannelPage(PortalView):
    required_permission = Perm.SETTINGS_MANAGE

    def refused(self, **context: Any) -> HttpResponse:
        return self.render_to_response(self.get_context_data(**context), status=400)

    @staticmethod
    def applied(form: AlertChannelForm, change: Any) -> Any:
        """Runs the service in a savepoint; its refusal lands on the form (nothing of it stays)."""
        try:
            with transaction.atomic():
                return change()
        except DomainError as error:
            form.refused(error)
            return None


class AlertChannelListView(AlertChannelPage):
    """GET: the channels and the form to add one; POST: add one."""

    template_name = "tenants/alert_channels.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", AlertChannelForm())
        context["rows"] = [
            {"channel": channel, "webhook_hint": alert_channels.webhook_hint(channel)}
            for channel in alert_channels.alert_channel_list()
        ]
        context["zone"] = workspace_zone(self.request)
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = AlertChannelForm(request.POST)
        if form.is_valid():
            values = form.cleaned_data
            channel = self.applied(
                form,
                lambda: alert_channels.alert_channel_create(**values, actor=request.user, request=request),
            )
            if channel is not None:
                messages.success(request, f"Channel {channel.name} added. Send a test to check it.")
                return redirect("portal:alert-channels")
        return self.refused(form=form)


class AlertChannelDetailView(AlertChannelPage):
    """GET: the edit form; POST: save it."""

    template_name = "tenants/alert_channel.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        channel = self.scoped_get(alert_channels.alert_channel_get, self.kwargs["channel_id"])
        hint = alert_channels.webhook_hint(channel)
        context.setdefault(
            "form",
            AlertChannelForm(
                channel=channel,
                webhook_hint=hint,
                initial={
                    "name": channel.name,
                    "emails": channel.emails,
                    "min_level": channel.min_level,
                    "enabled": channel.enabled,
                },
            ),
        )
        context.update(channel=channel, webhook_hint=hint)
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        channel = self.scoped_get(alert_channels.alert_channel_get, self.kwargs["channel_id"])
        form = AlertChannelForm(request.POST, channel=channel, webhook_hint=alert_channels.webhook_hint(channel))
        if form.is_valid():
            values = {key: value for key, value in form.cleaned_data.items() if key != "kind"}
            changed = self.applied(
                form,
                lambda: alert_channels.alert_channel_update(
                    channel=channel, **values, actor=request.user, request=request
                ),
            )
            if changed is not None:
                messages.success(request, f"Channel {channel.name} saved.")
                return redirect("portal:alert-channels")
        return self.refused(form=form)


def _channel(channel_id: int) -> AlertChannel:
    return PortalView.scoped_get(alert_channels.alert_channel_get, channel_id)


@require_POST
@require_permission(Perm.SETTINGS_MANAGE)
def alert_channel_enable(request: HttpRequest, channel_id: int) -> HttpResponse:
    """POST enabled=1 or 0: turns the channel on or off."""
    channel = _channel(channel_id)
    enabled = request.POST.get("enabled") == "1"
    alert_channels.alert_channel_update(channel=channel, enabled=enabled, actor=request.user, request=request)
    messages.success(request, f"Channel {channel.name} {'enabled' if enabled else 'disabled'}.")
    return redirect("portal:alert-channels")


@require_POST
@require_permission(Perm.SETTINGS_MANAGE)
def alert_channel_delete(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = _channel(channel_id)
    alert_channels.alert_channel_delete(channel=channel, actor=request.user, request=request)
    messages.success(request, f"Channel {channel.name} deleted.")
    return redirect("portal:alert-channels")


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class AlertChannelTestView(PortalView):
    """POST: a test notice to the channel. Outside the request's transaction: Slack or SMTP may take
    seconds, and a transaction must not idle that long."""

    required_permission = Perm.SETTINGS_MANAGE
    http_method_names = ["post"]

    def post(self, request: HttpRequest, channel_id: int) -> HttpResponse:
        channel = _channel(channel_id)
        try:
            send_test(channel)
        except NoticeFailed as failure:
            messages.error(request, f"The test notice to {channel.name} was not delivered: {failure}.")
        else:
            messages.success(request, f"A test notice went to {channel.name}.")
        return redirect("portal:alert-channels")
