from django.urls import path

from compliance import views

app_name = "compliance"

urlpatterns = [
    path("settings/", views.ComplianceSettingsView.as_view(), name="settings"),
]
