"""API of the workspace: who am I (with my workspaces), current tenant, members, invitations, audit log."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import Perm, Role, permissions_for_role
from aerostic.core.api import UserAPIView
from aerostic.core.selectors import audit_event_list
from tenants import selectors, services
from tenants.api_base import TenantAPIView
from tenants.models import Invitation
from tenants.selectors import memberships_for_user
from tenants.sending_state import sending_state


class MeOutput(serializers.Serializer):
    class MeMembershipOutput(serializers.Serializer):
        tenant_id = serializers.IntegerField()
        tenant_slug = serializers.CharField(source="tenant.slug")
        tenant_name = serializers.CharField(source="tenant.name")
        role = serializers.CharField()
        permissions = serializers.SerializerMethodField()

        def get_permissions(self, membership) -> list[str]:
            return sorted(permissions_for_role(membership.role))

    id = serializers.IntegerField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    memberships = MeMembershipOutput(many=True)


class MeApi(UserAPIView):
    @extend_schema(responses=MeOutput)
    def get(self, request: Request) -> Response:
        user = request.user
        data = {
            "id": user.pk,
            "email": user.email,
            "full_name": user.full_name,
            "memberships": memberships_for_user(user),
        }
        return Response(MeOutput(data).data)


class TenantApi(TenantAPIView):
    required_permissions = {"GET": Perm.SETTINGS_VIEW}

    class TenantOutput(serializers.Serializer):
        id = serializers.IntegerField()
        name = serializers.CharField()
        slug = serializers.CharField()
        status = serializers.CharField()
        timezone = serializers.CharField()
        default_country = serializers.CharField()
        messages_per_minute = serializers.IntegerField()
        campaign_sends_per_day = serializers.IntegerField()
        sending_allowed = serializers.BooleanField()
        sending_blocked_reason = serializers.CharField()

    @extend_schema(responses=TenantOutput)
    def get(self, request: Request) -> Response:
        tenant = request.tenant
        decision = sending_state(tenant.pk)
        data = {
            **{
                field: getattr(tenant, field)
                for field in (
                    "id",
                    "name",
                    "slug",
                    "status",
                    "timezone",
                    "default_country",
                    "messages_per_minute",
                    "campaign_sends_per_day",
                )
            },
            "sending_allowed": decision.allowed,
            "sending_blocked_reason": decision.reason,
        }
        return Response(self.TenantOutput(data).data)


class MemberOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField(source="user.email")
    full_name = serializers.CharField(source="user.full_name")
    role = serializers.CharField()
    created_at = serializers.DateTimeField()


class MemberListApi(TenantAPIView):
    required_permissions = {"GET": Perm.TEAM_VIEW}

    @extend_schema(responses=MemberOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(MemberOutput(selectors.member_list(), many=True).data)


class MemberDetailApi(TenantAPIView):
    required_permissions = {"GET": Perm.TEAM_VIEW, "PATCH": Perm.TEAM_MANAGE, "DELETE": Perm.TEAM_MANAGE}

    class MemberRoleInput(serializers.Serializer):
        role = serializers.ChoiceField(choices=Role.choices)

    @extend_schema(responses=MemberOutput)
    def get(self, request: Request, membership_id: int) -> Response:
        return Response(MemberOutput(selectors.member_get(membership_id)).data)

    @extend_schema(request=MemberRoleInput, responses=MemberOutput)
    def patch(self, request: Request, membership_id: int) -> Response:
        membership = selectors.member_get(membership_id)
        serializer = self.MemberRoleInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.membership_role_change(
            membership=membership, role=serializer.validated_data["role"], actor=request.user, request=request
        )
        return Response(MemberOutput(membership).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, membership_id: int) -> Response:
        membership = selectors.member_get(membership_id)
        services.membership_remove(membership=membership, actor=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class InvitationListApi(TenantAPIView):
    required_permissions = {"GET": Perm.TEAM_VIEW, "POST": Perm.TEAM_MANAGE}

    class InvitationInput(serializers.Serializer):
        email = serializers.EmailField()
        role = serializers.ChoiceField(choices=Role.choices, default=Role.AGENT)

    @extend_schema(responses=InvitationOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(InvitationOutput(selectors.invitation_pending_list(), many=True).data)

    @extend_schema(request=InvitationInput, responses={201: InvitationOutput})
    def post(self, request: Request) -> Response:
        serializer = self.InvitationInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation, _token = services.invitation_create(
            tenant=request.tenant, actor=request.user, request=request, **serializer.validated_data
        )
        return Response(InvitationOutput(invitation).data, status=status.HTTP_201_CREATED)


class InvitationDetailApi(TenantAPIView):
    required_permissions = {"DELETE": Perm.TEAM_MANAGE}

    @extend_schema(responses={204: None})
    def delete(self, request: Request, invitation_id: int) -> Response:
        invitation = Invitation.objects.get(pk=invitation_id)
        services.invitation_revoke(invitation=invitation, actor=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuditEventOutput(serializers.Serializer):
    id = serializers.IntegerField()
    action = serializers.CharField()
    actor_email = serializers.CharField()
    target_type = serializers.CharField()
    target_id = serializers.CharField()
    target_repr = serializers.CharField()
    ip_address = serializers.CharField(allow_null=True)
    metadata = serializers.JSONField()
    created_at = serializers.DateTimeField()


class AuditEventListApi(TenantAPIView):
    required_permissions = {"GET": Perm.AUDIT_VIEW}

    @extend_schema(
        parameters=[OpenApiParameter("action", str, description="Only actions starting with this")],
        responses=AuditEventOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        events = audit_event_list(action_prefix=request.query_params.get("action") or None)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(events, request, view=self)
        return paginator.get_paginated_response(AuditEventOutput(page, many=True).data)
