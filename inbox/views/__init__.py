"""The inbox's portal pages (the UI engineer's part): the list, a conversation with its timeline,
the composer, and the live poll. The side panel, settings and media views live beside these."""

from inbox.views.composer import NoteView, QuickRepliesView, ReplyView, RetryView, TemplatePreviewView
from inbox.views.conversation import ConversationView, TimelineView
from inbox.views.list import InboxIndexView, ListPaneView, ListRowsView
from inbox.views.live import ChangesView, TypingView

__all__ = [
    "ChangesView",
    "ConversationView",
    "InboxIndexView",
    "ListPaneView",
    "ListRowsView",
    "NoteView",
    "QuickRepliesView",
    "ReplyView",
    "RetryView",
    "TemplatePreviewView",
    "TimelineView",
    "TypingView",
]
