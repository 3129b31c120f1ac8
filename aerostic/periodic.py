"""The periodic jobs the scheduler enqueues (`manage.py rqcron aerostic.cron` registers them).

Part of the project frame: it names jobs of every app (as dotted paths), so no app imports it.
"""

from __future__ import annotations

from dataclasses import dataclass

from aerostic.core.queues import CAMPAIGNS, DEFAULT, LOW, SENDS, WEBHOOKS


@dataclass(frozen=True)
class PeriodicJob:
    func: str  # dotted path, imported by the scheduler
    queue: str
    cron: str  # UTC
    description: str


PERIODIC_JOBS: list[PeriodicJob] = [
    PeriodicJob("aerostic.core.jobs_periodic.evaluate_alert_rules", DEFAULT, "* * * * *", "Alert rules and notices"),
    PeriodicJob("aerostic.core.jobs_periodic.purge_old_audit_events", LOW, "30 3 * * *", "Audit retention"),
    PeriodicJob("tenants.jobs.expire_invitations", LOW, "0 0 * * *", "Clean up expired invitations"),
    PeriodicJob("whatsapp.jobs.check_all_tokens", LOW, "0 2 * * *", "WhatsApp token health (debug_token)"),
    PeriodicJob("whatsapp.jobs.expire_onboarding_sessions", LOW, "5 0 * * *", "Expire Embedded Signup sessions"),
    PeriodicJob("whatsapp.jobs.sweep_pending_webhooks", WEBHOOKS, "*/5 * * * *", "Re-enqueue stale webhook events"),
    PeriodicJob("whatsapp.jobs.sweep_outbound", SENDS, "* * * * *", "Outbound: due retries, lost answers"),
    PeriodicJob("campaigns.jobs.sweep_campaigns", CAMPAIGNS, "* * * * *", "Campaigns: schedule, lost batches"),
    PeriodicJob("whatsapp.jobs.purge_webhook_events", LOW, "15 0 * * *", "Purge old webhook events"),
    PeriodicJob("whatsapp.jobs.sync_all_templates", LOW, "45 2 * * *", "Sync message templates from Meta"),
    PeriodicJob("inbox.jobs.ensure_message_partitions", LOW, "30 1 * * *", "Create next months' message partitions"),
    PeriodicJob("inbox.jobs.wake_snoozed_conversations", DEFAULT, "* * * * *", "Inbox: wake snoozed conversations"),
    PeriodicJob("compliance.jobs.purge_expired_message_bodies", LOW, "20 1 * * *", "Message body retention"),
    PeriodicJob("contacts.jobs.purge_expired_imports", LOW, "25 0 * * *", "Expire unfinished imports, error reports"),
    PeriodicJob("compliance.jobs.apply_pending_user_preferences", LOW, "7 * * * *", "WhatsApp stop/resume → consent"),
]
