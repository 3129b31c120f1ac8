"""Test-only models with encrypted fields (tenant-scoped and platform-wide)."""

from django.db import models

from aerostic.core.fields import EncryptedTextField
from tenants.models import TenantScopedModel


class SealedNote(TenantScopedModel):
    title = models.CharField(max_length=100)
    secret = EncryptedTextField(null=True)

    def __str__(self) -> str:
        return self.title


class PlatformSecret(models.Model):
    name = models.CharField(max_length=100)
    value = EncryptedTextField()

    def __str__(self) -> str:
        return self.name
