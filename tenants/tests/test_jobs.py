"""Periodic jobs of the tenants app."""

from datetime import timedelta

import pytest
from django.utils import timezone

from aerostic.core.tenant_context import tenant_context
from tenants.jobs import expire_invitations
from tenants.models import Invitation

pytestmark = pytest.mark.django_db


def _invitation(tenant, *, expired_days_ago: int, token: str) -> Invitation:
    with tenant_context(tenant):
        return Invitation.objects.create(
            email=f"{token}@example.com",
            token_hash=token * 64,
            expires_at=timezone.now() - timedelta(days=expired_days_ago),
        )


def test_invitations_expired_long_ago_are_deleted_across_tenants(alpha, bravo):
    _invitation(alpha.tenant, expired_days_ago=31, token="a")
    _invitation(bravo.tenant, expired_days_ago=45, token="b")
    kept = _invitation(alpha.tenant, expired_days_ago=2, token="c")
    assert expire_invitations() == 2
    with tenant_context(alpha.tenant):
        assert list(Invitation.objects.values_list("pk", flat=True)) == [kept.pk]
