"""API: JWT tokens for integrators (obtain, refresh with rotation, revoke). Who am I is tenants.api.MeApi."""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django.db import transaction
from django.utils.decorators import method_decorator
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.axes import attempted_username
from accounts.models import User
from aerostic.core.api import UserAPIView
from aerostic.core.throttles import AuthRateThrottle


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class TokenObtainApi(jwt_views.TokenObtainPairView):
    """POST email + password → access (5 min) and refresh tokens. Locked out like the login page.

    Not atomic, so a refused attempt stays counted by django-axes.
    """

    throttle_classes = [AuthRateThrottle]

    def post(self, request: Request, *args, **kwargs) -> Response:
        credentials = {"username": attempted_username(request, None)}
        if AxesProxyHandler.is_locked(request._request, credentials=credentials):
            return Response(
                {"detail": "Too many failed sign-ins: this account is locked for a while.", "code": "locked_out"},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
            )
        try:
            return super().post(request, *args, **kwargs)
        except AuthenticationFailed as refused:
            # Answered here rather than by DRF's handler, which would roll back the request's
            # transaction (ATOMIC_REQUESTS) and with it the failure django-axes just counted.
            return Response(
                {"detail": str(refused.detail), "code": "authentication_failed"},
                status=status.HTTP_401_UNAUTHORIZED,
                headers={"WWW-Authenticate": 'Bearer realm="api"'},
            )


class PasswordBoundTokenRefreshSerializer(TokenRefreshSerializer):
    """Refuses a refresh token minted before the user's password last changed, whatever path
    changed it (the services also blacklist; this catches `manage.py changepassword` too)."""

    def validate(self, attrs):
        refresh = RefreshToken(attrs["refresh"])
        user = User.objects.filter(pk=refresh.get(jwt_settings.USER_ID_CLAIM)).first()
        if user is None or refresh.get(jwt_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
            raise AuthenticationFailed("The user's password has been changed.", "password_changed")
        return super().validate(attrs)


class TokenRefreshApi(jwt_views.TokenRefreshView):
    """POST refresh → new access and a new refresh; the old refresh is blacklisted (rotation)."""

    throttle_classes = [AuthRateThrottle]
    serializer_class = PasswordBoundTokenRefreshSerializer


class TokenRevokeInput(serializers.Serializer):
    refresh = serializers.CharField()


class TokenRevokeApi(UserAPIView):
    @extend_schema(request=TokenRevokeInput, responses={204: None})
    def post(self, request: Request) -> Response:
        serializer = TokenRevokeInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            token = RefreshToken(serializer.validated_data["refresh"])
        except TokenError as error:
            return Response({"detail": str(error), "code": "token_not_valid"}, status=status.HTTP_400_BAD_REQUEST)
        if token.get("user_id") != str(request.user.pk) and token.get("user_id") != request.user.pk:
            return Response(
                {"detail": "Not your token.", "code": "token_not_valid"}, status=status.HTTP_400_BAD_REQUEST
            )
        token.blacklist()
        return Response(status=status.HTTP_204_NO_CONTENT)
