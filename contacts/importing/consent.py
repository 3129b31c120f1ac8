"""Where an import's consent goes. The consent ledger is compliance's, a layer above contacts
(DESIGN.md §1), so contacts never names it: compliance registers its recorder here from its
AppConfig.ready() (`on_import_consent`), and each import batch calls `record_import_consent` inside
the batch's own transaction, with every contact the batch touched.

OPT_IN / OPT_OUT are the ledger's event kinds (compliance.models.ConsentEvent.Kind) an import row
can carry; a test in compliance holds them equal.
"""

from __future__ import annotations

from collections.abc import Callable

from aerostic.core.registry import Slot
from contacts.models import ContactImport
from contacts.rows import ImportRow

OPT_IN = "opt_in"
OPT_OUT = "opt_out"

# recorder(contact_import, touched) -> how many consent events were new; `touched` is
# (contact id, its row, its consent state before the batch) for each contact the batch wrote.
ImportConsentRecorder = Callable[[ContactImport, list[tuple[int, ImportRow, str]]], int]

_recorder: Slot[ImportConsentRecorder] = Slot("recorder of imported consent", filled_by="the compliance app")
on_import_consent = _recorder.register


def record_import_consent(contact_import: ContactImport, touched: list[tuple[int, ImportRow, str]]) -> int:
    """Records the consent the batch's rows carry, in the caller's transaction; how many events were new."""
    return _recorder.get()(contact_import, touched)
