"""Portal routes under /campaigns/ (the list itself is the portal's "Campaigns" section)."""

from django.urls import path

from campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("", views.CampaignListView.as_view(), name="index"),
    path("new/", views.CampaignCreateView.as_view(), name="new"),
    path("<int:campaign_id>/", views.CampaignDetailView.as_view(), name="detail"),
    path("<int:campaign_id>/edit/", views.CampaignEditView.as_view(), name="edit"),
    path("<int:campaign_id>/mapping/", views.CampaignMappingView.as_view(), name="mapping"),
    path("<int:campaign_id>/delete/", views.CampaignDeleteView.as_view(), name="delete"),
    path("<int:campaign_id>/review/", views.CampaignReviewView.as_view(), name="review"),
    path("<int:campaign_id>/launch/", views.CampaignLaunchView.as_view(), name="launch"),
    path("<int:campaign_id>/pause/", views.CampaignActionView.as_view(action="pause"), name="pause"),
    path("<int:campaign_id>/resume/", views.CampaignActionView.as_view(action="resume"), name="resume"),
    path("<int:campaign_id>/cancel/", views.CampaignActionView.as_view(action="cancel"), name="cancel"),
    path("<int:campaign_id>/stats/", views.CampaignStatsView.as_view(), name="stats"),
    path("<int:campaign_id>/recipients/", views.CampaignRecipientsView.as_view(), name="recipients"),
    path("<int:campaign_id>/recipients.csv", views.CampaignRecipientsExportView.as_view(), name="recipients-csv"),
]
