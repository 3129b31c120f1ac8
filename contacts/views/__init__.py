"""Portal pages for contacts: list and search, lists, segments, attributes, CSV import with progress,
export. A contact's own page, with its consent history, is compliance's (compliance.contact_views).
Thin: forms in, services out, selectors to read."""

from contacts.views.audiences import (
    AttributeIndexView,
    ListAddView,
    ListDetailView,
    ListIndexView,
    SegmentDetailView,
    SegmentIndexView,
)
from contacts.views.contacts import (
    ContactExportView,
    ContactListView,
    ContactRevealView,
)
from contacts.views.imports import ImportDetailView, ImportErrorsView, ImportProgressView, ImportStartView

__all__ = [
    "AttributeIndexView",
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
