"""The invitation link's page, mounted at /accounts/invite/ by aerostic.urls (the path in sent e-mails)."""

from django.urls import path

from tenants import invite_views

app_name = "invitations"

urlpatterns = [
    path("<str:token>/", invite_views.invite_accept, name="accept"),
]
