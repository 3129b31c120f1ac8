"""Accepting an invitation: signed in as the invited address, or by creating the account.

The page lives at /accounts/invite/<token>/ (the link in the e-mail, tenants.services) but belongs
to tenants: it ends in a membership and switches the browser to that workspace.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.forms import NewAccountForm
from accounts.models import User
from aerostic.core.errors import DomainError
from tenants import services
from tenants.middleware import ACTIVE_TENANT_SESSION_KEY


@require_http_methods(["GET", "POST"])
def invite_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.invitation_find(token)
    if invitation is None:
        return render(request, "accounts/invite_invalid.html", status=404)

    user = request.user
    has_account = User.objects.filter(email__iexact=invitation.email).exists()
    context = {"invitation": invitation, "tenant": invitation.tenant, "has_account": has_account}

    if user.is_authenticated:
        if user.email.lower() != invitation.email.lower():
            context["wrong_account"] = True
            return render(request, "accounts/invite_accept.html", context, status=403)
        if request.method == "POST":
            try:
                membership = services.invitation_accept(token=token, user=user, request=request)
            except (DomainError, ValidationError) as error:
                if isinstance(error, DomainError):
                    text = error.message
                else:
                    text = getattr(error, "message", None) or "; ".join(error.messages)
                messages.error(request, text)
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
            membership = services.invitation_accept_as_new_user(
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
