"""The optional read replica (`DATABASE_REPLICA_URL`): reads that may lag a moment (the inbox's list,
search and counts) ask for `replica()` explicitly; everything else, and every write, uses the
primary. Without a replica, `replica()` is the primary."""

from __future__ import annotations

from typing import Any

from django.conf import settings

REPLICA = "replica"


def replica() -> str:
    return REPLICA if REPLICA in settings.DATABASES else "default"


class PrimaryUnlessAskedRouter:
    """Nothing is routed to the replica implicitly; it is never written to or migrated."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return "default"

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db == "default"
