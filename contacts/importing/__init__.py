"""CSV import of contacts: upload (checked, kept encrypted) → configure (mapping, consent basis) →
run (a job, in batches) → error report. See the modules for each step."""

from contacts.importing.configure import NO_CONSENT_WARNING, import_configure, validate_mapping
from contacts.importing.errors import ImportRefused
from contacts.importing.run import BATCH_SIZE, consent_kind_of, import_error_report, import_run
from contacts.importing.upload import (
    import_preview,
    import_upload,
    import_upload_read,
    max_upload_bytes,
    suggest_consent_column,
    suggest_mapping,
)

__all__ = [
    "BATCH_SIZE",
    "NO_CONSENT_WARNING",
    "ImportRefused",
    "consent_kind_of",
    "import_configure",
    "import_error_report",
    "import_preview",
    "import_run",
    "import_upload",
    "import_upload_read",
    "max_upload_bytes",
    "suggest_consent_column",
    "suggest_mapping",
    "validate_mapping",
]
