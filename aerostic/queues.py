"""Queue names (worker priority order) and the periodic jobs the scheduler enqueues."""

from __future__ import annotations

from dataclasses import dataclass

# Mirrors settings.QUEUE_NAMES; the worker in the Procfile listens in this order.
WEBHOOKS = "webhooks"
SENDS = "sends"
CAMPAIGNS = "campaigns"
AI = "ai"
DEFAULT = "default"
LOW = "low"


@dataclass(frozen=True)
class PeriodicJob:
    func: str  # dotted path, imported by the scheduler
    queue: str
    cron: str  # UTC
    description: str


PERIODIC_JOBS: list[PeriodicJob] = [
    PeriodicJob("aerostic.core.jobs_periodic.purge_old_audit_events", LOW, "30 3 * * *", "Audit retention"),
    PeriodicJob("tenants.jobs.expire_invitations", LOW, "0 0 * * *", "Clean up expired invitations"),
    PeriodicJob("whatsapp.jobs.check_all_tokens", LOW, "0 2 * * *", "WhatsApp token health (debug_token)"),
    PeriodicJob("whatsapp.jobs.expire_onboarding_sessions", LOW, "5 0 * * *", "Expire Embedded Signup sessions"),
    PeriodicJob("whatsapp.jobs.sweep_pending_webhooks", WEBHOOKS, "*/5 * * * *", "Re-enqueue stale webhook events"),
    PeriodicJob("whatsapp.jobs.purge_webhook_events", LOW, "15 0 * * *", "Purge old webhook events"),
    PeriodicJob("inbox.jobs.ensure_message_partitions", LOW, "30 1 * * *", "Create next months' message partitions"),
]
