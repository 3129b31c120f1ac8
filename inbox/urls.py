"""Portal routes under /inbox/: the team inbox, its conversations, media and settings."""

from django.urls import path

from inbox.views import media

app_name = "inbox"

urlpatterns: list = [
    path("media/<int:message_id>/", media.MessageMediaView.as_view(), name="media"),
    path("<int:conversation_id>/attachments/", media.AttachmentSendView.as_view(), name="attach"),
]
