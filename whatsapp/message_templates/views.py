"""Portal pages for message templates: list, builder with live preview, submit, refresh, delete, sync."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.roles import Perm
from aerostic.core.errors import DomainError
from aerostic.core.ids import parse_row_id
from tenants.portal_base import PortalView, require_permission
from whatsapp import selectors as connections
from whatsapp.connections.checks import live_check_claim
from whatsapp.message_templates import selectors, services
from whatsapp.message_templates.forms import TemplateBuilderForm, initial_from
from whatsapp.message_templates.rendering import TemplateParameterError, sample_values, template_fill
from whatsapp.message_templates.rules import validate_template
from whatsapp.models import MessageTemplate

STATUS_KIND = {
    "APPROVED": "success",
    "PENDING": "info",
    "DRAFT": "neutral",
    "REJECTED": "danger",
    "PAUSED": "warning",
    "DISABLED": "danger",
    "FLAGGED": "warning",
}


class TemplateListView(PortalView):
    template_name = "whatsapp/templates_list.html"
    required_permission = Perm.TEMPLATES_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        query = self.request.GET
        rows = selectors.templates_for(
            status=query.get("status", ""), category=query.get("category", ""), search=query.get("q", "")
        )
        context.update(
            templates=[(row, STATUS_KIND.get(row.status, "neutral")) for row in rows],
            accounts=connections.account_list(),
            statuses=MessageTemplate.Status.choices,
            categories=MessageTemplate.Category.choices,
            filters={"status": query.get("status", ""), "category": query.get("category", ""), "q": query.get("q", "")},
            can_edit=self.can(Perm.TEMPLATES_EDIT),
            can_submit=self.can(Perm.TEMPLATES_SUBMIT),
        )
        return context


class TemplateBuilderView(PortalView):
    """New template (no id), a draft (edit and submit), or an approved / rejected one (edit and
    resubmit through Meta's edit rules). Name and language are fixed once Meta has the template."""

    template_name = "whatsapp/template_builder.html"
    required_permission = Perm.TEMPLATES_VIEW

    def _template(self) -> MessageTemplate | None:
        template_id = self.kwargs.get("template_id")
        return self.scoped_get(selectors.template_get, template_id) if template_id else None

    def _translation_of(self) -> dict[str, Any]:
        """ "Add a language": a new template starts from an existing one, under the same name."""
        source_id = parse_row_id(self.request.GET.get("from", ""))
        if source_id is None:
            return {}
        initial = initial_from(self.scoped_get(selectors.template_get, source_id))
        initial.pop("language", None)
        return initial

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        template = kwargs["template"] if "template" in kwargs else self._template()
        form = kwargs.get("form") or TemplateBuilderForm(
            initial=initial_from(template) if template else self._translation_of(), accounts=connections.account_list()
        )
        context.update(
            template=template,
            form=form,
            status_kind=STATUS_KIND.get(template.status, "neutral") if template else "neutral",
            languages=selectors.template_languages(template) if template else [],
            billing_category=selectors.billing_category(template) if template else "",
            pause_ends_at=selectors.pause_ends_at(template) if template else None,
            preview=_preview(form) if template or form.is_bound else None,
            can_edit=self.can(Perm.TEMPLATES_EDIT),
            can_submit=self.can(Perm.TEMPLATES_SUBMIT),
            can_delete=self.can(Perm.TEMPLATES_DELETE),
            fixed_identity=bool(template and template.status != MessageTemplate.Status.DRAFT),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can(Perm.TEMPLATES_EDIT):
            raise PermissionDenied("Your role does not allow editing templates.")
        template = self._template()
        submit = request.POST.get("action") == "submit"
        if submit and not self.can(Perm.TEMPLATES_SUBMIT):
            raise PermissionDenied("Your role does not allow submitting templates to Meta.")
        data = request.POST.copy()
        if template is not None and template.status != MessageTemplate.Status.DRAFT:
            # Meta keys a live template by name + language: only its content may change.
            data.update({"account": template.account_id, "name": template.name, "language": template.language})
        form = TemplateBuilderForm(data, accounts=connections.account_list())
        live = template is not None and template.status != MessageTemplate.Status.DRAFT
        if live and not self.can(Perm.TEMPLATES_SUBMIT):  # the API's rule (TemplateDetailApi.patch)
            form.is_valid()
            form.add_error(None, "Editing a live template resubmits it to Meta: your role cannot.")
            return self.render_to_response(self.get_context_data(form=form, template=template), status=403)
        if form.is_valid():
            try:
                template = _save(request, form, template, submit=submit)
            except services.TemplateInvalid as problem:
                for item in problem.problems:
                    form.add_error(None, item.message)
            except DomainError as problem:
                form.add_error(None, problem.message)
            else:
                if submit:
                    messages.success(request, f"{template.name} ({template.language}) was sent to Meta for review.")
                else:
                    messages.success(request, f"Draft {template.name} ({template.language}) saved.")
                return redirect("whatsapp:template-detail", template.pk)
        return self.render_to_response(self.get_context_data(form=form, template=template), status=400)


def _save(request: HttpRequest, form: TemplateBuilderForm, template: MessageTemplate | None, *, submit: bool) -> Any:
    data = form.cleaned_data
    if template is None or template.status == MessageTemplate.Status.DRAFT:
        template, _ = services.template_draft_save(
            account=data["account"],
            name=data["name"],
            language=data["language"],
            category=data["category"],
            parameter_format=data["parameter_format"],
            components=form.components(),
            actor=request.user,
            request=request,
            template=template,
        )
    else:
        template.components = form.components()
        template.requested_category = data["category"]
        template.parameter_format = data["parameter_format"]
    if submit or template.status != MessageTemplate.Status.DRAFT:
        template = services.template_submit(template=template, actor=request.user, request=request)
    return template


def _preview(form: TemplateBuilderForm) -> dict[str, Any]:
    """The WhatsApp bubble and every rule the template breaks, from the form as typed."""
    if not form.is_bound:
        form = TemplateBuilderForm(form.initial, accounts=form.fields["account"].queryset)
    form.is_valid()
    if not hasattr(form, "cleaned_data"):
        return {"problems": [], "text": ""}
    components = form.components()
    data = form.cleaned_data
    problems = validate_template(
        name=data.get("name", ""),
        language=data.get("language", ""),
        category=data.get("category", ""),
        parameter_format=data.get("parameter_format", "POSITIONAL"),
        components=components,
    )
    fmt = data.get("parameter_format", "POSITIONAL")
    try:
        rendered = template_fill(
            components=components,
            parameter_format=fmt,
            values=sample_values(components=components, parameter_format=fmt),
        )
        text = rendered.preview
    except (TemplateParameterError, ValueError, TypeError):
        text = data.get("body", "")
    header = next((c for c in components if c.get("type") == "HEADER"), None)
    buttons = next((c.get("buttons", []) for c in components if c.get("type") == "BUTTONS"), [])
    return {
        "problems": [p.message for p in problems],
        "text": text,
        "media": header.get("format") if header and header.get("format") not in (None, "TEXT") else "",
        "buttons": [b.get("text") or "Copy offer code" for b in buttons if isinstance(b, dict)],
    }


@require_POST
@require_permission(Perm.TEMPLATES_VIEW)
def template_preview(request: HttpRequest) -> HttpResponse:
    form = TemplateBuilderForm(request.POST, accounts=connections.account_list())
    return render(request, "whatsapp/_template_preview.html", {"preview": _preview(form)})


def _scoped(template_id: int) -> MessageTemplate:
    return PortalView.scoped_get(selectors.template_get, template_id)


@require_POST
@require_permission(Perm.TEMPLATES_SUBMIT)
def template_submit(request: HttpRequest, template_id: int) -> HttpResponse:
    template = _scoped(template_id)
    try:
        services.template_submit(template=template, actor=request.user, request=request)
    except services.TemplateInvalid as problem:
        messages.error(request, " ".join(p.message for p in problem.problems))
    except DomainError as problem:
        messages.error(request, problem.message)
    else:
        messages.success(request, f"{template.name} ({template.language}) was sent to Meta for review.")
    return redirect("whatsapp:template-detail", template.pk)


@require_POST
@require_permission(Perm.TEMPLATES_EDIT)
def template_refresh(request: HttpRequest, template_id: int) -> HttpResponse:
    template = _scoped(template_id)
    try:
        live_check_claim(tenant_id=request.tenant.pk, kind="template-refresh")
        template = services.template_refresh(template=template)
    except DomainError as problem:
        messages.error(request, problem.message)
    else:
        messages.success(
            request, f"Meta says {template.name} ({template.language}) is {template.get_status_display()}."
        )
    return redirect("whatsapp:template-detail", template.pk)


@require_POST
@require_permission(Perm.TEMPLATES_DELETE)
def template_delete(request: HttpRequest, template_id: int) -> HttpResponse:
    template = _scoped(template_id)
    try:
        count = services.template_delete(
            account=template.account, name=template.name, actor=request.user, request=request
        )
    except DomainError as problem:
        messages.error(request, problem.message)
        return redirect("whatsapp:template-detail", template.pk)
    messages.success(request, f"Deleted {template.name} in {count} language(s). Meta blocks this name for 30 days.")
    return redirect("portal:templates")


@require_POST
@require_permission(Perm.TEMPLATES_EDIT)
def templates_sync(request: HttpRequest, account_id: int) -> HttpResponse:
    account = PortalView.scoped_get(connections.account_get, account_id)
    try:
        live_check_claim(tenant_id=request.tenant.pk, kind="template-sync")
        result = services.templates_sync(account=account, actor=request.user, request=request)
    except DomainError as problem:
        messages.error(request, problem.message)
    else:
        messages.success(
            request, f"Synced from Meta: {result.created} new, {result.updated} updated, {result.deleted} deleted."
        )
    return redirect("portal:templates")
