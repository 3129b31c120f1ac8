"""Portal page "WhatsApp": connect (Embedded Signup, manual token, sandbox), check, register, disconnect."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.roles import Perm
from aerostic.core.errors import DomainError
from tenants.portal_base import PortalView, require_permission
from whatsapp import selectors
from whatsapp.connections import checks as connection_checks
from whatsapp.connections import connect, numbers, onboarding
from whatsapp.forms import EmbeddedSignupForm, EmbeddedSignupSessionForm, ManualTokenForm, PinForm
from whatsapp.models import WhatsAppAccount


class WhatsAppView(PortalView):
    template_name = "whatsapp/connections.html"
    required_permission = Perm.WHATSAPP_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            accounts=selectors.account_list(),
            can_connect=self.can(Perm.WHATSAPP_CONNECT),
            manual_form=kwargs.get("manual_form") or ManualTokenForm(),
            pin_form=PinForm(),
            sandbox_enabled=settings.SANDBOX_ENABLED,
            embedded_signup_ready=bool(settings.META_APP_ID and settings.META_EMBEDDED_SIGNUP_CONFIG_ID),
            meta_app_id=settings.META_APP_ID,
            meta_config_id=settings.META_EMBEDDED_SIGNUP_CONFIG_ID,
            graph_version=settings.META_GRAPH_API_VERSION,
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """The manual path: a system-user token and a WABA id."""
        if not self.can(Perm.WHATSAPP_CONNECT):
            raise PermissionDenied("Your role does not allow connecting WhatsApp.")
        form = ManualTokenForm(request.POST)
        if form.is_valid():
            try:
                account = connect.account_connect(
                    tenant=request.tenant,
                    waba_id=form.cleaned_data["waba_id"],
                    token=form.cleaned_data["token"],
                    mode=WhatsAppAccount.Mode.REAL,
                    actor=request.user,
                    request=request,
                )
            except DomainError as problem:
                form.add_error(None, problem.message)
            else:
                messages.success(request, f"Connected {account}. Register a number with its PIN to send.")
                return redirect("portal:whatsapp")
        return self.render_to_response(self.get_context_data(manual_form=form), status=400)


@require_POST
@require_permission(Perm.WHATSAPP_CONNECT)
def sandbox_connect(request: HttpRequest) -> HttpResponse:
    try:
        account = connect.sandbox_connect(tenant=request.tenant, actor=request.user, request=request)
    except DomainError as problem:
        messages.error(request, problem.message)
    else:
        messages.success(request, f"Sandbox number {account.phone_numbers.first()} is connected. Try sending to it.")
    return redirect("portal:whatsapp")


@require_POST
@require_permission(Perm.WHATSAPP_CONNECT)
def embedded_signup_complete(request: HttpRequest) -> HttpResponse:
    form = EmbeddedSignupForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            "The sign-up did not return what Aerostic needs: "
            + "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()),
        )
        return redirect("portal:whatsapp")
    data = dict(form.cleaned_data)
    tracking_code, business_id = data.pop("tracking_code", ""), data.pop("business_id", "")
    if tracking_code:  # recorded first: if the exchange fails, Meta's callback still finds the workspace
        onboarding.onboarding_session_info(
            tenant=request.tenant,
            tracking_code=tracking_code,
            waba_id=data["waba_id"],
            business_id=business_id,
            phone_number_id=data["phone_number_id"],
        )
    try:
        account = connect.embedded_signup_complete(tenant=request.tenant, actor=request.user, request=request, **data)
    except DomainError as problem:
        messages.error(request, problem.message)
    else:
        if tracking_code:
            onboarding.onboarding_complete(tenant=request.tenant, tracking_code=tracking_code, account=account)
        messages.success(request, "Your WhatsApp Business Account is connected.")
    return redirect("portal:whatsapp")


@require_POST
@require_permission(Perm.WHATSAPP_CONNECT)
def embedded_signup_session(request: HttpRequest) -> HttpResponse:
    """The page relays Embedded Signup's session info (WABA, number, business) the moment Meta's
    window posts it, so Meta's callback can be matched even if the browser closes before the code
    comes back."""
    form = EmbeddedSignupSessionForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"ok": False, "errors": form.errors}, status=400)
    session = onboarding.onboarding_session_info(tenant=request.tenant, **form.cleaned_data)
    if session is None:
        return JsonResponse({"ok": False, "errors": {"tracking_code": ["No open sign-up session."]}}, status=404)
    return JsonResponse({"ok": True})


@require_POST
@require_permission(Perm.WHATSAPP_CONNECT)
def embedded_signup_start(request: HttpRequest) -> HttpResponse:
    """Called by the page right before Facebook's flow opens: a session whose code links Meta's
    callback (webhook) to this workspace even if the browser is closed before it returns."""
    session = onboarding.onboarding_start(tenant=request.tenant, actor=request.user)
    return JsonResponse({"tracking_code": session.tracking_code, "expires_at": session.expires_at.isoformat()})


@require_POST
@require_permission(Perm.WHATSAPP_CONNECT)
def phone_register(request: HttpRequest, phone_id: int) -> HttpResponse:
    phone = PortalView.scoped_get(selectors.phone_get, phone_id)
    form = PinForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The PIN is 6 digits.")
        return redirect("portal:whatsapp")
    try:
        numbers.phone_register(phone=phone, pin=form.cleaned_data["pin"], actor=request.user, request=request)
    except DomainError as problem:
        messages.error(request, problem.message)
    else:
        messages.success(request, f"{phone.display_phone_number} is registered and can send.")
    return redirect("portal:whatsapp")


@require_POST
@require_permission(Perm.WHATSAPP_CONNECT)
def account_disconnect(request: HttpRequest, account_id: int) -> HttpResponse:
    account = PortalView.scoped_get(selectors.account_get, account_id)
    numbers.account_disconnect(account=account, actor=request.user, request=request)
    messages.success(request, f"{account} was disconnected and its token erased.")
    return redirect("portal:whatsapp")


@require_POST
@require_permission(Perm.WHATSAPP_CONNECT)
def account_check(request: HttpRequest, account_id: int) -> HttpResponse:
    account = PortalView.scoped_get(selectors.account_get, account_id)
    try:
        connection_checks.live_check_claim(tenant_id=request.tenant.pk, kind="connection")
        checks = connection_checks.connection_check(account=account)
    except DomainError as problem:
        checks = [connection_checks.Check("connection", False, problem.message)]
    return render(request, "whatsapp/_checks.html", {"checks": checks, "account": account})
