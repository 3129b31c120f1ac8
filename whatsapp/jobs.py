"""Jobs of the WhatsApp app: the nightly token health check fans out one job per token."""

from __future__ import annotations

from aerostic.core.jobs import enqueue_on_commit, platform_job, tenant_job
from aerostic.queues import LOW
from whatsapp.models import AccessToken


@platform_job("nightly WhatsApp token health check")
def check_all_tokens() -> int:
    rows = list(AccessToken.all_tenants.filter(is_current=True).exclude(token=None).values_list("tenant_id", "pk"))
    for tenant_id, token_id in rows:
        enqueue_on_commit(check_token, queue=LOW, tenant_id=tenant_id, token_id=token_id)
    return len(rows)


@tenant_job
def check_token(*, tenant_id: int, token_id: int) -> str | None:
    from whatsapp.services import token_health_check

    token_row = AccessToken.objects.select_related("account").filter(pk=token_id, is_current=True).first()
    if token_row is None or token_row.token is None:
        return None  # rotated or erased since the fan-out
    return token_health_check(token_row=token_row)


@platform_job("expire Embedded Signup sessions")
def expire_onboarding_sessions() -> int:
    from whatsapp.onboarding import expire_onboarding_sessions as expire

    return expire()
