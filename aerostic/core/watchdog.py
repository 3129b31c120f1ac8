"""The watchdog (`manage.py alert_watchdog`, its own process): sees Redis or Postgres go down from
a process that survives it, and tells the platform's channels directly.

The alert rules run on a worker the scheduler feeds through Redis, and record their alerts in
Postgres: neither can report its own outage. The watchdog checks both every
ALERT_WATCHDOG_INTERVAL_SECONDS; after ALERT_WATCHDOG_FAILURES failed checks in a row a service is
down: a notice goes to ALERT_EMAILS / ALERT_SLACK_WEBHOOK_URL straight away (tried again every
round until one channel took it), and when the service answers again, a recovery notice. Each
outage is also an Alert row (`watchdog:redis`, `watchdog:postgres`) for the console's history,
written as soon as Postgres answers, marked as told so aerostic.core.alert_notices does not tell it
again. While Postgres answers, the watchdog also delivers the other alerts' notices, so they reach
people while Redis, and with it the scheduler, is down.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from aerostic.core import alert_notices
from aerostic.core.models import Alert
from aerostic.core.tenant_context import platform_context

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 3


def redis_answers(url: str) -> None:
    client = redis.Redis.from_url(
        url, socket_timeout=CHECK_TIMEOUT_SECONDS, socket_connect_timeout=CHECK_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()


def postgres_answers() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        with contextlib.suppress(Exception):  # a dead connection may fail to close; the next check reconnects
            connection.close()
        raise


@dataclass
class Service:
    """One checked service and its outage, if any: opened after enough failed checks, closing once
    it answers again, closed when the recovery is told and recorded."""

    name: str
    label: str
    check: Callable[[], None]
    failures: int = 0
    first_failure: datetime | None = None
    last_error: str = ""
    down_since: datetime | None = None  # an outage is open
    up_at: datetime | None = None  # it answers again: the outage is closing
    down_told: bool = False
    recovery_told: bool = False
    recorded: bool = False  # its Alert row is written
    recovery_recorded: bool = False

    def observe(self, error: Exception | None, now: datetime, threshold: int) -> None:
        if error is None:
            self.failures = 0
            if self.down_since is not None and self.up_at is None:
                self.up_at = now
                logger.warning("watchdog: service back", extra={"service": self.name})
            return
        self.failures += 1
        self.last_error = type(error).__name__
        if self.failures == 1:
            self.first_failure = now
        if self.down_since is not None:
            self.up_at = None  # failing again before the outage closed: the same outage
        elif self.failures >= threshold:
            self.down_since = self.first_failure or now
            logger.error("watchdog: service down", extra={"service": self.name, "error": self.last_error})

    def close_if_done(self) -> None:
        if self.up_at is not None and self.recovery_told and self.recovery_recorded:
            self.down_since = self.up_at = None
            self.down_told = self.recovery_told = self.recorded = self.recovery_recorded = False


@dataclass
class Watchdog:
    services: list[Service] = field(default_factory=list)
    channels: Callable[[], list[alert_notices.Channel]] = alert_notices.platform_channels

    @classmethod
    def for_settings(cls) -> Watchdog:
        return cls(
            [
                Service("redis", "Redis", lambda: redis_answers(settings.REDIS_URL)),
                Service("postgres", "Postgres", postgres_answers),
            ]
        )

    def tick(self) -> dict[str, Any]:
        """One round: check, tell, record; then deliver the other notices owed. Never raises."""
        threshold = max(1, settings.ALERT_THRESHOLDS.watchdog_failures)
        now = timezone.now()
        for service in self.services:
            try:
                service.check()
            except Exception as error:  # any failure to answer is, for us, the service being down
                service.observe(error, now, threshold)
            else:
                service.observe(None, now, threshold)
            self._tell(service)
        delivered: dict[str, int] = {}
        if all(service.failures == 0 for service in self.services if service.name == "postgres"):
            for service in self.services:
                self._record(service)
            try:
                delivered = alert_notices.deliver_notices(max_batches=2)
            except Exception:
                logger.exception("watchdog: delivering notices failed")
        for service in self.services:
            service.close_if_done()
        return {"down": [s.name for s in self.services if s.down_since and not s.up_at], "notices": delivered}

    def _tell(self, service: Service) -> None:
        if service.down_since is None:
            return
        if service.up_at is None:
            if not service.down_told:
                service.down_told = self._send(*self._down_text(service))
        elif not service.recovery_told:
            # Back before anyone was told of it: nothing to say.
            service.recovery_told = self._send(*self._recovery_text(service)) if service.down_told else True

    def _send(self, subject: str, body: str) -> bool:
        told = False
        for channel in self.channels():
            try:
                alert_notices.send(channel, subject, body)
                told = True
            except alert_notices.NoticeFailed as failure:
                logger.warning(
                    "watchdog: notice not delivered", extra={"channel": channel.label, "error": str(failure)}
                )
        return told

    @staticmethod
    def _down_text(service: Service) -> tuple[str, str]:
        return (
            f"[Aerostic] Critical: {service.label} unreachable",
            f"{service.label} has not answered since {service.down_since:%Y-%m-%d %H:%M:%S} UTC"
            f" ({service.last_error}). Webhooks, sends and campaigns stop or queue up until it is back."
            " See docs/operations.md.",
        )

    @staticmethod
    def _recovery_text(service: Service) -> tuple[str, str]:
        return (
            f"[Aerostic] Resolved: {service.label} reachable again",
            f"{service.label} answers again since {service.up_at:%Y-%m-%d %H:%M:%S} UTC; it was"
            f" unreachable from {service.down_since:%Y-%m-%d %H:%M:%S} UTC.",
        )

    def _record(self, service: Service) -> None:
        """The outage as an Alert row, once Postgres answers; the watchdog tells it, so the row is
        marked as told and aerostic.core.alert_notices leaves it alone."""
        if service.down_since is None:
            return
        key = f"watchdog:{service.name}"
        try:
            with platform_context("watchdog"):
                if not service.recorded:
                    Alert.all_tenants.filter(tenant=None, key=key, resolved_at=None).update(resolved_at=timezone.now())
                    Alert.all_tenants.create(
                        tenant=None,
                        key=key,
                        level=Alert.Level.CRITICAL,
                        title=f"{service.label} unreachable",
                        detail=self._down_text(service)[1],
                        notified_at=timezone.now(),
                    )
                    service.recorded = True
                if service.up_at is not None and not service.recovery_recorded:
                    Alert.all_tenants.filter(tenant=None, key=key, resolved_at=None).update(
                        resolved_at=service.up_at, recovery_notified_at=timezone.now()
                    )
                    service.recovery_recorded = True
        except Exception:
            logger.exception("watchdog: recording the outage failed", extra={"service": service.name})


def run_forever(watchdog: Watchdog, *, interval: float, stop: Callable[[], bool]) -> None:
    while not stop():
        started = time.monotonic()
        watchdog.tick()
        while not stop() and time.monotonic() - started < interval:
            time.sleep(min(1.0, interval))
