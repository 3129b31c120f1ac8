"""Portal routes under /inbox/: the team inbox, its conversations, media and settings."""

from django.urls import path  # noqa: F401

app_name = "inbox"

urlpatterns: list = []
