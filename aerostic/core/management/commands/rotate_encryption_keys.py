"""`manage.py rotate_encryption_keys`: re-encrypt every EncryptedTextField value under the newest key.

Run it after putting a new key first in TOKEN_ENCRYPTION_KEYS and before removing the old one.
Rows are read in primary-key order, 500 at a time, each batch locked (SELECT ... FOR UPDATE) and
written in its own transaction, so the app keeps running and a failure leaves no half-written batch.
Safe to run again: values already under the newest key are left alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction

from aerostic.core import audit, crypto
from aerostic.core.fields import EncryptedTextField, SealedValue
from aerostic.core.tenant_context import platform_context
from aerostic.core.tenant_scoped import TenantScopedModel

BATCH_SIZE = 500
AUDIT_ACTION = "encryption.keys_rotated"


@dataclass
class FieldCounts:
    field: str  # "app_label.ModelName.field"
    checked: int = 0
    reencrypted: int = 0
    current: int = 0


class RotationFailed(Exception):
    """A stored value could not be decrypted; carries where (never what)."""

    def __init__(self, label: str, pk: Any, reason: str) -> None:
        super().__init__(f"{label} pk={pk}: {reason}")


def encrypted_fields() -> list[tuple[type[models.Model], EncryptedTextField]]:
    """Every (model, field) pair holding encrypted values, each table column once."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        # local_concrete_fields: a multi-table child must not process its parent's column again.
        for field in model._meta.local_concrete_fields:
            if isinstance(field, EncryptedTextField):
                found.append((model, field))
    return found


def _manager(model: type[models.Model]) -> models.Manager:
    # The scoped default manager would filter to one tenant (or refuse); rotation covers all.
    if issubclass(model, TenantScopedModel):
        return model.all_tenants
    return model._base_manager


class Command(BaseCommand):
    help = "Re-encrypt every encrypted value whose key is not the newest in TOKEN_ENCRYPTION_KEYS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count and test-decrypt; write nothing.")
        parser.add_argument(
            "--batch-size", type=int, default=BATCH_SIZE, help=f"Rows per transaction (default {BATCH_SIZE})."
        )

    def handle(self, *args: Any, dry_run: bool = False, batch_size: int = BATCH_SIZE, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        ring = crypto.get_key_ring()
        self.stdout.write(
            f"Newest key: {ring.newest_id} (ring: {', '.join(ring.ids)})" + (" [dry run]" if dry_run else "")
        )
        verb = "to re-encrypt" if dry_run else "re-encrypted"
        self.stdout.write(f"{'model.field':<48} {'checked':>9} {verb:>14} {'already current':>16}")

        results: list[FieldCounts] = []
        failure: RotationFailed | None = None
        with platform_context("rotate encryption keys"):
            for model, field in encrypted_fields():
                counts = FieldCounts(field=f"{model._meta.label}.{field.name}")
                results.append(counts)
                try:
                    self._rotate_field(model, field, counts, dry_run=dry_run, batch_size=batch_size)
                except RotationFailed as error:
                    failure = error
                    self._write_row(counts, note="  stopped: see the error below")
                    break
                self._write_row(counts)

            if dry_run:
                self.stdout.write("Dry run: nothing was written.")
            elif failure is None or any(counts.reencrypted for counts in results):
                # Batches committed before a failure are real changes: they get their audit row too.
                audit.record(
                    AUDIT_ACTION,
                    metadata={
                        "newest_key_id": ring.newest_id,
                        "completed": failure is None,
                        "checked": sum(counts.checked for counts in results),
                        "reencrypted": sum(counts.reencrypted for counts in results),
                        "fields": [asdict(counts) for counts in results],
                    },
                )
        if failure is not None:
            raise CommandError(
                f"Could not decrypt {failure}. Batches before it were committed; the failing batch was "
                "rolled back. If a key was removed, put it back in TOKEN_ENCRYPTION_KEYS (after the newest) "
                "and run the command again."
            )

    def _write_row(self, counts: FieldCounts, note: str = "") -> None:
        self.stdout.write(f"{counts.field:<48} {counts.checked:>9} {counts.reencrypted:>14} {counts.current:>16}{note}")

    def _rotate_field(
        self,
        model: type[models.Model],
        field: EncryptedTextField,
        counts: FieldCounts,
        *,
        dry_run: bool,
        batch_size: int,
    ) -> None:
        manager = _manager(model)
        last_pk: Any = None
        while True:
            with transaction.atomic():
                rows = manager.exclude(**{f"{field.attname}__isnull": True})
                if not dry_run:
                    # Lock the batch so a concurrent save cannot be overwritten by a stale value.
                    rows = rows.select_for_update()
                if last_pk is not None:
                    rows = rows.filter(pk__gt=last_pk)
                batch = list(rows.order_by("pk").only("pk", field.attname)[:batch_size])
                if not batch:
                    return
                batch_counts = FieldCounts(field=counts.field)
                changed = []
                for row in batch:
                    sealed: SealedValue = getattr(row, field.attname)
                    batch_counts.checked += 1
                    try:
                        if not crypto.needs_rotation(sealed.ciphertext):
                            batch_counts.current += 1
                            continue
                        # Also in a dry run: proves the real run would be able to decrypt it.
                        fresh = crypto.reencrypt(sealed.ciphertext, context=field.encryption_context)
                    except crypto.DecryptionError as error:
                        # Leaving the atomic block with an exception rolls this batch back.
                        raise RotationFailed(counts.field, row.pk, str(error)) from None
                    setattr(row, field.attname, SealedValue(fresh, field.encryption_context))
                    changed.append(row)
                    batch_counts.reencrypted += 1
                if changed and not dry_run:
                    manager.bulk_update(changed, [field.attname])
            # Counted only once the batch's transaction has committed.
            counts.checked += batch_counts.checked
            counts.reencrypted += batch_counts.reencrypted
            counts.current += batch_counts.current
            last_pk = batch[-1].pk
