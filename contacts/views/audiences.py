"""Lists, segments and attribute definitions."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.roles import Perm
from aerostic.core.errors import DomainError
from contacts import selectors, services
from contacts.forms import (
    AttributeForm,
    NamedForm,
    SegmentForm,
)
from contacts.views.common import PAGE_SIZE, problems_to_form
from tenants.portal_base import PortalView


class ListIndexView(PortalView):
    template_name = "contacts/lists.html"
    required_permission = Perm.CONTACTS_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            lists=selectors.list_all(),
            form=kwargs.get("form") or NamedForm(),
            can_edit=self.can(Perm.CONTACTS_EDIT),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can(Perm.CONTACTS_EDIT):
            raise PermissionDenied("Your role does not allow editing lists.")
        form = NamedForm(request.POST)
        if form.is_valid():
            try:
                contact_list = services.list_create(**form.cleaned_data, actor=request.user, request=request)
            except DomainError as error:
                problems_to_form(form, error)
            else:
                messages.success(request, f"List {contact_list.name} created.")
                return redirect("contacts:list-detail", list_id=contact_list.pk)
        return self.render_to_response(self.get_context_data(form=form))


class ListDetailView(PortalView):
    template_name = "contacts/list_detail.html"
    required_permission = Perm.CONTACTS_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        contact_list = self.scoped_get(selectors.list_get, self.kwargs["list_id"])
        page = Paginator(selectors.contact_list(list_id=contact_list.pk), PAGE_SIZE).get_page(
            self.request.GET.get("page")
        )
        context.update(contact_list=contact_list, page_obj=page, can_edit=self.can(Perm.CONTACTS_EDIT))
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can(Perm.CONTACTS_EDIT):
            raise PermissionDenied("Your role does not allow editing lists.")
        contact_list = self.scoped_get(selectors.list_get, self.kwargs["list_id"])
        ids = [int(value) for value in request.POST.getlist("contact") if value.isdigit()]
        if request.POST.get("action") == "delete":
            services.list_delete(contact_list=contact_list, actor=request.user, request=request)
            messages.success(request, f"List {contact_list.name} deleted (its contacts stay).")
            return redirect("contacts:lists")
        if request.POST.get("action") == "remove":
            removed = services.list_members_remove(
                contact_list=contact_list, contact_ids=ids, actor=request.user, request=request
            )
            messages.success(request, f"{removed} removed from the list.")
        elif request.POST.get("action") == "add":
            added = services.list_members_add(
                contact_list=contact_list, contact_ids=ids, actor=request.user, request=request
            )
            messages.success(request, f"{added} added to {contact_list.name}.")
        return redirect("contacts:list-detail", list_id=contact_list.pk)


class SegmentIndexView(PortalView):
    template_name = "contacts/segments.html"
    required_permission = Perm.CONTACTS_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        segments = [(segment, selectors.segment_contacts(segment).count()) for segment in selectors.segment_all()]
        context.update(
            segments=segments,
            form=kwargs.get("form") or SegmentForm(attributes=list(selectors.attribute_definitions())),
            can_edit=self.can(Perm.CONTACTS_EDIT),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can(Perm.CONTACTS_EDIT):
            raise PermissionDenied("Your role does not allow editing segments.")
        form = SegmentForm(request.POST, attributes=list(selectors.attribute_definitions()))
        if form.is_valid():
            try:
                segment = services.segment_save(
                    name=form.cleaned_data["name"], filters=form.filters(), actor=request.user, request=request
                )
            except DomainError as error:
                problems_to_form(form, error)
            else:
                messages.success(request, f"Segment {segment.name} saved.")
                return redirect("contacts:segment-detail", segment_id=segment.pk)
        return self.render_to_response(self.get_context_data(form=form))


class SegmentDetailView(PortalView):
    template_name = "contacts/segment_detail.html"
    required_permission = Perm.CONTACTS_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        segment = self.scoped_get(selectors.segment_get, self.kwargs["segment_id"])
        rows = selectors.contact_list(segment=segment)
        context.update(
            segment=segment,
            filters_json=json.dumps(segment.filters, indent=2, ensure_ascii=False),
            page_obj=Paginator(rows, PAGE_SIZE).get_page(self.request.GET.get("page")),
            can_edit=self.can(Perm.CONTACTS_EDIT),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can(Perm.CONTACTS_EDIT):
            raise PermissionDenied("Your role does not allow editing segments.")
        segment = self.scoped_get(selectors.segment_get, self.kwargs["segment_id"])
        services.segment_delete(segment=segment, actor=request.user, request=request)
        messages.success(request, f"Segment {segment.name} deleted.")
        return redirect("contacts:segments")


class AttributeIndexView(PortalView):
    template_name = "contacts/attributes.html"
    required_permission = Perm.CONTACTS_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            attributes=selectors.attribute_definitions(),
            form=kwargs.get("form") or AttributeForm(),
            can_edit=self.can(Perm.CONTACTS_EDIT),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can(Perm.CONTACTS_EDIT):
            raise PermissionDenied("Your role does not allow defining attributes.")
        form = AttributeForm(request.POST)
        if form.is_valid():
            try:
                definition = services.attribute_define(**form.cleaned_data, actor=request.user, request=request)
            except DomainError as error:
                problems_to_form(form, error)
            else:
                messages.success(request, f"Attribute {definition.key} added.")
                return redirect("contacts:attributes")
        return self.render_to_response(self.get_context_data(form=form))


class ListAddView(PortalView):
    """From the contact list: add the ticked contacts to the chosen list."""

    required_permission = Perm.CONTACTS_EDIT
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        list_id = request.POST.get("list", "")
        contact_list = self.scoped_get(selectors.list_get, int(list_id)) if list_id.isdigit() else None
        ids = [int(value) for value in request.POST.getlist("contact") if value.isdigit()]
        if contact_list is None or not ids:
            messages.error(request, "Choose a list and at least one contact.")
            return redirect("contacts:index")
        added = services.list_members_add(
            contact_list=contact_list, contact_ids=ids, actor=request.user, request=request
        )
        messages.success(request, f"{added} added to {contact_list.name}.")
        return redirect("contacts:list-detail", list_id=contact_list.pk)
