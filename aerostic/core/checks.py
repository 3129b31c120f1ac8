"""Start-up checks: the database role must obey row-level security (DESIGN.md §2).

Superusers and BYPASSRLS roles skip every policy, so the RLS backstop would silently be off.
Production refuses such a role; development warns. Three places look:

- the first connection of every process (`connection_created`): gunicorn workers, the RQ worker
  and scheduler, management commands. Neither gunicorn nor rqworker runs Django's system checks,
  so this is what stops them: in production every connection of a refused role is closed and
  raises, so the process serves nothing and its errors name the role; the RQ worker also asks at
  start (aerostic.worker.SweepingWorker) and exits;
- `manage.py check --database default` (and migrate), as a system check;
- `/readyz`, which answers 503 so a load balancer keeps the process out of rotation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RoleStatus:
    name: str
    is_superuser: bool
    bypasses_rls: bool

    @property
    def obeys_rls(self) -> bool:
        return not (self.is_superuser or self.bypasses_rls)

    def problem(self) -> str:
        what = "a superuser" if self.is_superuser else "a BYPASSRLS role"
        return (
            f"The database role {self.name!r} is {what}: it skips row-level security, the backstop "
            "that keeps tenants apart. Connect as a role made NOSUPERUSER NOBYPASSRLS (see README, "
            "Operations)."
        )


class DatabaseRoleRefused(ImproperlyConfigured):
    def __init__(self, status: RoleStatus) -> None:
        super().__init__(status.problem())
        self.status = status


# Per process and database alias: the role does not change while the process lives.
_verdicts: dict[str, RoleStatus] = {}


def _query_role(connection: BaseDatabaseWrapper) -> RoleStatus:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        name, is_superuser, bypasses_rls = cursor.fetchone()
    return RoleStatus(name=name, is_superuser=is_superuser, bypasses_rls=bypasses_rls)


def database_role_status(connection: BaseDatabaseWrapper) -> RoleStatus:
    """The role of `connection` (connecting if needed); in production a refused role raises
    DatabaseRoleRefused, which carries the status."""
    connection.ensure_connection()  # a new connection runs the guard below
    return _verdicts.get(connection.alias) or _query_role(connection)


def guard_database_role(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """connection_created handler: check the role once per process, then hold the verdict."""
    if connection.vendor != "postgresql":
        return
    status = _verdicts.get(connection.alias)
    if status is None:
        status = _verdicts[connection.alias] = _query_role(connection)
        if not status.obeys_rls and not settings.IS_DEPLOYED:
            logger.warning("database role bypasses row-level security", extra={"role": status.name})
    if not status.obeys_rls and settings.IS_DEPLOYED:
        # Closed before raising: Django would otherwise keep the connection and use it next time
        # without asking again.
        connection.close()
        raise DatabaseRoleRefused(status)


@checks.register(checks.Tags.database)
def check_database_role(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    for alias in databases or []:
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        try:
            status = database_role_status(connection)
        except DatabaseRoleRefused as refused:
            status = refused.status
        if status.obeys_rls:
            continue
        if settings.IS_DEPLOYED:
            messages.append(checks.Error(status.problem(), id="aerostic.E001"))
        else:
            messages.append(
                checks.Warning(
                    status.problem(), hint="Staging and production refuse to start like this.", id="aerostic.W001"
                )
            )
    return messages
