"""WhatsApp's alert rules (aerostic.core.alert_rules, registered from WhatsappConfig.ready): the
webhook failure rate and dead events, a send failure spike, tokens about to expire. Each is one or
two aggregate queries for the whole platform, whatever the number of workspaces."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Q

from aerostic.core.alert_rules import counter_window
from aerostic.core.alerts import Firing
from aerostic.core.config import AlertThresholds
from aerostic.core.tenant_context import platform_context
from whatsapp.models import AccessToken, WebhookEvent
from whatsapp.selectors import dead_webhook_count


def webhook_failures(thresholds: AlertThresholds, now: datetime) -> list[Firing]:
    """Of the events received in the window, the share whose processing failed at least once."""
    since = now - timedelta(minutes=thresholds.window_minutes)
    with platform_context("alert rules"):
        counts = WebhookEvent.all_tenants.filter(received_at__gte=since).aggregate(
            total=Count("id"),
            failed=Count("id", filter=Q(status=WebhookEvent.Status.DEAD) | ~Q(last_error="")),
        )
    total, failed = counts["total"], counts["failed"]
    if total < thresholds.webhook_failure_min_events or failed * 100 <= total * thresholds.webhook_failure_percent:
        return []
    return [
        Firing(
            None,
            "rule:webhook-failures:platform",
            f"Webhook processing failing: {failed * 100 / total:.0f} % of the events"
            f" of the last {thresholds.window_minutes} minutes",
            f"{failed:,} of {total:,} webhook events received in the last {thresholds.window_minutes} minutes failed"
            " processing at least once (they are retried, then marked dead). See the webhook workers' logs and"
            " the events' last error in the console.",
            "critical",
        )
    ]


def dead_webhooks(thresholds: AlertThresholds, now: datetime) -> list[Firing]:
    dead = dead_webhook_count()
    if dead <= thresholds.dead_webhook_events:
        return []
    return [
        Firing(
            None,
            "rule:dead-webhooks:platform",
            f"{dead:,} dead webhook event{'s' if dead != 1 else ''}",
            "Webhook events failed every retry and wait for staff: read their last error in the console"
            " (Webhook events, status Dead), fix the cause, then replay them. This clears when none is left.",
            "critical",
        )
    ]


def send_failures(thresholds: AlertThresholds, now: datetime) -> list[Firing]:
    """Sends that ended in failure over the window, from the platform-wide send counter."""
    grown = counter_window("aerostic_sends", seconds=thresholds.window_minutes * 60)
    failed = sum(amount for (outcome, _), amount in grown.items() if outcome == "failed")
    ended = sum(amount for (outcome, _), amount in grown.items() if outcome in ("sent", "failed"))
    if ended < thresholds.send_failure_min_sends or failed * 100 <= ended * thresholds.send_failure_percent:
        return []
    codes: dict[str, int] = {}
    for (outcome, code), amount in grown.items():
        if outcome == "failed":
            codes[code or "none"] = codes.get(code or "none", 0) + int(amount)
    top = ", ".join(f"{code} ×{amount}" for code, amount in sorted(codes.items(), key=lambda item: -item[1])[:5])
    return [
        Firing(
            None,
            "rule:send-failures:platform",
            f"Send failures: {failed * 100 / ended:.0f} % in the last {thresholds.window_minutes} minutes",
            f"{int(failed):,} of {int(ended):,} sends failed (Meta error codes: {top}). See the failed messages'"
            " reasons; a code common to one workspace points at its account or templates.",
            "critical",
        )
    ]


def token_expiry(thresholds: AlertThresholds, now: datetime) -> list[Firing]:
    soon = now + timedelta(days=thresholds.token_expiry_days)
    with platform_context("alert rules"):
        tokens = list(
            AccessToken.all_tenants.filter(is_current=True, expires_at__lt=soon)
            .exclude(status=AccessToken.Status.ERASED)
            .select_related("account")
        )
    firing = []
    for token in tokens:
        assert token.expires_at is not None  # noqa: S101 - filtered above
        expired = token.expires_at <= now
        firing.append(
            Firing(
                token.tenant_id,
                f"rule:token-expiry:{token.pk}",
                f"WhatsApp token of {token.account} {'has expired' if expired else 'expires'}"
                f" {token.expires_at:%Y-%m-%d %H:%M} UTC",
                "Reconnect the account with Embedded Signup or rotate its system-user token before then;"
                " after it, nothing can be sent from its numbers.",
                "critical" if expired or token.expires_at - now < timedelta(days=1) else "warning",
            )
        )
    return firing


def register() -> None:
    from aerostic.core.alert_rules import register_rule

    register_rule("webhook-failures", webhook_failures)
    register_rule("dead-webhooks", dead_webhooks)
    register_rule("send-failures", send_failures)
    register_rule("token-expiry", token_expiry)
