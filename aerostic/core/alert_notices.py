"""Alert notices: each alert told once to its channels when it opens, and once more when it clears.

Platform alerts (no workspace) go to the platform's channels (ALERT_EMAILS, ALERT_SLACK_WEBHOOK_URL);
a workspace's alerts to the workspace's AlertChannel rows at or above their level. `deliver_notices`
runs from the alert rules' job every minute and from the watchdog (aerostic.core.watchdog), which
keeps delivering while Redis, and so the scheduler, is down. An alert resolved before anyone was
told is never told (a blip).

Delivery is at least once: a deliverer claims a few alerts (notice_claimed_at, committed), sends
outside any transaction (Slack or SMTP may take seconds; a transaction must not idle that long),
then records the outcome. A channel that fails is tried again at the next run, up to
notice_max_attempts, and the alert names the failure (its admin page and the channel's last_error).
A notice never carries message bodies, phone numbers or secrets: only the alert's title and detail,
which the raising code writes for people.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from aerostic.core.models import Alert, AlertChannel
from aerostic.core.public_urls import private_target_problem
from aerostic.core.tenant_context import platform_context

logger = logging.getLogger(__name__)

SLACK_TIMEOUT_SECONDS = 5
CLAIM_SECONDS = 120  # a claim older than this belongs to a deliverer that died: taken again
BATCH = 20
_RANK: dict[str, int] = {Alert.Level.INFO: 0, Alert.Level.WARNING: 1, Alert.Level.CRITICAL: 2}
_OWED = Q(notified_at__isnull=True, resolved_at__isnull=True) | Q(
    recovery_notified_at__isnull=True, resolved_at__isnull=False, notified_at__isnull=False
)


class NoticeFailed(Exception):
    """A channel did not take the notice; the message says why, for people (no secrets)."""


@dataclass(frozen=True)
class Channel:
    label: str
    kind: str
    emails: tuple[str, ...] = ()
    slack_url: str = ""
    min_level: str = Alert.Level.INFO
    row_id: int | None = None  # the AlertChannel, for a workspace's channel


def platform_channels() -> list[Channel]:
    channels = []
    if settings.ALERT_EMAILS:
        channels.append(Channel("platform e-mail", AlertChannel.Kind.EMAIL, emails=tuple(settings.ALERT_EMAILS)))
    if settings.ALERT_SLACK_WEBHOOK_URL:
        channels.append(Channel("platform Slack", AlertChannel.Kind.SLACK, slack_url=settings.ALERT_SLACK_WEBHOOK_URL))
    return channels


def channel_of(row: AlertChannel) -> Channel:
    return Channel(
        row.name,
        row.kind,
        emails=tuple(address.strip() for address in row.emails.split(",") if address.strip()),
        slack_url=row.slack_webhook_url.reveal() if row.slack_webhook_url else "",
        min_level=row.min_level,
        row_id=row.pk,
    )


def _workspace_channels(tenant_ids: set[int]) -> dict[int, list[Channel]]:
    found: dict[int, list[Channel]] = {}
    for row in AlertChannel.all_tenants.filter(tenant_id__in=tenant_ids, enabled=True):
        found.setdefault(row.tenant_id, []).append(channel_of(row))
    return found


def notice_text(alert: Alert, *, recovered: bool) -> tuple[str, str]:
    """(subject, body) of a notice."""
    where = f"workspace {alert.tenant}" if alert.tenant_id else "the platform"
    if recovered:
        subject = f"[Aerostic] Resolved: {alert.title}"
        lines = [
            f"Resolved at {alert.resolved_at:%Y-%m-%d %H:%M} UTC ({where}).",
            f"It opened {alert.created_at:%Y-%m-%d %H:%M} UTC.",
        ]
    else:
        subject = f"[Aerostic] {alert.get_level_display()}: {alert.title}"
        lines = [f"Opened at {alert.created_at:%Y-%m-%d %H:%M} UTC ({where}).", alert.detail]
    lines.append("Acknowledge or resolve it on the Alerts page." if not recovered else "")
    return subject[:200], "\n".join(line for line in lines if line)


def send(channel: Channel, subject: str, body: str) -> None:
    """One notice to one channel; NoticeFailed when it did not take it."""
    if channel.kind == AlertChannel.Kind.EMAIL:
        if not channel.emails:
            raise NoticeFailed("no address")
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, list(channel.emails))
        except Exception as error:  # smtplib's errors, refused connections, timeouts
            raise NoticeFailed(f"e-mail not sent: {type(error).__name__}") from None
        return
    _refuse_private_target(channel.slack_url)
    try:
        answer = requests.post(
            channel.slack_url,
            json={"text": f"*{subject}*\n{body}"},
            timeout=SLACK_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.RequestException as error:
        raise NoticeFailed(f"Slack unreachable: {type(error).__name__}") from None
    if answer.status_code != 200:
        raise NoticeFailed(f"Slack answered {answer.status_code}")


def _refuse_private_target(url: str) -> None:
    problem = private_target_problem(url)
    if problem is not None:
        raise NoticeFailed(problem.replace("the URL", "the webhook URL"))


def send_test(row: AlertChannel) -> None:
    """A test notice to a workspace's channel (its page's "Send a test"); NoticeFailed says why not."""
    send(
        channel_of(row),
        "[Aerostic] Test notice",
        f"This is a test of the alert channel {row.name!r}. Alerts of level {row.get_min_level_display().lower()}"
        " and above will arrive here.",
    )


def _claim(tried: set[int]) -> list[Alert]:
    now = timezone.now()
    with platform_context("alert notices"), transaction.atomic():
        alerts = list(
            Alert.all_tenants.filter(_OWED)
            .exclude(pk__in=tried)
            .filter(Q(notice_claimed_at__isnull=True) | Q(notice_claimed_at__lt=now - timedelta(seconds=CLAIM_SECONDS)))
            .select_related("tenant")
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("id")[:BATCH]
        )
        Alert.all_tenants.filter(pk__in=[alert.pk for alert in alerts]).update(
            notice_claimed_at=now, notice_attempts=F("notice_attempts") + 1
        )
    for alert in alerts:
        alert.notice_attempts += 1
    return alerts


def deliver_notices(*, max_batches: int = 10) -> dict[str, int]:
    """Sends the notices owed (a few claimed batches per call). Returns counts for the caller's log."""
    counts = {"sent": 0, "failed": 0, "given_up": 0}
    limit = settings.ALERT_THRESHOLDS.notice_max_attempts
    tried: set[int] = set()  # a failed notice waits for the next run
    for _ in range(max_batches):
        alerts = _claim(tried)
        if not alerts:
            break
        tried.update(alert.pk for alert in alerts)
        with platform_context("alert notices"):
            channels = _workspace_channels({alert.tenant_id for alert in alerts if alert.tenant_id})
            platform = platform_channels()
            channel_results: dict[int, str] = {}
            for alert in alerts:
                _deliver_one(
                    alert,
                    platform if alert.tenant_id is None else channels.get(alert.tenant_id, []),
                    counts,
                    limit,
                    channel_results,
                )
            _record_channels(channel_results)
    return counts


def _deliver_one(
    alert: Alert, channels: list[Channel], counts: dict[str, int], limit: int, results: dict[int, str]
) -> None:
    recovered = alert.resolved_at is not None
    subject, body = notice_text(alert, recovered=recovered)
    errors = []
    for channel in channels:
        if _RANK.get(alert.level, 1) < _RANK.get(channel.min_level, 0):
            continue
        try:
            send(channel, subject, body)
        except NoticeFailed as failure:
            errors.append(f"{channel.label}: {failure}")
            if channel.row_id:
                results[channel.row_id] = str(failure)
        else:
            if channel.row_id:
                results.setdefault(channel.row_id, "")
    done = not errors or alert.notice_attempts >= limit
    changes: dict[str, Any] = {"notice_claimed_at": None, "notice_error": "; ".join(errors)[:255]}
    if done:
        changes["recovery_notified_at" if recovered else "notified_at"] = timezone.now()
        if not recovered:
            changes["notice_attempts"] = 0  # the recovery notice gets its own tries
    Alert.all_tenants.filter(pk=alert.pk).update(**changes)
    key = "given_up" if errors and done else "failed" if errors else "sent"
    counts[key] += 1
    if errors:
        logger.warning("alert notice not delivered", extra={"alert": alert.pk, "errors": errors, "given_up": done})


def _record_channels(results: dict[int, str]) -> None:
    now = timezone.now()
    for row_id, error in results.items():
        if error:
            AlertChannel.all_tenants.filter(pk=row_id).update(last_error=error[:255])
        else:
            AlertChannel.all_tenants.filter(pk=row_id).update(last_error="", last_delivered_at=now)
