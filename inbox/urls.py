"""Portal routes under /inbox/: the team inbox, its conversations, media and settings."""

from django.urls import path

from inbox import views
from inbox.views import ai_settings, media, panel
from inbox.views import settings as settings_pages

app_name = "inbox"

urlpatterns = [
    # The list, a conversation and the composer (inbox.views).
    path("", views.InboxIndexView.as_view(), name="index"),
    path("list/", views.ListPaneView.as_view(), name="list-pane"),
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
    # The conversation's side panel and its actions (htmx fragments), the agent's availability.
    path("<int:conversation_id>/panel/", panel.PanelView.as_view(), name="panel"),
    path("<int:conversation_id>/assign/", panel.AssignView.as_view(), name="assign"),
    path("<int:conversation_id>/team/", panel.TeamView.as_view(), name="team"),
    path("<int:conversation_id>/labels/", panel.LabelsView.as_view(), name="labels"),
    path("<int:conversation_id>/status/", panel.StatusView.as_view(), name="status"),
    path("<int:conversation_id>/ai/", panel.AIView.as_view(), name="ai"),
    path("availability/", panel.AvailabilityView.as_view(), name="availability"),
    # Settings: read receipts, teams, labels, quick replies, the AI auto-reply.
    path("settings/", settings_pages.SettingsIndexView.as_view(), name="settings"),
    path("settings/teams/", settings_pages.TeamListView.as_view(), name="settings-teams"),
    path("settings/teams/<int:team_id>/", settings_pages.TeamDetailView.as_view(), name="settings-team"),
    path(
        "settings/teams/<int:team_id>/members/", settings_pages.TeamMembersView.as_view(), name="settings-team-members"
    ),
    path("settings/teams/<int:team_id>/delete/", settings_pages.TeamDeleteView.as_view(), name="settings-team-delete"),
    path("settings/labels/", settings_pages.LabelListView.as_view(), name="settings-labels"),
    path("settings/labels/<int:label_id>/", settings_pages.LabelDetailView.as_view(), name="settings-label"),
    path(
        "settings/labels/<int:label_id>/delete/", settings_pages.LabelDeleteView.as_view(), name="settings-label-delete"
    ),
    path("settings/quick-replies/", settings_pages.QuickReplyListView.as_view(), name="settings-quick-replies"),
    path(
        "settings/quick-replies/<int:quick_reply_id>/",
        settings_pages.QuickReplyDetailView.as_view(),
        name="settings-quick-reply",
    ),
    path(
        "settings/quick-replies/<int:quick_reply_id>/delete/",
        settings_pages.QuickReplyDeleteView.as_view(),
        name="settings-quick-reply-delete",
    ),
    # The AI auto-reply: settings, knowledge base, "Try it" (test box and evaluation); AI_CONFIGURE only.
    path("settings/ai/", ai_settings.AISettingsView.as_view(), name="settings-ai"),
    path("settings/ai/knowledge/", ai_settings.KnowledgeListView.as_view(), name="settings-ai-knowledge"),
    path("settings/ai/knowledge/import/", ai_settings.KnowledgeImportView.as_view(), name="settings-ai-import"),
    path("settings/ai/knowledge/export.csv", ai_settings.KnowledgeExportView.as_view(), name="settings-ai-export"),
    path("settings/ai/knowledge/<int:pair_id>/", ai_settings.KnowledgePairView.as_view(), name="settings-ai-pair"),
    path(
        "settings/ai/knowledge/<int:pair_id>/delete/",
        ai_settings.KnowledgeDeleteView.as_view(),
        name="settings-ai-pair-delete",
    ),
    path("settings/ai/try/", ai_settings.TryView.as_view(), name="settings-ai-try"),
    path("settings/ai/try/question/", ai_settings.TryQuestionView.as_view(), name="settings-ai-test"),
    path("settings/ai/try/evaluation/", ai_settings.TryEvaluationView.as_view(), name="settings-ai-evaluation"),
    # Media: a message's file (fetched from Meta once), an agent's attachment.
    path("media/<int:message_id>/", media.MessageMediaView.as_view(), name="media"),
    path("<int:conversation_id>/attachments/", media.AttachmentSendView.as_view(), name="attach"),
]
