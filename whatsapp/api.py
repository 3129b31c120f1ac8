"""API of WhatsApp connections: list, validate (token and scopes) and a full live connection check."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import Perm
from aerostic.core.errors import DomainError
from tenants.api_base import TenantAPIView
from whatsapp import selectors
from whatsapp.connections import checks as connection_checks


class PhoneNumberOutput(serializers.Serializer):
    id = serializers.IntegerField()
    phone_number_id = serializers.CharField()
    display_phone_number = serializers.CharField()
    verified_name = serializers.CharField()
    quality_rating = serializers.CharField()
    messaging_limit_tier = serializers.CharField()
    throughput_level = serializers.CharField()
    is_registered = serializers.BooleanField()
    health = serializers.CharField()
    health_detail = serializers.CharField()


class AccountOutput(serializers.Serializer):
    id = serializers.IntegerField()
    waba_id = serializers.CharField()
    name = serializers.CharField()
    mode = serializers.CharField()
    status = serializers.CharField()
    status_detail = serializers.CharField()
    webhooks_subscribed = serializers.BooleanField()
    connected_at = serializers.DateTimeField()
    last_checked_at = serializers.DateTimeField(allow_null=True)
    phone_numbers = PhoneNumberOutput(many=True, source="phone_numbers.all")


class CheckOutput(serializers.Serializer):
    name = serializers.CharField()
    ok = serializers.BooleanField()
    detail = serializers.CharField()


class AccountChecksOutput(serializers.Serializer):
    account_id = serializers.IntegerField()
    waba_id = serializers.CharField()
    ok = serializers.BooleanField()
    checks = CheckOutput(many=True)


class AccountListApi(TenantAPIView):
    required_permissions = {"GET": Perm.WHATSAPP_VIEW}

    @extend_schema(responses=AccountOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(AccountOutput(selectors.account_list(), many=True).data)


def _run_checks(request: Request, *, deep: bool) -> list[dict]:
    connection_checks.live_check_claim(tenant_id=request.tenant.pk, kind="connection")
    results = []
    for account in selectors.account_list():
        try:
            checks = connection_checks.connection_check(account=account, deep=deep)
        except DomainError as problem:
            checks = [connection_checks.Check("connection", False, problem.message)]
        results.append(
            {
                "account_id": account.pk,
                "waba_id": account.waba_id,
                "checks": checks,
                "ok": all(check.ok for check in checks),
            }
        )
    return results


class ValidateApi(TenantAPIView):
    """Token validity and permissions of every connected account (one Graph call each). Live: needs
    the connect permission, and one live check per workspace within the cooldown (else 429)."""

    required_permissions = {"GET": Perm.WHATSAPP_CONNECT}

    @extend_schema(responses=AccountChecksOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(AccountChecksOutput(_run_checks(request, deep=False), many=True).data)


class CheckConnectionApi(TenantAPIView):
    """Live check: token, scopes, webhook subscription, each number's registration, quality and tier.
    Needs the connect permission; one live check per workspace within the cooldown (else 429)."""

    required_permissions = {"GET": Perm.WHATSAPP_CONNECT}

    @extend_schema(responses=AccountChecksOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(AccountChecksOutput(_run_checks(request, deep=True), many=True).data)
