"""drf-spectacular's settings for the API schema and docs (constants: no environment variable)."""

from __future__ import annotations

from typing import Any

API_SCHEMA_SETTINGS: dict[str, Any] = {
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
