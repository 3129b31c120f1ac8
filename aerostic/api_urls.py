"""Every /api/v1/ route."""

from django.urls import path

from accounts import api as accounts_api
from aerostic.core.api_docs import ApiDocsView, ApiSchemaView
from billing import api as billing_api
from campaigns import api as campaigns_api
from compliance import api as compliance_api
from compliance import contact_api as compliance_contact_api
from contacts import api as contacts_api
from inbox import api as inbox_api
from inbox import media_api as inbox_media_api
from inbox.api import ai as ai_api
from tenants import alerts_api
from tenants import api as tenants_api
from whatsapp import api as whatsapp_api
from whatsapp import messages_api
from whatsapp.message_templates import api as templates_api

app_name = "api"

urlpatterns = [
    path("auth/token/", accounts_api.TokenObtainApi.as_view(), name="token-obtain"),
    path("auth/token/refresh/", accounts_api.TokenRefreshApi.as_view(), name="token-refresh"),
    path("auth/token/revoke/", accounts_api.TokenRevokeApi.as_view(), name="token-revoke"),
    path("me/", tenants_api.MeApi.as_view(), name="me"),
    path("tenant/", tenants_api.TenantApi.as_view(), name="tenant"),
    path("team/members/", tenants_api.MemberListApi.as_view(), name="member-list"),
    path("team/members/<int:membership_id>/", tenants_api.MemberDetailApi.as_view(), name="member-detail"),
    path("team/invitations/", tenants_api.InvitationListApi.as_view(), name="invitation-list"),
    path("team/invitations/<int:invitation_id>/", tenants_api.InvitationDetailApi.as_view(), name="invitation-detail"),
    path("whatsapp/accounts/", whatsapp_api.AccountListApi.as_view(), name="whatsapp-accounts"),
    path("whatsapp/validate", whatsapp_api.ValidateApi.as_view(), name="whatsapp-validate"),
    path("whatsapp/check-connection", whatsapp_api.CheckConnectionApi.as_view(), name="whatsapp-check"),
    path("messages", messages_api.MessageSendApi.as_view(), name="message-send"),
    path("messages/<int:message_id>/", messages_api.MessageDetailApi.as_view(), name="message-detail"),
    path(
        "conversations/<int:conversation_id>/attachments/",
        inbox_media_api.AttachmentSendApi.as_view(),
        name="conversation-attachments",
    ),
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
    path("contacts/", compliance_contact_api.ContactListApi.as_view(), name="contact-list"),
    path("contacts/<int:contact_id>/", compliance_contact_api.ContactDetailApi.as_view(), name="contact-detail"),
    path("contacts/<int:contact_id>/reveal/", contacts_api.ContactRevealApi.as_view(), name="contact-reveal"),
    path(
        "contacts/<int:contact_id>/consent/", compliance_contact_api.ContactConsentApi.as_view(), name="contact-consent"
    ),
    path(
        "contacts/<int:contact_id>/export/",
        compliance_contact_api.ContactDataExportApi.as_view(),
        name="contact-export",
    ),
    path("contacts/<int:contact_id>/can-send/", compliance_api.CanSendApi.as_view(), name="contact-can-send"),
    path("compliance/settings/", compliance_api.ComplianceSettingsApi.as_view(), name="compliance-settings"),
    path("contact-lists/", contacts_api.ListListApi.as_view(), name="contact-list-list"),
    path("contact-lists/<int:list_id>/", contacts_api.ListDetailApi.as_view(), name="contact-list-detail"),
    path("contact-lists/<int:list_id>/members/", contacts_api.ListMembersApi.as_view(), name="contact-list-members"),
    path("segments/", contacts_api.SegmentListApi.as_view(), name="segment-list"),
    path("segments/<int:segment_id>/", contacts_api.SegmentDetailApi.as_view(), name="segment-detail"),
    path("contact-attributes/", contacts_api.AttributeListApi.as_view(), name="contact-attribute-list"),
    path("contact-imports/", contacts_api.ImportListApi.as_view(), name="contact-import-list"),
    path("contact-imports/<int:import_id>/", contacts_api.ImportDetailApi.as_view(), name="contact-import-detail"),
    path("contact-imports/<int:import_id>/start/", contacts_api.ImportStartApi.as_view(), name="contact-import-start"),
    path("campaigns/", campaigns_api.CampaignListApi.as_view(), name="campaign-list"),
    path("campaigns/<int:campaign_id>/", campaigns_api.CampaignDetailApi.as_view(), name="campaign-detail"),
    path("campaigns/<int:campaign_id>/check/", campaigns_api.CampaignCheckApi.as_view(), name="campaign-check"),
    path("campaigns/<int:campaign_id>/launch/", campaigns_api.CampaignLaunchApi.as_view(), name="campaign-launch"),
    path("campaigns/<int:campaign_id>/pause/", campaigns_api.CampaignPauseApi.as_view(), name="campaign-pause"),
    path("campaigns/<int:campaign_id>/resume/", campaigns_api.CampaignResumeApi.as_view(), name="campaign-resume"),
    path("campaigns/<int:campaign_id>/cancel/", campaigns_api.CampaignCancelApi.as_view(), name="campaign-cancel"),
    path("campaigns/<int:campaign_id>/stats/", campaigns_api.CampaignStatsApi.as_view(), name="campaign-stats"),
    path(
        "campaigns/<int:campaign_id>/recipients/",
        campaigns_api.CampaignRecipientsApi.as_view(),
        name="campaign-recipients",
    ),
    path("conversations/", inbox_api.ConversationListApi.as_view(), name="conversation-list"),
    path("conversations/unread/", inbox_api.UnreadCountsApi.as_view(), name="conversation-unread"),
    path("conversations/<int:conversation_id>/", inbox_api.ConversationDetailApi.as_view(), name="conversation-detail"),
    path(
        "conversations/<int:conversation_id>/messages/",
        inbox_api.ConversationMessagesApi.as_view(),
        name="conversation-messages",
    ),
    path(
        "conversations/<int:conversation_id>/retry/",
        inbox_api.ConversationRetryApi.as_view(),
        name="conversation-retry",
    ),
    path(
        "conversations/<int:conversation_id>/assign/",
        inbox_api.ConversationAssignApi.as_view(),
        name="conversation-assign",
    ),
    path(
        "conversations/<int:conversation_id>/team/", inbox_api.ConversationTeamApi.as_view(), name="conversation-team"
    ),
    path(
        "conversations/<int:conversation_id>/status/",
        inbox_api.ConversationStatusApi.as_view(),
        name="conversation-status",
    ),
    path(
        "conversations/<int:conversation_id>/takeover/",
        inbox_api.ConversationTakeoverApi.as_view(),
        name="conversation-takeover",
    ),
    path(
        "conversations/<int:conversation_id>/release/",
        inbox_api.ConversationReleaseApi.as_view(),
        name="conversation-release",
    ),
    path(
        "conversations/<int:conversation_id>/labels/",
        inbox_api.ConversationLabelsApi.as_view(),
        name="conversation-labels",
    ),
    path(
        "conversations/<int:conversation_id>/notes/",
        inbox_api.ConversationNotesApi.as_view(),
        name="conversation-notes",
    ),
    path(
        "conversations/<int:conversation_id>/read/", inbox_api.ConversationReadApi.as_view(), name="conversation-read"
    ),
    path("inbox/teams/", inbox_api.TeamListApi.as_view(), name="inbox-team-list"),
    path("inbox/teams/<int:team_id>/", inbox_api.TeamDetailApi.as_view(), name="inbox-team-detail"),
    path("inbox/labels/", inbox_api.LabelListApi.as_view(), name="inbox-label-list"),
    path("inbox/labels/<int:label_id>/", inbox_api.LabelDetailApi.as_view(), name="inbox-label-detail"),
    path("inbox/quick-replies/", inbox_api.QuickReplyListApi.as_view(), name="inbox-quick-reply-list"),
    path(
        "inbox/quick-replies/<int:quick_reply_id>/",
        inbox_api.QuickReplyDetailApi.as_view(),
        name="inbox-quick-reply-detail",
    ),
    path("inbox/availability/", inbox_api.AvailabilityApi.as_view(), name="inbox-availability"),
    path("inbox/agents/", inbox_api.AgentListApi.as_view(), name="inbox-agent-list"),
    path("ai/settings/", ai_api.AISettingsApi.as_view(), name="ai-settings"),
    path("ai/numbers/", ai_api.AINumbersApi.as_view(), name="ai-numbers"),
    path("ai/knowledge/", ai_api.KnowledgeListApi.as_view(), name="ai-knowledge-list"),
    path("ai/knowledge/import/", ai_api.KnowledgeImportApi.as_view(), name="ai-knowledge-import"),
    path("ai/knowledge/export/", ai_api.KnowledgeExportApi.as_view(), name="ai-knowledge-export"),
    path("ai/knowledge/<int:pair_id>/", ai_api.KnowledgeDetailApi.as_view(), name="ai-knowledge-detail"),
    path("ai/test/", ai_api.AITestApi.as_view(), name="ai-test"),
    path("billing/usage/", billing_api.BillingUsageApi.as_view(), name="billing-usage"),
    path("billing/ledger/", billing_api.BillingLedgerApi.as_view(), name="billing-ledger"),
    path("billing/rate-card/", billing_api.BillingRateCardApi.as_view(), name="billing-rate-card"),
    path("billing/estimate/", billing_api.BillingEstimateApi.as_view(), name="billing-estimate"),
    path("audit/events/", tenants_api.AuditEventListApi.as_view(), name="audit-list"),
    path("alerts/", alerts_api.AlertListApi.as_view(), name="alert-list"),
    path("alerts/<int:alert_id>/", alerts_api.AlertDetailApi.as_view(), name="alert-detail"),
    path("alerts/<int:alert_id>/acknowledge/", alerts_api.AlertAcknowledgeApi.as_view(), name="alert-acknowledge"),
    path("alerts/<int:alert_id>/resolve/", alerts_api.AlertResolveApi.as_view(), name="alert-resolve"),
    path("alert-channels/", alerts_api.AlertChannelListApi.as_view(), name="alert-channel-list"),
    path("alert-channels/<int:channel_id>/", alerts_api.AlertChannelDetailApi.as_view(), name="alert-channel-detail"),
    path("alert-channels/<int:channel_id>/test/", alerts_api.AlertChannelTestApi.as_view(), name="alert-channel-test"),
    path("schema/", ApiSchemaView.as_view(), name="schema"),
    path("docs/", ApiDocsView.as_view(url_name="api:schema"), name="docs"),
]
