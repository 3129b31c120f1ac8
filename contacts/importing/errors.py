"""The one error an import raises when it refuses a file or a configuration."""

from __future__ import annotations

from aerostic.core.errors import DomainError


class ImportRefused(DomainError):
    """The file or the column mapping cannot be imported; the message says why and what to do."""

    code = "import_refused"
