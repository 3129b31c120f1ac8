"""Jobs of the contacts app: running a CSV import, expiring what imports keep."""

from __future__ import annotations

from typing import Any

from aerostic.core.jobs import platform_job, tenant_job


@tenant_job(atomic=False)
def run_contact_import(*, tenant_id: int, contact_import_id: int) -> dict[str, Any] | None:
    """Runs one queued import. Not one transaction: an import commits batch by batch (progress
    shows, a crash keeps what was done)."""
    from contacts.importing import import_run

    contact_import = import_run(contact_import_id)
    if contact_import is None:
        return None  # gone, or already run / running
    return {"status": contact_import.status, "created": contact_import.created_count}


@platform_job("contact import retention")
def purge_expired_imports() -> dict[str, int]:
    """Nightly: uploads never run and error reports older than CONTACT_IMPORT_RETENTION_HOURS go."""
    from contacts.importing.expiry import imports_expire

    return imports_expire()
