"""/api/v1/compliance/…: the workspace's compliance settings, and whether a contact may be sent a
message of a category now (what the dispatcher will ask)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import Perm
from aerostic.core.errors import DomainError
from compliance import services
from compliance.policy import can_send, compliance_settings_for
from contacts import selectors as contacts
from tenants.api_base import TenantAPIView

CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION", "SERVICE")


class SettingsOutput(serializers.Serializer):
    extra_opt_out_words = serializers.ListField(child=serializers.CharField())
    extra_opt_in_words = serializers.ListField(child=serializers.CharField())
    opt_out_reply = serializers.CharField()
    opt_in_reply = serializers.CharField()
    block_utility_when_opted_out = serializers.BooleanField()
    quiet_hours_enabled = serializers.BooleanField()
    quiet_hours_start = serializers.TimeField()
    quiet_hours_end = serializers.TimeField()
    quiet_hours_categories = serializers.ListField(child=serializers.CharField())
    marketing_cap_messages = serializers.IntegerField()
    marketing_cap_days = serializers.IntegerField()
    message_retention_days = serializers.IntegerField(allow_null=True)


class SettingsInput(serializers.Serializer):
    extra_opt_out_words = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    extra_opt_in_words = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    opt_out_reply = serializers.CharField(max_length=1024, required=False, allow_blank=True)
    opt_in_reply = serializers.CharField(max_length=1024, required=False, allow_blank=True)
    block_utility_when_opted_out = serializers.BooleanField(required=False)
    quiet_hours_enabled = serializers.BooleanField(required=False)
    quiet_hours_start = serializers.TimeField(required=False)
    quiet_hours_end = serializers.TimeField(required=False)
    quiet_hours_categories = serializers.ListField(child=serializers.CharField(), required=False)
    marketing_cap_messages = serializers.IntegerField(min_value=0, max_value=100, required=False)
    marketing_cap_days = serializers.IntegerField(min_value=1, max_value=90, required=False)
    message_retention_days = serializers.IntegerField(min_value=1, max_value=3650, required=False, allow_null=True)


class DecisionOutput(serializers.Serializer):
    allowed = serializers.BooleanField()
    reason = serializers.CharField()
    send_after = serializers.DateTimeField(allow_null=True)


class ComplianceSettingsApi(TenantAPIView):
    required_permissions = {"GET": Perm.SETTINGS_VIEW, "PATCH": Perm.COMPLIANCE_MANAGE}

    @extend_schema(responses=SettingsOutput)
    def get(self, request: Request) -> Response:
        return Response(SettingsOutput(compliance_settings_for(request.tenant.pk)).data)

    @extend_schema(request=SettingsInput, responses=SettingsOutput)
    def patch(self, request: Request) -> Response:
        data = SettingsInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        row = services.compliance_settings_update(actor=request.user, request=request, **data.validated_data)
        return Response(SettingsOutput(row).data)


class CanSendApi(TenantAPIView):
    required_permissions = {"GET": Perm.CONTACTS_VIEW}

    @extend_schema(
        parameters=[
            OpenApiParameter("category", str, enum=list(CATEGORIES), required=True),
            OpenApiParameter("authentication_requested", bool),
        ],
        responses=DecisionOutput,
    )
    def get(self, request: Request, contact_id: int) -> Response:
        contact = contacts.contact_get(contact_id)
        category = request.query_params.get("category", "").upper()
        if category not in CATEGORIES:
            raise DomainError(f"category: one of {', '.join(CATEGORIES)}.")
        decision = can_send(
            contact,
            category,
            timezone.now(),
            authentication_requested=request.query_params.get("authentication_requested") in ("1", "true"),
        )
        return Response(DecisionOutput(decision).data)
