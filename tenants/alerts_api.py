"""/api/v1/alerts/… and /api/v1/alert-channels/…: the workspace's alerts (read by every member who
sees the dashboard; acknowledged and resolved by those who manage its settings) and the channels
its alert notices go to (settings managers only). The Slack webhook URL is write-only: no answer
ever carries it, only its host (`webhook_hint`)."""

from __future__ import annotations

from typing import Any

from django.db import connections, transaction
from django.utils.decorators import method_decorator
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import Perm
from aerostic.core import alert_channels
from aerostic.core.alert_notices import NoticeFailed, send_test
from aerostic.core.alerts import alert_acknowledge, alert_for_action, alert_resolve, recent_alerts
from aerostic.core.errors import Conflict, DomainError
from aerostic.core.models import Alert, AlertChannel
from tenants.api_base import TenantAPIView

READ, MANAGE = Perm.DASHBOARD_VIEW, Perm.SETTINGS_MANAGE
INVALID = OpenApiResponse(description="Wrong input: `problems` names each field and what is wrong with it.")
CONFLICT = OpenApiResponse(description="Already done: `detail` says so.")
# Plain strings in the schema, their values in the description: choice fields would give these
# choice sets a second enum name in the API description (drf-spectacular warns, `check --deploy` fails).
LEVELS = "One of: " + ", ".join(Alert.Level.values) + "."
KINDS = "One of: " + ", ".join(AlertChannel.Kind.values) + "."


class AlertOutput(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    level = serializers.CharField(help_text=LEVELS)
    title = serializers.CharField()
    detail = serializers.CharField()
    state = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledged_by = serializers.EmailField(source="acknowledged_by.email", allow_null=True, default=None)
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolved_by = serializers.EmailField(
        source="resolved_by.email",
        allow_null=True,
        default=None,
        help_text="Empty for an alert that cleared by itself.",
    )

    def get_state(self, alert: Alert) -> str:
        if alert.resolved_at:
            return "resolved"
        return "acknowledged" if alert.acknowledged_at else "open"


class AlertListApi(TenantAPIView):
    required_permissions = {"GET": READ}

    @extend_schema(
        parameters=[OpenApiParameter("state", str, enum=["open", "resolved", "all"], default="open")],
        responses=AlertOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        """The workspace's alerts, most recently updated first (`state`: open, the default; resolved; all)."""
        rows = recent_alerts(state=request.query_params.get("state", "open"))
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(AlertOutput(page, many=True).data)


class AlertDetailApi(TenantAPIView):
    required_permissions = {"GET": READ}

    @extend_schema(responses=AlertOutput)
    def get(self, request: Request, alert_id: int) -> Response:
        return Response(AlertOutput(alert_for_action(alert_id)).data)


class AlertAcknowledgeApi(TenantAPIView):
    required_permissions = {"POST": MANAGE}

    @extend_schema(request=None, responses={200: AlertOutput, 409: CONFLICT})
    def post(self, request: Request, alert_id: int) -> Response:
        """Someone is on it: the alert stays open, marked with who took it (409 once acknowledged or resolved)."""
        alert = alert_for_action(alert_id)
        if not alert_acknowledge(alert=alert, actor=request.user, request=request):
            alert.refresh_from_db()
            raise Conflict(f"This alert is already {'resolved' if alert.resolved_at else 'acknowledged'}.")
        return Response(AlertOutput(alert_for_action(alert_id)).data)


class AlertResolveApi(TenantAPIView):
    required_permissions = {"POST": MANAGE}

    @extend_schema(request=None, responses={200: AlertOutput, 409: CONFLICT})
    def post(self, request: Request, alert_id: int) -> Response:
        """Closed by hand (409 once resolved). A rule that still sees the problem opens a new alert."""
        alert = alert_for_action(alert_id)
        if not alert_resolve(alert=alert, actor=request.user, request=request):
            raise Conflict("This alert is already resolved.")
        return Response(AlertOutput(alert_for_action(alert_id)).data)


# --- channels


class AlertChannelOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField(help_text=KINDS)
    emails = serializers.SerializerMethodField()
    webhook_hint = serializers.SerializerMethodField(help_text='The webhook\'s host only ("hooks.slack.com/…").')
    min_level = serializers.CharField(help_text=LEVELS)
    enabled = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    last_delivered_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField()

    def get_emails(self, channel: AlertChannel) -> list[str]:
        return [address.strip() for address in channel.emails.split(",") if address.strip()]

    def get_webhook_hint(self, channel: AlertChannel) -> str:
        return alert_channels.webhook_hint(channel)


class AlertChannelInput(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    kind = serializers.CharField(help_text=KINDS)  # checked by the service, which names the field
    emails = serializers.ListField(
        child=serializers.CharField(max_length=254), required=False, max_length=alert_channels.MAX_EMAILS
    )
    slack_webhook_url = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=alert_channels.MAX_WEBHOOK_LENGTH
    )
    min_level = serializers.ChoiceField(choices=Alert.Level.choices, required=False)
    enabled = serializers.BooleanField(required=False)


class AlertChannelChangeInput(AlertChannelInput):
    kind = None  # type: ignore[assignment]  # a channel keeps its kind


def _checked(serializer: Any) -> dict[str, Any]:
    serializer.is_valid(raise_exception=True)
    values = dict(serializer.validated_data)
    if "emails" in values:
        values["emails"] = ", ".join(values["emails"])
    return values


class AlertChannelListApi(TenantAPIView):
    required_permissions = {"GET": MANAGE, "POST": MANAGE}

    @extend_schema(responses=AlertChannelOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(AlertChannelOutput(alert_channels.alert_channel_list(), many=True).data)

    @extend_schema(request=AlertChannelInput, responses={201: AlertChannelOutput, 400: INVALID})
    def post(self, request: Request) -> Response:
        """`emails` for an e-mail channel (up to 10), `slack_webhook_url` (https) for a Slack one."""
        channel = alert_channels.alert_channel_create(
            **_checked(AlertChannelInput(data=request.data)), actor=request.user, request=request
        )
        return Response(AlertChannelOutput(channel).data, status=201)


class AlertChannelDetailApi(TenantAPIView):
    required_permissions = {"GET": MANAGE, "PATCH": MANAGE, "DELETE": MANAGE}

    @extend_schema(responses=AlertChannelOutput)
    def get(self, request: Request, channel_id: int) -> Response:
        return Response(AlertChannelOutput(alert_channels.alert_channel_get(channel_id)).data)

    @extend_schema(request=AlertChannelChangeInput(partial=True), responses={200: AlertChannelOutput, 400: INVALID})
    def patch(self, request: Request, channel_id: int) -> Response:
        """Changes the fields given; a channel keeps its kind."""
        channel = alert_channels.alert_channel_get(channel_id)
        if "kind" in request.data and request.data["kind"] != channel.kind:
            raise DomainError("A channel keeps its kind: add another channel for the other kind.")
        values = _checked(AlertChannelChangeInput(data=request.data, partial=True))
        channel = alert_channels.alert_channel_update(channel=channel, **values, actor=request.user, request=request)
        return Response(AlertChannelOutput(channel).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, channel_id: int) -> Response:
        channel = alert_channels.alert_channel_get(channel_id)
        alert_channels.alert_channel_delete(channel=channel, actor=request.user, request=request)
        return Response(status=204)


class AlertChannelTestOutput(serializers.Serializer):
    delivered = serializers.BooleanField()
    detail = serializers.CharField()


# Outside the request's transaction: Slack or SMTP may take seconds, and a transaction must not idle that long.
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class AlertChannelTestApi(TenantAPIView):
    required_permissions = {"POST": MANAGE}

    def handle_exception(self, exc: Exception) -> Response:
        # DRF's handler marks "the request's transaction" for rollback on a refusal. This view has
        # none: the mark would land on whatever encloses the request (a test's transaction), so
        # each connection's flag is put back as it was.
        before = {
            alias: connections[alias].needs_rollback for alias in connections if connections[alias].in_atomic_block
        }
        response = super().handle_exception(exc)
        for alias, needs_rollback in before.items():
            connections[alias].set_rollback(needs_rollback)
        return response

    @extend_schema(
        request=None, responses={200: AlertChannelTestOutput, 502: OpenApiResponse(description="Not delivered")}
    )
    def post(self, request: Request, channel_id: int) -> Response:
        """A test notice to the channel: 200 when it took it, 502 with the reason when it did not."""
        channel = alert_channels.alert_channel_get(channel_id)
        try:
            send_test(channel)
        except NoticeFailed as failure:
            return Response({"delivered": False, "detail": str(failure)}, status=502)
        return Response({"delivered": True, "detail": f"A test notice went to {channel.name}."})
