"""GDPR / LGPD: erase or export one contact's data (privacy.contact), erase a whole workspace
(privacy.workspace), clear old message content (privacy.retention). The apps above compliance
register what they keep of a person (privacy.registry.register_personal_data)."""

from compliance.privacy.contact import contact_data_export, contact_erase
from compliance.privacy.registry import (
    ErasedPerson,
    PersonalDataExport,
    PersonalDataHandler,
    personal_data_handlers,
    register_personal_data,
)
from compliance.privacy.retention import retention_purge
from compliance.privacy.workspace import (
    ERASE_JOB_TIMEOUT,
    TenantEraseIncomplete,
    TenantStillActive,
    tenant_erase,
    tenant_erase_request,
    tenant_rows_remaining,
    tenant_scoped_models,
)

__all__ = [
    "ERASE_JOB_TIMEOUT",
    "ErasedPerson",
    "PersonalDataExport",
    "PersonalDataHandler",
    "TenantEraseIncomplete",
    "TenantStillActive",
    "contact_data_export",
    "contact_erase",
    "personal_data_handlers",
    "register_personal_data",
    "retention_purge",
    "tenant_erase",
    "tenant_erase_request",
    "tenant_rows_remaining",
    "tenant_scoped_models",
]
