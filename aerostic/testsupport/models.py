"""Test-only models with encrypted fields (tenant-scoped and platform-wide); see aerostic.settings_test."""

from django.db import models

from aerostic.core.fields import EncryptedTextField
from aerostic.core.tenant_scoped import TenantScopedModel


class SealedNote(TenantScopedModel):
    """A tenant-owned row with an optional secret (stands in for e.g. a WhatsApp access token)."""

    title = models.CharField(max_length=100)
    secret = EncryptedTextField(null=True)

    def __str__(self) -> str:
        return self.title


class PlatformSecret(models.Model):
    """A platform-wide row with a required secret (no tenant, no RLS)."""

    name = models.CharField(max_length=100)
    value = EncryptedTextField()

    def __str__(self) -> str:
        return self.name
