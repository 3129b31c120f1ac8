"""Top-level routes: portal, accounts, API, Django admin, health probes."""

from django.contrib import admin
from django.urls import include, path

from aerostic.core import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/v1/", include("aerostic.api_urls")),
    path("workspace/", include("tenants.urls")),
    path("", include("tenants.portal_urls")),
]
