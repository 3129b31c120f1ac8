from django.urls import path

from whatsapp import views
from whatsapp.message_templates import views as template_views

app_name = "whatsapp"

urlpatterns = [
    path("sandbox/", views.sandbox_connect, name="sandbox-connect"),
    path("embedded-signup/", views.embedded_signup_complete, name="embedded-signup"),
    path("embedded-signup/start/", views.embedded_signup_start, name="embedded-signup-start"),
    path("embedded-signup/session/", views.embedded_signup_session, name="embedded-signup-session"),
    path("numbers/<int:phone_id>/register/", views.phone_register, name="phone-register"),
    path("accounts/<int:account_id>/disconnect/", views.account_disconnect, name="account-disconnect"),
    path("accounts/<int:account_id>/check/", views.account_check, name="account-check"),
    path("accounts/<int:account_id>/templates/sync/", template_views.templates_sync, name="templates-sync"),
    path("templates/new/", template_views.TemplateBuilderView.as_view(), name="template-new"),
    path("templates/preview/", template_views.template_preview, name="template-preview"),
    path("templates/<int:template_id>/", template_views.TemplateBuilderView.as_view(), name="template-detail"),
    path("templates/<int:template_id>/submit/", template_views.template_submit, name="template-submit"),
    path("templates/<int:template_id>/refresh/", template_views.template_refresh, name="template-refresh"),
    path("templates/<int:template_id>/delete/", template_views.template_delete, name="template-delete"),
]
