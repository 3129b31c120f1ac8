"""Every /api/v1/ route."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from accounts import api as accounts_api
from tenants import api as tenants_api
from whatsapp import api as whatsapp_api
from whatsapp.message_templates import api as templates_api

app_name = "api"

urlpatterns = [
    path("auth/token/", accounts_api.TokenObtainApi.as_view(), name="token-obtain"),
    path("auth/token/refresh/", accounts_api.TokenRefreshApi.as_view(), name="token-refresh"),
    path("auth/token/revoke/", accounts_api.TokenRevokeApi.as_view(), name="token-revoke"),
    path("me/", accounts_api.MeApi.as_view(), name="me"),
    path("tenant/", tenants_api.TenantApi.as_view(), name="tenant"),
    path("team/members/", tenants_api.MemberListApi.as_view(), name="member-list"),
    path("team/members/<int:membership_id>/", tenants_api.MemberDetailApi.as_view(), name="member-detail"),
    path("team/invitations/", tenants_api.InvitationListApi.as_view(), name="invitation-list"),
    path("team/invitations/<int:invitation_id>/", tenants_api.InvitationDetailApi.as_view(), name="invitation-detail"),
    path("whatsapp/accounts/", whatsapp_api.AccountListApi.as_view(), name="whatsapp-accounts"),
    path("whatsapp/validate", whatsapp_api.ValidateApi.as_view(), name="whatsapp-validate"),
    path("whatsapp/check-connection", whatsapp_api.CheckConnectionApi.as_view(), name="whatsapp-check"),
    path("templates/", templates_api.TemplateListApi.as_view(), name="template-list"),
    path("templates/<int:template_id>/", templates_api.TemplateDetailApi.as_view(), name="template-detail"),
    path("templates/<int:template_id>/submit/", templates_api.TemplateSubmitApi.as_view(), name="template-submit"),
    path("templates/<int:template_id>/refresh/", templates_api.TemplateRefreshApi.as_view(), name="template-refresh"),
    path("templates/<int:template_id>/render/", templates_api.TemplateRenderApi.as_view(), name="template-render"),
    path(
        "whatsapp/accounts/<int:account_id>/templates/sync/",
        templates_api.TemplateSyncApi.as_view(),
        name="template-sync",
    ),
    path("audit/events/", tenants_api.AuditEventListApi.as_view(), name="audit-list"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularRedocView.as_view(url_name="api:schema"), name="docs"),
]
