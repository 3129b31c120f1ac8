"""Top-level portal sections (the project frame: it names the views of every app). A section whose
pages are still to come (the team inbox) shows a 'coming soon' page until then."""

from django.urls import path

from billing.views import BillingDashboardView
from campaigns.views import CampaignListView
from contacts.views import ContactListView
from tenants import views
from whatsapp.message_templates.views import TemplateListView
from whatsapp.views import WhatsAppView

app_name = "portal"


def _soon(title: str, intro: str, items: list[str], perm: str):
    return views.ComingSoonView.as_view(
        section_title=title, section_intro=intro, coming_items=items, required_permission=perm
    )


urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path(
        "inbox/",
        _soon(
            "Inbox",
            "Answer customers together in one shared inbox.",
            [
                "Conversations with the 24-hour service window shown",
                "Assignment, notes and canned replies",
                "AI auto-reply with human takeover",
            ],
            "inbox.view",
        ),
        name="inbox",
    ),
    path("contacts/", ContactListView.as_view(), name="contacts"),
    path("campaigns/", CampaignListView.as_view(), name="campaigns"),
    path("templates/", TemplateListView.as_view(), name="templates"),
    path("whatsapp/", WhatsAppView.as_view(), name="whatsapp"),
    path("billing/", BillingDashboardView.as_view(), name="billing"),
    path("settings/", views.SettingsView.as_view(), name="settings"),
]
