"""Settings that read no environment variable, kept apart to keep settings.py short: drf-spectacular's
schema and docs, and django-waffle's flag model. aerostic/settings.py imports them by name."""

from __future__ import annotations

from typing import Any

SPECTACULAR_SETTINGS: dict[str, Any] = {
    "TITLE": "Aerostic API",
    "DESCRIPTION": "WhatsApp Business platform API. Authenticate with a JWT (POST /api/v1/auth/token/) "
    "and pick a tenant with the X-Tenant header (its slug) when you belong to several.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Served from the vendored sidecar package: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Swagger UI would otherwise show a badge fetched from validator.swagger.io for every schema.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None, "persistAuthorization": False},
    "ENUM_NAME_OVERRIDES": {
        "ConsentKindEnum": "compliance.models.ConsentEvent.Kind",
        "RecordableConsentKindEnum": "compliance.models.ConsentEvent.RECORDABLE_KINDS",
        # `status` / `state` of campaigns and their recipients: named apart from other apps' choices.
        "CampaignStatusEnum": "campaigns.models.Campaign.Status",
        "CampaignMessageStateEnum": "campaigns.models.CampaignMessage.State",
    },
}

# Feature flags per workspace (tenants/flags.py); the console shows ours (tenants.admin), not waffle's
# flag, switch and sample pages.
WAFFLE_FLAG_MODEL = "tenants.WorkspaceFlag"
WAFFLE_ENABLE_ADMIN_PAGES = False
# waffle's migrations, remade so the swapped flag model's table is not created (see the package).
MIGRATION_MODULES = {"waffle": "aerostic.waffle_migrations"}
