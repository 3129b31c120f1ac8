"""Sign-in, sign-out, password reset and accepting an invitation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods

from accounts import services as account_services
from accounts.forms import EmailAuthenticationForm, NewAccountForm
from aerostic.core.errors import DomainError
from tenants import services as tenant_services
from tenants.middleware import ACTIVE_TENANT_SESSION_KEY


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("portal:dashboard")

    def form_valid(self, form):
        # Through the service (not form.save()): it also revokes the user's API tokens.
        account_services.user_password_set(
            user=form.user,
            password=form.cleaned_data["new_password1"],
            actor=self.request.user,
            request=self.request,
            reason="changed",
            tenant=getattr(self.request, "tenant", None),
        )
        # The other sessions end; this one carries on.
        update_session_auth_hash(self.request, form.user)
        messages.success(self.request, "Your password was changed.")
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password-reset-done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")

    def form_valid(self, form):
        # Through the service (not form.save()): it also revokes the user's API tokens.
        account_services.user_password_set(
            user=form.user,
            password=form.cleaned_data["new_password1"],
            actor=form.user,
            request=self.request,
            reason="reset",
        )
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@require_http_methods(["GET", "POST"])
def invite_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = tenant_services.invitation_find(token)
    if invitation is None:
        return render(request, "accounts/invite_invalid.html", status=404)

    from accounts.models import User

    user = request.user
    has_account = User.objects.filter(email__iexact=invitation.email).exists()
    context = {"invitation": invitation, "tenant": invitation.tenant, "has_account": has_account}

    if user.is_authenticated:
        if user.email.lower() != invitation.email.lower():
            context["wrong_account"] = True
            return render(request, "accounts/invite_accept.html", context, status=403)
        if request.method == "POST":
            try:
                membership = tenant_services.invitation_accept(token=token, user=user, request=request)
            except (DomainError, ValidationError) as error:
                messages.error(request, getattr(error, "message", None) or "; ".join(error.messages))
                return redirect("portal:dashboard")
            request.session[ACTIVE_TENANT_SESSION_KEY] = membership.tenant_id
            messages.success(request, f"Welcome to {invitation.tenant.name}.")
            return redirect("portal:dashboard")
        return render(request, "accounts/invite_accept.html", context)

    if has_account:
        # Sign in first; the login page sends the user back here.
        return render(request, "accounts/invite_accept.html", context)

    form = NewAccountForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            membership = tenant_services.invitation_accept_as_new_user(
                token=token,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password1"],
                request=request,
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[ACTIVE_TENANT_SESSION_KEY] = membership.tenant_id
            messages.success(request, f"Welcome to {invitation.tenant.name}.")
            return redirect("portal:dashboard")
    context["form"] = form
    return render(request, "accounts/invite_accept.html", context)
