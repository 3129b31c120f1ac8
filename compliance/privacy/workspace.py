"""GDPR / LGPD for a whole workspace: erase every row of every tenant table, then the workspace,
once it is closed (the request from the Django admin closes it and queues the job)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import connection, models, transaction

from accounts.models import User
from aerostic.core import audit, queues
from aerostic.core.errors import Conflict
from aerostic.core.jobs import enqueue_on_commit
from aerostic.core.tenant_context import platform_context, tenant_context
from aerostic.core.tenant_scoped import TenantScopedModel
from compliance.consent import ledger_unlocked
from compliance.privacy.registry import personal_data_handlers
from tenants.models import Tenant

ERASE_JOB_TIMEOUT = 60 * 60


class TenantStillActive(Conflict):
    """A workspace is erased only once it is closed (or when the caller forces it)."""


class TenantEraseIncomplete(RuntimeError):
    """Rows of the workspace were still there after the deletes: the erase was rolled back."""


def tenant_scoped_models() -> list[type[TenantScopedModel]]:
    """Every concrete tenant-owned model, children before the models they point to, so each
    DELETE finds nothing left referring to its rows (FK checks are deferred anyway, PROTECT is
    Django's, not the database's: this order is for readability and for future strict FKs)."""
    remaining = [
        model
        for model in apps.get_models()
        if issubclass(model, TenantScopedModel) and not model._meta.abstract and not model._meta.proxy
    ]
    ordered: list[type[TenantScopedModel]] = []
    while remaining:
        referenced = {
            field.related_model
            for model in remaining
            for field in model._meta.concrete_fields
            if field.is_relation and field.related_model is not model and field.name != "tenant"
        }
        leaves = [model for model in remaining if model not in referenced] or remaining[:1]  # a cycle: any
        ordered.extend(leaves)
        remaining = [model for model in remaining if model not in leaves]
    return ordered


def _delete_auditlog_entries(model: type[models.Model], tenant_id: int) -> int:
    """django-auditlog's diffs of this workspace's rows (names, e-mail addresses) go with the rows."""
    from auditlog.models import LogEntry
    from auditlog.registry import auditlog
    from django.contrib.contenttypes.models import ContentType

    if not auditlog.contains(model):
        return 0
    pks = model.all_tenants.filter(tenant_id=tenant_id).values("pk")  # type: ignore[attr-defined]
    return LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model), object_id__in=pks).delete()[0]


def _delete_tenant_rows(tenant_id: int) -> tuple[dict[str, int], int]:
    """Raw DELETEs (no signals: auditlog would write each deleted contact's name into a new diff)."""
    deleted: dict[str, int] = {}
    log_entries = 0
    with connection.cursor() as cursor, ledger_unlocked():
        for model in tenant_scoped_models():
            table = model._meta.db_table
            log_entries += _delete_auditlog_entries(model, tenant_id)
            for m2m in model._meta.local_many_to_many:
                through = m2m.remote_field.through
                if through is not None and through._meta.auto_created:  # a many-to-many always has one
                    column = m2m.m2m_column_name()
                    cursor.execute(
                        f'DELETE FROM "{through._meta.db_table}" WHERE "{column}" IN '  # noqa: S608  (our tables)
                        f'(SELECT id FROM "{table}" WHERE tenant_id = %s)',
                        [tenant_id],
                    )
            # inbox_message is partitioned: deleting through the parent reaches every partition.
            cursor.execute(f'DELETE FROM "{table}" WHERE tenant_id = %s', [tenant_id])  # noqa: S608
            deleted[table] = cursor.rowcount
    return deleted, log_entries


def tenant_rows_remaining(tenant_id: int) -> dict[str, int]:
    """Rows per tenant table, counted in the platform scope so RLS cannot hide a leftover."""
    counts: dict[str, int] = {}
    with platform_context("gdpr: verify a workspace erase"), connection.cursor() as cursor:
        for model in tenant_scoped_models():
            table = model._meta.db_table
            cursor.execute(f'SELECT count(*) FROM "{table}" WHERE tenant_id = %s', [tenant_id])  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def tenant_erase(*, tenant_id: int, actor_id: int | None = None, force: bool = False) -> dict[str, Any]:
    """Deletes every row of every tenant table of the workspace, then the workspace itself.

    Refuses an active workspace unless `force`: the erase request (Django admin) closes it and
    stops its sending first, so members and webhooks stop adding data before the job runs. The
    deletes run in the tenant's own scope (RLS makes touching another workspace impossible), in one
    transaction holding the Tenant row FOR UPDATE: a concurrent insert referencing the workspace
    waits, then fails, instead of leaving a row behind. Zero rows must remain in every tenant table
    (counted in the platform scope) or everything rolls back. Tenant.Status has no "erased", so the
    Tenant row is deleted; platform-wide audit events (`tenant.erase_started` / `_completed`) keep
    its id and name. User accounts are platform-wide and stay (a person may belong elsewhere).
    """
    with platform_context("gdpr: workspace erase"):
        tenant = Tenant.objects.filter(pk=tenant_id).first()
        if tenant is None:
            return {"tenant_id": tenant_id, "erased": False, "reason": "no such workspace"}
        if tenant.is_active and not force:
            raise TenantStillActive(f"Workspace {tenant_id} is active: close it before erasing it.")
        actor = User.objects.filter(pk=actor_id).first() if actor_id else None
        identity = {"tenant_id": tenant.pk, "tenant_name": tenant.name}
        # Its own transaction: a failed erase still leaves the attempt in the trail.
        audit.record("tenant.erase_started", actor=actor, target=tenant, metadata={**identity, "forced": force})

    with transaction.atomic():
        with platform_context("gdpr: workspace erase"):
            Tenant.objects.select_for_update().get(pk=tenant_id)
        with tenant_context(tenant_id):
            for _name, handler in personal_data_handlers():
                if handler.erase_workspace is not None:  # what is kept outside the rows (files)
                    handler.erase_workspace(tenant_id=tenant_id)
            deleted, log_entries = _delete_tenant_rows(tenant_id)
        remaining = tenant_rows_remaining(tenant_id)
        if any(remaining.values()):
            left = {table: count for table, count in remaining.items() if count}
            raise TenantEraseIncomplete(f"Workspace {tenant_id} still has rows in {left}; nothing was erased.")
        with platform_context("gdpr: workspace erase"):
            Tenant.objects.filter(pk=tenant_id).delete()
            audit.record(
                "tenant.erase_completed",
                actor=actor,
                target=tenant,
                metadata={**identity, "deleted": deleted, "remaining": remaining, "auditlog_entries": log_entries},
            )
    return {**identity, "erased": True, "deleted": deleted, "remaining": remaining}


@transaction.atomic
def tenant_erase_request(*, tenant: Tenant, actor: Any, request: Any = None) -> None:
    """Closes the workspace, stops its sending and queues `compliance.jobs.erase_tenant` after commit."""
    from compliance.jobs import erase_tenant  # the job module imports this package: a real cycle

    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    locked.status = Tenant.Status.CLOSED
    locked.sending_enabled = False
    locked.sending_disabled_reason = "Workspace erase requested"
    locked.save(update_fields=["status", "sending_enabled", "sending_disabled_reason", "updated_at"])
    audit.record(
        "tenant.erase_requested",
        actor=actor,
        target=locked,
        request=request,
        metadata={"tenant_id": locked.pk, "tenant_name": locked.name},
    )
    enqueue_on_commit(
        erase_tenant,
        queue=queues.LOW,
        tenant_id=locked.pk,
        actor_id=getattr(actor, "pk", None),
        job_timeout=ERASE_JOB_TIMEOUT,  # read by RQ, not passed to the job
    )
