"""Portal routes under /billing/ (the dashboard itself is also the portal's "Billing" section)."""

from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("", views.BillingDashboardView.as_view(), name="index"),
    path("ledger.csv", views.LedgerExportView.as_view(), name="ledger-csv"),
    path("rate-card/", views.RateCardView.as_view(), name="rate-card"),
    path("profile/", views.BillingProfileView.as_view(), name="profile"),
]
