"""Portal pages for contacts: list and search, a contact with its consent history, lists, segments,
attributes, CSV import with progress, export. Thin: forms in, services out, selectors to read."""

from contacts.views.audiences import (
    AttributeIndexView,
    ListAddView,
    ListDetailView,
    ListIndexView,
    SegmentDetailView,
    SegmentIndexView,
)
from contacts.views.contacts import (
    ContactCreateView,
    ContactDataExportView,
    ContactDetailView,
    ContactEraseView,
    ContactExportView,
    ContactListView,
    ContactRevealView,
)
from contacts.views.imports import ImportDetailView, ImportErrorsView, ImportProgressView, ImportStartView

__all__ = [
    "AttributeIndexView",
    "ContactCreateView",
    "ContactDataExportView",
    "ContactDetailView",
    "ContactEraseView",
    "ContactExportView",
    "ContactListView",
    "ContactRevealView",
    "ImportDetailView",
    "ImportErrorsView",
    "ImportProgressView",
    "ImportStartView",
    "ListAddView",
    "ListDetailView",
    "ListIndexView",
    "SegmentDetailView",
    "SegmentIndexView",
]
