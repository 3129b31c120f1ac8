from django.urls import path

from tenants import views

app_name = "tenants"

urlpatterns = [
    path("team/", views.TeamView.as_view(), name="team"),
    path("team/members/<int:membership_id>/role/", views.member_role_change, name="member-role"),
    path("team/members/<int:membership_id>/remove/", views.member_remove, name="member-remove"),
    path("team/invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation-revoke"),
    path("audit/", views.AuditLogView.as_view(), name="audit"),
    path("switch/", views.switch_tenant, name="switch"),
]
