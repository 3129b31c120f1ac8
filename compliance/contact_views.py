"""A contact's pages that record consent or act under GDPR, mounted by the project's URL map under
/contacts/ (namespace `contacts`, beside contacts/urls.py): a new contact with the opt-in the team
collected, a contact with its consent history (where an edit that changes the number resets
consent), erase and the subject-access export. They live here, not in contacts, because contacts
sits below compliance and never writes the consent ledger."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from accounts.roles import Perm
from aerostic.core.errors import DomainError
from compliance import consent as ledger
from compliance.forms import ConsentForm, OptInOnCreateForm
from compliance.models import ConsentEvent
from compliance.privacy import contact_data_export, contact_erase
from contacts import selectors, services
from contacts.forms import ContactForm
from contacts.views.common import CONSENT_KIND, attribute_values, problems_to_form
from tenants.portal_base import PortalView


class ContactCreateView(PortalView):
    template_name = "contacts/contact_new.html"
    required_permission = Perm.CONTACTS_EDIT

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", ContactForm())
        context.setdefault("consent_form", OptInOnCreateForm())
        context["attributes"] = [(d, "") for d in selectors.attribute_definitions()]
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form, consent_form = ContactForm(request.POST), OptInOnCreateForm(request.POST)
        definitions = list(selectors.attribute_definitions())
        if form.is_valid() and consent_form.is_valid():
            if consent_form.cleaned_data["opted_in"] and not consent_form.cleaned_data["evidence"].strip():
                consent_form.add_error("evidence", "Say where and when the customer agreed.")
            else:
                try:
                    contact = services.contact_create(
                        **form.cleaned_data,
                        attributes=attribute_values(request, definitions),
                        actor=request.user,
                        request=request,
                    )
                except DomainError as error:
                    problems_to_form(form, error)
                else:
                    if consent_form.cleaned_data["opted_in"]:
                        ledger.consent_record(
                            contact=contact,
                            kind=ConsentEvent.Kind.OPT_IN,
                            source=ConsentEvent.Source.AGENT,
                            evidence=consent_form.cleaned_data["evidence"],
                            actor=request.user,
                            request=request,
                        )
                    messages.success(request, "Contact added.")
                    return redirect("contacts:detail", contact_id=contact.pk)
        return self.render_to_response(self.get_context_data(form=form, consent_form=consent_form))


class ContactDetailView(PortalView):
    template_name = "contacts/contact_detail.html"
    required_permission = Perm.CONTACTS_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        contact = kwargs.get("contact") or self.scoped_get(selectors.contact_get, self.kwargs["contact_id"])
        definitions = list(selectors.attribute_definitions())
        context.update(
            contact=contact,
            consent_kind=CONSENT_KIND.get(contact.consent_state, "neutral"),
            history=ledger.consent_history(contact),
            lists=selectors.contact_lists_of(contact),
            attributes=[(d, contact.attributes.get(d.key, "")) for d in definitions],
            form=kwargs.get("form")
            or ContactForm(
                initial={
                    "phone": contact.phone_hint,
                    "name": contact.name,
                    "language": contact.language,
                    "timezone_name": contact.timezone,
                    "tags": ", ".join(contact.tags),
                }
            ),
            consent_form=kwargs.get("consent_form") or ConsentForm(initial={"kind": "opt_in"}),
            can_edit=self.can(Perm.CONTACTS_EDIT) and not contact.is_erased,
            can_reveal=self.can(Perm.CONTACTS_REVEAL_PHONE) and not contact.is_erased,
            can_erase=self.can(Perm.CONTACTS_ERASE) and not contact.is_erased,
            can_export=self.can(Perm.CONTACTS_EXPORT),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can(Perm.CONTACTS_EDIT):
            raise PermissionDenied("Your role does not allow editing contacts.")
        contact = self.scoped_get(selectors.contact_get, self.kwargs["contact_id"])
        if request.POST.get("action") == "consent":
            consent_form = ConsentForm(request.POST)
            if consent_form.is_valid():
                ledger.consent_record(
                    contact=contact,
                    kind=consent_form.cleaned_data["kind"],
                    source=ConsentEvent.Source.AGENT,
                    evidence=consent_form.cleaned_data["evidence"],
                    actor=request.user,
                    request=request,
                )
                messages.success(request, "Consent recorded.")
                return redirect("contacts:detail", contact_id=contact.pk)
            return self.render_to_response(self.get_context_data(contact=contact, consent_form=consent_form))
        form = ContactForm(request.POST)
        if form.is_valid():
            changes = dict(form.cleaned_data)
            if changes["phone"] == contact.phone_hint:
                changes.pop("phone")  # the masked number came back unchanged
            changes["attributes"] = attribute_values(request, list(selectors.attribute_definitions()))
            try:
                ledger.contact_edit(
                    contact=contact, actor=request.user, source=ConsentEvent.Source.AGENT, request=request, **changes
                )
            except DomainError as error:
                problems_to_form(form, error)
            else:
                messages.success(request, "Contact saved.")
                return redirect("contacts:detail", contact_id=contact.pk)
        return self.render_to_response(self.get_context_data(contact=contact, form=form))


class ContactEraseView(PortalView):
    required_permission = Perm.CONTACTS_ERASE
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        contact = self.scoped_get(selectors.contact_get, self.kwargs["contact_id"])
        contact_erase(contact=contact, actor=request.user, request=request)
        messages.success(request, "The contact's personal data was erased. A tombstone keeps billing totals intact.")
        return redirect("contacts:detail", contact_id=contact.pk)


class ContactDataExportView(PortalView):
    required_permission = Perm.CONTACTS_EXPORT

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        contact = self.scoped_get(selectors.contact_get, self.kwargs["contact_id"])
        data = contact_data_export(
            contact, include_phone=self.can(Perm.CONTACTS_REVEAL_PHONE), actor=request.user, request=request
        )
        response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
        response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}.json"'
        return response
