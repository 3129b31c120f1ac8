"""Jobs of the WhatsApp app: the nightly token health check fans out one job per token."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.utils import timezone

from aerostic.core.jobs import enqueue_on_commit, platform_job, tenant_job
from aerostic.core.queues import LOW
from whatsapp.models import AccessToken

logger = logging.getLogger(__name__)


@platform_job("nightly WhatsApp token health check")
def check_all_tokens() -> int:
    rows = list(AccessToken.all_tenants.filter(is_current=True).exclude(token=None).values_list("tenant_id", "pk"))
    for tenant_id, token_id in rows:
        enqueue_on_commit(check_token, queue=LOW, tenant_id=tenant_id, token_id=token_id)
    return len(rows)


@tenant_job
def check_token(*, tenant_id: int, token_id: int) -> str | None:
    from whatsapp.connections.tokens import token_health_check

    token_row = AccessToken.objects.select_related("account").filter(pk=token_id, is_current=True).first()
    if token_row is None or token_row.token is None:
        return None  # rotated or erased since the fan-out
    return token_health_check(token_row=token_row)


@platform_job("expire Embedded Signup sessions")
def expire_onboarding_sessions() -> int:
    from whatsapp.connections.onboarding import onboarding_sessions_expire

    return onboarding_sessions_expire()


@platform_job("nightly template sync")
def sync_all_templates() -> int:
    from whatsapp.models import WhatsAppAccount

    rows = list(
        WhatsAppAccount.all_tenants.filter(status=WhatsAppAccount.Status.CONNECTED).values_list("tenant_id", "pk")
    )
    for tenant_id, account_id in rows:
        enqueue_on_commit(sync_templates, queue=LOW, tenant_id=tenant_id, account_id=account_id)
    return len(rows)


@tenant_job
def sync_templates(*, tenant_id: int, account_id: int) -> dict[str, int] | None:
    from whatsapp.message_templates.services import templates_sync
    from whatsapp.models import WhatsAppAccount

    account = WhatsAppAccount.objects.filter(pk=account_id, status=WhatsAppAccount.Status.CONNECTED).first()
    if account is None:
        return None
    result = templates_sync(account=account)
    return {"created": result.created, "updated": result.updated, "deleted": result.deleted}


# ---- webhooks ----------------------------------------------------------------------------------


@platform_job("process a webhook event", atomic=False)
def process_webhook_event(*, event_id: int) -> str | None:
    """One stored webhook (a retry, a replay): a batch of one (whatsapp/webhooks/batches.py)."""
    from whatsapp.webhooks.batches import process_events

    counts = process_events([event_id])
    return next(iter(counts), None)


@platform_job("drain ready webhook events", atomic=False)
def drain_webhook_events(*, slot: int) -> int:
    """Processes the events intake marked ready (whatsapp/webhooks/ready.py), in batches."""
    from whatsapp.webhooks.ready import drain

    return drain(slot)


@platform_job("re-enqueue stale webhook events")
def sweep_pending_webhooks(*, older_than: timedelta = timedelta(minutes=1)) -> int:
    """Pending events older than a minute (Redis was down at intake, or a retry was lost) and
    processing ones left by a killed worker go back on the queue. Enqueuing an event twice is
    harmless (see process_webhook_event). Also run by every worker as it starts."""
    from django.db.models import Q

    from whatsapp.models import WebhookEvent
    from whatsapp.webhooks.intake import enqueue_processing

    now = timezone.now()
    stale = WebhookEvent.all_tenants.filter(
        Q(status=WebhookEvent.Status.PENDING, received_at__lt=now - older_than)
        | Q(status=WebhookEvent.Status.PROCESSING, received_at__lt=now - max(older_than, timedelta(minutes=2)))
    ).values_list("pk", flat=True)[:5000]
    ids = list(stale)
    for start in range(0, len(ids), 500):
        enqueue_processing(*ids[start : start + 500])
    return len(ids)


@platform_job("purge old webhook events")
def purge_webhook_events() -> int:
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from whatsapp.models import WebhookEvent

    cutoff = timezone.now() - timedelta(days=settings.WEBHOOK_RETENTION_DAYS)
    deleted, _ = WebhookEvent.all_tenants.filter(
        status__in=[WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED, WebhookEvent.Status.DEAD],
        received_at__lt=cutoff,
    ).delete()
    return deleted


@tenant_job(atomic=False)
def send_outbound(*, tenant_id: int, phone_id: int | None = None, message_id: int | None = None) -> dict[str, Any]:
    """A number's due one-off sends through the one send path (whatsapp/sending/). Not one
    transaction: each chunk's claim commits before Meta is called, so a crash leaves `sending`,
    never a second send. `message_id` (jobs enqueued before streams, tests): that message's number."""
    from whatsapp.dispatch import drain  # dispatch enqueues this job: a cycle inside whatsapp
    from whatsapp.models import OutboundMessage

    if phone_id is None:
        if message_id is not None:
            phone_id = OutboundMessage.objects.filter(pk=message_id).values_list("phone_number_id", flat=True).first()
        if phone_id is None:
            return {"result": "gone"}
    return drain(phone_id)


@platform_job("sends: lost answers, due retries, lost stream jobs")
def sweep_outbound() -> dict[str, int]:
    """Every minute: the one sweeper of sends, one-off and campaign (whatsapp/sending/sweeper.py)."""
    from whatsapp.sending.sweeper import sweep

    return sweep()
