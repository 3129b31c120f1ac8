"""CSV import: upload, mapping with preview and consent basis, progress, error report."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.dateparse import parse_date

from accounts.roles import Perm
from aerostic.core.errors import DomainError
from contacts import selectors
from contacts.forms import (
    ImportUploadForm,
)
from contacts.models import ContactImport
from tenants.portal_base import PortalView


class ImportStartView(PortalView):
    template_name = "contacts/import_start.html"
    required_permission = Perm.CONTACTS_IMPORT

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(form=kwargs.get("form") or ImportUploadForm(), imports=selectors.import_list()[:20])
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from contacts.importing import import_upload, import_upload_read

        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                contact_import = import_upload(
                    data=import_upload_read(upload), filename=upload.name, actor=request.user, request=request
                )
            except DomainError as error:
                form.add_error("file", error.message)
            else:
                return redirect("contacts:import-detail", import_id=contact_import.pk)
        return self.render_to_response(self.get_context_data(form=form))


class ImportDetailView(PortalView):
    """Uploaded: map the columns (with a preview) and state the consent basis. Queued / running:
    a progress bar that polls. Done: the counts and the error report."""

    template_name = "contacts/import_detail.html"
    required_permission = Perm.CONTACTS_IMPORT

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from contacts.importing import import_preview, suggest_consent_column, suggest_mapping

        context = super().get_context_data(**kwargs)
        contact_import = kwargs.get("contact_import") or self.scoped_get(selectors.import_get, self.kwargs["import_id"])
        mapping_choices = [
            ("ignore", "Ignore"),
            ("phone", "Phone number"),
            ("name", "Name"),
            ("tags", "Tags"),
            ("language", "Language"),
            ("timezone", "Time zone"),
        ]
        mapping_choices += [(f"attr:{d.key}", f"Attribute: {d.label}") for d in selectors.attribute_definitions()]
        uploaded = contact_import.status == ContactImport.Status.UPLOADED
        mapping = kwargs.get("mapping") or (
            suggest_mapping(contact_import.header) if uploaded else contact_import.mapping
        )
        context.update(
            contact_import=contact_import,
            preview=import_preview(contact_import) if uploaded else [],
            columns=[(column, mapping.get(column, "ignore")) for column in contact_import.header],
            mapping_choices=mapping_choices,
            lists=selectors.list_all(),
            errors=kwargs.get("errors") or [],
            posted=kwargs.get("posted") or {"consent_column": suggest_consent_column(contact_import.header)},
            running=contact_import.status in (ContactImport.Status.QUEUED, ContactImport.Status.RUNNING),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from contacts.importing import import_configure

        contact_import = self.scoped_get(selectors.import_get, self.kwargs["import_id"])
        post = request.POST
        mapping = {column: post.get(f"map_{index}", "ignore") for index, column in enumerate(contact_import.header)}
        list_id = post.get("contact_list", "")
        collected_at = _collection_date(post.get("consent_collected_at", ""))
        if collected_at is False:
            return self.render_to_response(
                self.get_context_data(
                    contact_import=contact_import,
                    mapping=mapping,
                    errors=["The consent date is not a date."],
                    posted=post,
                )
            )
        try:
            warnings = import_configure(
                contact_import=contact_import,
                mapping=mapping,
                on_existing=post.get("on_existing", "update"),
                default_country=post.get("default_country", "").strip().upper(),
                tags_to_add=post.get("tags_to_add", ""),
                contact_list=self.scoped_get(selectors.list_get, int(list_id)) if list_id.isdigit() else None,
                consent_column=post.get("consent_column", ""),
                consent_declared=post.get("consent_declared") == "on",
                consent_source=post.get("consent_source", ""),
                consent_collected_at=collected_at,
                actor=request.user,
                request=request,
            )
        except DomainError as error:
            return self.render_to_response(
                self.get_context_data(
                    contact_import=contact_import, mapping=mapping, errors=[error.message], posted=post
                )
            )
        for warning in warnings:
            messages.warning(request, warning)
        messages.success(request, "Import started.")
        return redirect("contacts:import-detail", import_id=contact_import.pk)


def _collection_date(text: str) -> datetime | None | bool:
    """The date consent was collected (noon UTC of that day), None when empty, False when no date."""
    if not text.strip():
        return None
    try:
        day = parse_date(text.strip())
    except ValueError:  # well formed, impossible (2026-02-30)
        day = None
    return datetime.combine(day, time(12, 0), tzinfo=UTC) if day else False


class ImportProgressView(PortalView):
    """The progress fragment the import page polls (htmx) while the job runs."""

    template_name = "contacts/_import_progress.html"
    required_permission = Perm.CONTACTS_IMPORT

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        contact_import = self.scoped_get(selectors.import_get, self.kwargs["import_id"])
        context.update(
            contact_import=contact_import,
            running=contact_import.status in (ContactImport.Status.QUEUED, ContactImport.Status.RUNNING),
        )
        return context


class ImportErrorsView(PortalView):
    required_permission = Perm.CONTACTS_IMPORT

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from contacts.importing import import_error_report

        contact_import = self.scoped_get(selectors.import_get, self.kwargs["import_id"])
        response = HttpResponse(import_error_report(contact_import), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="import-{contact_import.pk}-errors.csv"'
        return response
