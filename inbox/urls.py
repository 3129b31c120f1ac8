"""Portal routes under /inbox/: the team inbox, its conversations, media and settings."""

from django.urls import path

from inbox import views

app_name = "inbox"

urlpatterns = [
    # The list, a conversation and the composer (inbox.views).
    path("", views.InboxIndexView.as_view(), name="index"),
    path("rows/", views.ListRowsView.as_view(), name="list-rows"),
    path("changes/", views.ChangesView.as_view(), name="changes"),
    path("quick-replies/", views.QuickRepliesView.as_view(), name="quick-replies"),
    path("<int:conversation_id>/", views.ConversationView.as_view(), name="conversation"),
    path("<int:conversation_id>/timeline/", views.TimelineView.as_view(), name="timeline"),
    path("<int:conversation_id>/reply/", views.ReplyView.as_view(), name="reply"),
    path("<int:conversation_id>/note/", views.NoteView.as_view(), name="note"),
    path("<int:conversation_id>/retry/", views.RetryView.as_view(), name="retry"),
    path("<int:conversation_id>/typing/", views.TypingView.as_view(), name="typing"),
    path("<int:conversation_id>/template-preview/", views.TemplatePreviewView.as_view(), name="template-preview"),
]
