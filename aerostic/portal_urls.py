"""Top-level portal sections (the project frame: it names the views of every app). The team inbox
has its own routes under /inbox/ (inbox.urls). tenants.views.ComingSoonView stays for a section
whose pages are still to come."""

from django.urls import path

from billing.views import BillingDashboardView
from campaigns.views import CampaignListView
from contacts.views import ContactListView
from tenants import views, views_alerts
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
    path("alerts/", views_alerts.AlertListView.as_view(), name="alerts"),
    path("alerts/<int:alert_id>/acknowledge/", views_alerts.alert_acknowledge_view, name="alert-acknowledge"),
    path("alerts/<int:alert_id>/resolve/", views_alerts.alert_resolve_view, name="alert-resolve"),
    path("settings/alerts/", views_alerts.AlertChannelListView.as_view(), name="alert-channels"),
    path("settings/alerts/<int:channel_id>/", views_alerts.AlertChannelDetailView.as_view(), name="alert-channel"),
    path("settings/alerts/<int:channel_id>/enabled/", views_alerts.alert_channel_enable, name="alert-channel-enable"),
    path("settings/alerts/<int:channel_id>/delete/", views_alerts.alert_channel_delete, name="alert-channel-delete"),
    path(
        "settings/alerts/<int:channel_id>/test/", views_alerts.AlertChannelTestView.as_view(), name="alert-channel-test"
    ),
]
