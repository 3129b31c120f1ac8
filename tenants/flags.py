"""Feature flags decided per workspace: django-waffle's flag model (settings.WAFFLE_FLAG_MODEL),
so waffle's cache, template tag (`{% flag "name" %}`) and `waffle.flag_is_active(request, name)`
work, with a decision made from the workspace instead of the person or a cookie:

1. killed: off for every workspace, whatever else is set (a feature misbehaving in production);
2. a denied workspace: off; an allowed one: on;
3. `everyone` yes / no: on / off for all the others;
4. `percent`: on for that share of workspaces, chosen by a stable hash of the flag's name and the
   workspace id, so a workspace keeps its answer, raising the percentage only adds workspaces, and
   two flags at 10 % do not land on the same tenth;
5. otherwise off (a flag nobody created is off).

Code outside a request (jobs, the AI, automations) asks `flag_enabled(name, tenant)`. The model
keeps waffle's user and group lists (waffle's signals expect them) but never reads them: a
workspace's feature is on or off for all its people alike.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import models, transaction
from django.db.models.signals import m2m_changed
from django.http import HttpRequest
from waffle.models import AbstractUserFlag

# Buckets of the stable hash: percentages have one decimal (waffle's field), so 1,000 buckets.
_BUCKETS = 1000


def rollout_bucket(name: str, tenant_id: int) -> int:
    """The workspace's place (0–999) in this flag's rollout order."""
    digest = hashlib.sha256(f"{name}:{tenant_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % _BUCKETS


class WorkspaceFlag(AbstractUserFlag):
    everyone = models.BooleanField(
        null=True,
        blank=True,
        help_text="Yes: on for every workspace; No: off for every workspace (the lists still win). "
        "Unknown: the percentage decides.",
    )
    percent = models.DecimalField(
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="Share of workspaces (0.0–99.9) the flag is on for, picked by a stable hash of the "
        "flag's name and the workspace: raising it only adds workspaces.",
    )
    killed = models.BooleanField(
        default=False, help_text="Off for every workspace, whatever else is set (allowed ones included)."
    )
    killed_reason = models.CharField(max_length=255, blank=True)
    allowed = models.ManyToManyField(
        "tenants.Tenant",
        blank=True,
        related_name="+",
        verbose_name="allowed workspaces",
        help_text="Always on for these workspaces (unless killed).",
    )
    denied = models.ManyToManyField(
        "tenants.Tenant",
        blank=True,
        related_name="+",
        verbose_name="denied workspaces",
        help_text="Always off for these workspaces.",
    )

    class Meta:
        verbose_name = "feature flag"
        verbose_name_plural = "feature flags"

    @classmethod
    def get_from_db(cls, name: str) -> WorkspaceFlag:
        # Cached whole by waffle (the lists with it), flushed when the flag or its lists change.
        rows: models.QuerySet[WorkspaceFlag] = models.QuerySet(model=cls)  # waffle's manager is typed for its base
        return rows.prefetch_related("allowed", "denied").get(name=name)

    def _ids(self, relation: str) -> set[int]:
        if not self.pk:
            return set()
        return {tenant.pk for tenant in getattr(self, relation).all()}

    def is_active_for_tenant(self, tenant_id: int | None) -> bool:
        if not self.pk or self.killed or tenant_id is None:
            return False
        if tenant_id in self._ids("denied"):
            return False
        if tenant_id in self._ids("allowed"):
            return True
        if self.everyone is not None:
            return bool(self.everyone)
        if self.percent:
            return rollout_bucket(self.name, tenant_id) < int(self.percent * _BUCKETS / 100)
        return False

    def is_active(self, request: HttpRequest, read_only: bool = False) -> bool:
        """waffle's entry point (template tag, decorators): the request's workspace decides."""
        tenant = getattr(request, "tenant", None)
        return self.is_active_for_tenant(getattr(tenant, "pk", None))

    def state(self) -> str:
        """One word for lists: killed, on, off, rollout N %, or by list."""
        if self.killed:
            return "killed"
        if self.everyone is not None:
            return "on" if self.everyone else "off"
        if self.percent:
            return f"rollout {float(self.percent):g} %"
        return "lists only"


def _flush_after_list_change(sender: Any, instance: Any, action: str, **kwargs: Any) -> None:
    """waffle flushes its cache when a flag is saved; its lists change after that (the console
    saves them apart), so a change to either list flushes it too, once committed."""
    if action.startswith("post_") and isinstance(instance, WorkspaceFlag):
        transaction.on_commit(instance.flush)


m2m_changed.connect(_flush_after_list_change, sender=WorkspaceFlag.allowed.through)
m2m_changed.connect(_flush_after_list_change, sender=WorkspaceFlag.denied.through)


def flag_enabled(name: str, tenant: Any) -> bool:
    """Whether the feature `name` is on for this workspace (a Tenant or its id), outside a request."""
    flag = WorkspaceFlag.get(name)  # waffle's cached read
    return flag.is_active_for_tenant(getattr(tenant, "pk", tenant))
