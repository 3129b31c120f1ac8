from django.urls import path

from whatsapp import views

app_name = "whatsapp"

urlpatterns = [
    path("sandbox/", views.sandbox_connect, name="sandbox-connect"),
    path("embedded-signup/", views.embedded_signup_complete, name="embedded-signup"),
    path("embedded-signup/start/", views.embedded_signup_start, name="embedded-signup-start"),
    path("numbers/<int:phone_id>/register/", views.phone_register, name="phone-register"),
    path("accounts/<int:account_id>/disconnect/", views.account_disconnect, name="account-disconnect"),
    path("accounts/<int:account_id>/check/", views.account_check, name="account-check"),
]
