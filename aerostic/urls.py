"""Top-level routes: portal, accounts, API, Django admin, health probes, metrics."""

from typing import cast

from django.contrib import admin
from django.urls import include, path, re_path
from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns

from aerostic import readiness_views
from aerostic.core import health
from aerostic.core.admin_site import PlatformAdminSite
from compliance import contact_urls as compliance_contact_urls
from contacts import urls as contacts_urls
from whatsapp.webhooks.intake import meta_webhook

# admin.site is the project's site (CoreConfig.default_site), which the stubs cannot know.
platform_site = cast(PlatformAdminSite, admin.site)

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path("webhooks/meta/", meta_webhook, name="meta-webhook"),
    # Queue dashboards behind the platform console's own gate (super-admins only), not just is_staff;
    # the stats JSON also answers the RQ_API_TOKEN bearer, when one is set, for monitoring.
    path(
        "admin/rq/",
        include(
            (
                [
                    re_path(
                        api.pattern.regex.pattern,
                        platform_site.admin_or_api_token_view(api.callback),
                        # Django's default name is None; django-stubs only allows a str.
                        name=api.name,  # type: ignore[arg-type]
                    )
                    for api in get_api_urlpatterns()
                ]
                + get_admin_urlpatterns(view_wrapper=admin.site.admin_view),
                "django_rq",
            )
        ),
    ),
    # The production-readiness verdict, behind the platform console's gate (aerostic/readiness.py).
    path(
        "admin/readiness/",
        admin.site.admin_view(readiness_views.production_readiness_page),
        name="admin-production-readiness",
    ),
    path("admin/", admin.site.urls),
    path("accounts/invite/", include("tenants.invite_urls")),
    path("accounts/", include("accounts.urls")),
    path("api/v1/", include("aerostic.api_urls")),
    path("workspace/", include("tenants.urls")),
    path("whatsapp/", include("whatsapp.urls")),
    # One `contacts` namespace: contacts' pages and the contact pages compliance owns (consent, GDPR).
    path("contacts/", include((contacts_urls.urlpatterns + compliance_contact_urls.urlpatterns, "contacts"))),
    path("inbox/", include("inbox.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("compliance/", include("compliance.urls")),
    path("billing/", include("billing.urls")),
    path("", include("aerostic.portal_urls")),
]
