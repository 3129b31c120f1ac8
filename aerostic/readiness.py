"""The production-readiness verdict, from live checks (`manage.py production_readiness` and the
platform console's page): the seed checklist's gates, each true or false with its reason.

Part of the project frame: it reads every app (accounts, templates, the message store, webhook
events, campaigns, the kill-switch), so no app imports it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from aerostic.core.checks import DatabaseRoleRefused, database_role_status
from aerostic.core.tenant_context import platform_context

DEFAULT_DAYS = 7
# Secrets staging and production read from the environment (never generated).
_SECRETS = ("SECRET_KEY", "TOKEN_ENCRYPTION_KEYS", "BLIND_INDEX_KEY", "META_APP_SECRET", "META_WEBHOOK_VERIFY_TOKEN")
# The gates in the order the report lists them; the verdict is PASS only when all hold.
GATES = (
    "real_waba_connected",
    "template_approved",
    "real_messages_delivered",
    "webhooks_working",
    "campaign_engine_verified",
    "safe_for_deployment",
    "ready_for_build_and_deploy",
)


@dataclass
class Verdict:
    gates: dict[str, bool] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    checked_at: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.gates) and all(self.gates.values())

    def record(self, gate: str, problems: list[str]) -> None:
        self.gates[gate] = not problems
        if problems:
            self.reasons[gate] = " ".join(problems)

    def as_dict(self) -> dict[str, Any]:
        return {
            "production_readiness": "PASS" if self.passed else "FAIL",
            **self.gates,
            "reasons": self.reasons,
            "checked_at": self.checked_at,
        }


def production_readiness(*, days: int = DEFAULT_DAYS) -> Verdict:
    verdict = Verdict(checked_at=timezone.now().isoformat(timespec="seconds"))
    since = timezone.now() - timedelta(days=days)
    with platform_context("production readiness"):
        verdict.record("real_waba_connected", _real_waba_connected())
        verdict.record("template_approved", _template_approved())
        verdict.record("real_messages_delivered", _real_messages_delivered(since, days))
        verdict.record("webhooks_working", _webhooks_working(since, days))
        verdict.record("campaign_engine_verified", _campaign_engine_verified())
        verdict.record("safe_for_deployment", _safe_for_deployment())
    verdict.record("ready_for_build_and_deploy", _ready_for_build_and_deploy(verdict))
    return verdict


def _real_accounts() -> Any:
    from whatsapp.models import WhatsAppAccount

    return WhatsAppAccount.all_tenants.filter(mode=WhatsAppAccount.Mode.REAL, status=WhatsAppAccount.Status.CONNECTED)


def _real_waba_connected() -> list[str]:
    from whatsapp.models import PhoneNumber

    if not _real_accounts().exists():
        return ["No WhatsApp Business Account outside the sandbox is connected."]
    numbers = PhoneNumber.all_tenants.filter(account__in=_real_accounts(), is_active=True)
    if not numbers.filter(is_registered=True).exists():
        return ["A real account is connected, but none of its numbers is registered with the Cloud API."]
    if not numbers.filter(is_registered=True).exclude(quality_rating__in=["", "UNKNOWN", "NA"]).exists():
        return ["No registered real number has a quality rating from Meta yet (run its connection check)."]
    return []


def _template_approved() -> list[str]:
    from whatsapp.models import MessageTemplate

    approved = MessageTemplate.all_tenants.filter(account__in=_real_accounts(), status=MessageTemplate.Status.APPROVED)
    return [] if approved.exists() else ["No message template of a real account is approved by Meta."]


def _real_messages_delivered(since: Any, days: int) -> list[str]:
    from inbox.models import Message

    delivered = Message.all_tenants.filter(
        created_at__gte=since,
        direction=Message.Direction.OUTBOUND,
        status__in=[Message.Status.DELIVERED, Message.Status.READ],
        conversation__phone_number__account__in=_real_accounts(),
    )
    if delivered.exists():
        return []
    return [f"No message from a real number was delivered in the last {days} days (Meta's delivered status)."]


def _webhooks_working(since: Any, days: int) -> list[str]:
    from whatsapp.models import WebhookEvent
    from whatsapp.selectors import dead_webhook_count

    problems = []
    if not _real_accounts().filter(webhooks_subscribed=True).exists():
        problems.append("No real account has the app subscribed to its webhooks.")
    processed = WebhookEvent.all_tenants.filter(status=WebhookEvent.Status.PROCESSED, processed_at__gte=since)
    if not processed.exists():
        problems.append(f"No signed webhook delivery from Meta was processed in the last {days} days.")
    if dead_webhook_count():
        problems.append("Dead webhook events are waiting: inspect and replay them.")
    return problems


def _campaign_engine_verified() -> list[str]:
    from campaigns.models import Campaign, CampaignMessage

    finished = Campaign.all_tenants.filter(status=Campaign.Status.COMPLETED, phone_number__account__in=_real_accounts())
    delivered = CampaignMessage.all_tenants.filter(
        campaign__in=finished, state__in=[CampaignMessage.State.DELIVERED, CampaignMessage.State.READ]
    )
    if delivered.exists():
        return []
    return ["No campaign from a real number has completed with a delivered message."]


def _safe_for_deployment() -> list[str]:
    from compliance.models import PlatformSwitch

    problems = []
    if not settings.IS_PRODUCTION:
        problems.append(f"DJANGO_ENV is {settings.DJANGO_ENV}, not production.")
    if settings.DEBUG:
        problems.append("DEBUG is on.")
    if settings.SANDBOX_ENABLED:
        problems.append("The sandbox is enabled.")
    unset = [name for name in _SECRETS if not os.environ.get(name)]
    if unset:
        problems.append(f"Secrets not set in the environment: {', '.join(unset)}.")
    try:
        role = database_role_status(connection)
        if not role.obeys_rls:
            problems.append(f"The database role {role.name} bypasses row-level security.")
    except DatabaseRoleRefused as refused:
        problems.append(f"The database role {refused.status.name} bypasses row-level security.")
    https = (
        getattr(settings, "SECURE_SSL_REDIRECT", False)
        and settings.SESSION_COOKIE_SECURE
        and settings.CSRF_COOKIE_SECURE
        and getattr(settings, "SECURE_HSTS_SECONDS", 0) > 0
    )
    if not https:
        problems.append("HTTPS is not enforced (SSL redirect, secure cookies and HSTS).")
    try:
        PlatformSwitch.objects.filter(pk=PlatformSwitch.SINGLETON_ID).exists()
    except Exception as error:  # the switch must be readable, or nobody could stop sends
        problems.append(f"The global kill-switch cannot be read ({type(error).__name__}).")
    problems += _backups()
    return problems


def _backups() -> list[str]:
    """The backup job (docs/operations.md) writes the time of its last good dump to BACKUP_STATUS_FILE."""
    path = settings.BACKUP_STATUS_FILE
    if not path:
        return ["Backups are not configured (BACKUP_STATUS_FILE names no file the backup job writes)."]
    try:
        written = Path(path).stat().st_mtime
    except OSError:
        return [f"No backup has been recorded ({path} does not exist)."]
    age = timezone.now().timestamp() - written
    if age > settings.BACKUP_MAX_AGE_HOURS * 3600:
        return [f"The last backup is {age / 3600:.0f} hours old (more than {settings.BACKUP_MAX_AGE_HOURS})."]
    return []


def _ready_for_build_and_deploy(verdict: Verdict) -> list[str]:
    problems = []
    if not verdict.gates.get("safe_for_deployment"):
        problems.append("Not safe for deployment (above).")
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        problems.append(f"Migrations not applied: {len(pending)}.")
    from django.core import checks

    errors = [message for message in checks.run_checks(include_deployment_checks=True) if message.is_serious()]
    if errors:
        problems.append(
            f"System checks fail (manage.py check --deploy): {', '.join(sorted({e.id or '?' for e in errors}))}."
        )
    return problems
