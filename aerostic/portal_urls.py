"""Top-level portal sections (the project frame: it names the views of every app). The team inbox
has its own routes under /inbox/ (inbox.urls). tenants.views.ComingSoonView stays for a section
whose pages are still to come."""

from django.urls import path

from billing.views import BillingDashboardView
from campaigns.views import CampaignListView
from contacts.views import ContactListView
from tenants import views
from whatsapp.message_templates.views import TemplateListView
from whatsapp.views import WhatsAppView

app_name = "portal"


urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("contacts/", ContactListView.as_view(), name="contacts"),
    path("campaigns/", CampaignListView.as_view(), name="campaigns"),
    path("templates/", TemplateListView.as_view(), name="templates"),
    path("whatsapp/", WhatsAppView.as_view(), name="whatsapp"),
    path("billing/", BillingDashboardView.as_view(), name="billing"),
    path("settings/", views.SettingsView.as_view(), name="settings"),
]
