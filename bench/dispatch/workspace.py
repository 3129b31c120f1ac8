"""The workspace bench.dispatch sends from: created and limited through the real services, its
API token, and its outbound messages' rows."""

from __future__ import annotations

import secrets

import requests

OPEN_STATES = ("queued", "sending")


def prepare(password: str):
    """One workspace with its owner, sandbox-connected, all through the real services."""
    from accounts.models import User
    from aerostic.core.tenant_context import tenant_context
    from tenants.services import tenant_create
    from whatsapp.connections.connect import sandbox_connect
    from whatsapp.models import MessageTemplate, PhoneNumber

    run = secrets.token_hex(3)  # new names per run: an external DATABASE_URL may hold earlier ones
    user = User.objects.create_user(f"bench-{run}@example.test", password=password)
    tenant = tenant_create(name="Bench", owner=user, slug=f"bench-{run}")
    account = sandbox_connect(tenant=tenant, actor=user)
    with tenant_context(tenant):
        phone = PhoneNumber.objects.select_related("account").get(account=account)
        template = MessageTemplate.objects.get(account=account, name="hello_world")
    return tenant, user, phone, template


def configure(tenant, user, phone, *, per_minute: int) -> None:
    """The workspace's per-minute limit through the staff service; the number's level and tier as
    Meta would report them for a number allowed this much."""
    from aerostic.core.tenant_context import tenant_context
    from tenants.services import tenant_platform_update
    from whatsapp.models import PhoneNumber

    tenant_platform_update(tenant=tenant, actor=user, messages_per_minute=per_minute)
    with tenant_context(tenant):
        PhoneNumber.objects.filter(pk=phone.pk).update(throughput_level="HIGH", messaging_limit_tier="TIER_UNLIMITED")


def api_token(port: int, email: str, password: str) -> str:
    response = requests.post(
        f"http://127.0.0.1:{port}/api/v1/auth/token/",
        json={"email": email, "password": password},
        headers={"X-Forwarded-Proto": "https"},
        timeout=30,
    )
    if response.status_code != 200:
        raise SystemExit(f"POST /api/v1/auth/token/ answered {response.status_code}: {response.text[:500]}")
    return response.json()["access"]


def message_rows(tenant, ids: list[int]) -> list[tuple]:
    from aerostic.core.tenant_context import tenant_context
    from whatsapp.models import OutboundMessage

    with tenant_context(tenant):
        return list(OutboundMessage.objects.filter(pk__in=ids).values_list("pk", "state", "sent_at"))


def open_count(tenant, ids: list[int]) -> int:
    from aerostic.core.tenant_context import tenant_context
    from whatsapp.models import OutboundMessage

    with tenant_context(tenant):
        return OutboundMessage.objects.filter(pk__in=ids, state__in=OPEN_STATES).count()
