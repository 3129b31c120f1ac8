"""Re-encrypt every encrypted value under the newest key of TOKEN_ENCRYPTION_KEYS (audited)."""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from aerostic.core import audit, crypto
from aerostic.core.fields import EncryptedTextField, SealedValue
from tenants.context import platform_context
from tenants.models import TenantScopedModel

BATCH = 500


def encrypted_fields() -> list[tuple[type, EncryptedTextField]]:
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                found.append((model, field))
    return found


class Command(BaseCommand):
    help = "Re-encrypt every encrypted value whose key is not the newest in TOKEN_ENCRYPTION_KEYS."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would change; write nothing.")

    def handle(self, *args, dry_run: bool = False, **options):
        newest = crypto.get_key_ring().newest_id
        totals: dict[str, dict[str, int]] = {}
        with platform_context("rotate encryption keys"):
            for model, field in encrypted_fields():
                label = f"{model._meta.label}.{field.name}"
                totals[label] = self._rotate(model, field, dry_run=dry_run)
            self.stdout.write(f"{'field':<48} {'checked':>8} {'rotated':>8} {'current':>8}")
            for label, counts in totals.items():
                self.stdout.write(f"{label:<48} {counts['checked']:>8} {counts['rotated']:>8} {counts['current']:>8}")
            if dry_run:
                self.stdout.write("Dry run: nothing was written.")
            else:
                audit.record("encryption.keys_rotated", metadata={"newest_key": newest, "fields": totals})

    def _rotate(self, model: type, field: EncryptedTextField, *, dry_run: bool) -> dict[str, int]:
        manager = model.all_tenants if issubclass(model, TenantScopedModel) else model._base_manager
        counts = {"checked": 0, "rotated": 0, "current": 0}
        last_pk = None
        while True:
            with transaction.atomic():
                rows = manager.select_for_update().exclude(**{field.attname: None}).order_by("pk")
                if last_pk is not None:
                    rows = rows.filter(pk__gt=last_pk)
                batch = list(rows.only("pk", field.attname)[:BATCH])
                if not batch:
                    return counts
                changed = []
                for row in batch:
                    sealed: SealedValue = getattr(row, field.attname)
                    counts["checked"] += 1
                    try:
                        if not crypto.needs_rotation(sealed.ciphertext):
                            counts["current"] += 1
                            continue
                        fresh = crypto.reencrypt(sealed.ciphertext, context=field.encryption_context)
                    except crypto.DecryptionError as error:
                        raise CommandError(f"{model._meta.label}.{field.name} pk={row.pk}: {error}") from None
                    setattr(row, field.attname, SealedValue(fresh, field.encryption_context))
                    changed.append(row)
                    counts["rotated"] += 1
                if changed and not dry_run:
                    manager.bulk_update(changed, [field.attname])
                last_pk = batch[-1].pk
