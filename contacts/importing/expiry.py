"""Imports keep people's data only as long as needed: an upload never run (left at the mapping
step) is deleted, and a finished import's error report (the rejected rows, cells included) is
cleared, `CONTACT_IMPORT_RETENTION_HOURS` after. The run itself already drops the file when it ends.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, Value
from django.utils import timezone

from contacts.models import ContactImport

DEFAULT_RETENTION_HOURS = 72
# A column really empty, not the encryption of "" (EncryptedTextField would seal a plain "").
_EMPTY = Value("")


def import_retention() -> timedelta:
    return timedelta(hours=int(getattr(settings, "CONTACT_IMPORT_RETENTION_HOURS", DEFAULT_RETENTION_HOURS)))


def imports_expire(*, now: datetime | None = None) -> dict[str, int]:
    """Every workspace at once: the caller is in the platform scope (the nightly job). Returns how
    many abandoned uploads were deleted and how many error reports cleared."""
    cutoff = (now or timezone.now()) - import_retention()
    abandoned, _ = ContactImport.all_tenants.filter(
        status=ContactImport.Status.UPLOADED, created_at__lt=cutoff
    ).delete()
    reports = (
        ContactImport.all_tenants.filter(finished_at__lt=cutoff)
        .filter(~Q(error_report=_EMPTY))
        .update(error_report=_EMPTY)
    )
    return {"abandoned_uploads": abandoned, "error_reports": reports}
