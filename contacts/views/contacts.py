"""Contact pages: list and search, reveal, CSV export. The pages that record consent or act under
GDPR (new contact with its opt-in, a contact with its consent history, erase, data export) are
compliance's (compliance/contact_views.py), mounted under the same /contacts/ routes."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.roles import Perm
from aerostic.core import audit
from aerostic.core.errors import DomainError
from aerostic.core.streaming import streaming_download
from contacts import selectors, services
from contacts.models import ConsentState
from contacts.views.common import CONSENT_KIND, PAGE_SIZE
from tenants.portal_base import PortalView


class ContactListView(PortalView):
    template_name = "contacts/contact_list.html"
    required_permission = Perm.CONTACTS_VIEW

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        query = self.request.GET
        filters = {key: query.get(key, "") for key in ("q", "tag", "consent", "country", "list")}
        rows = selectors.contact_list(
            search=filters["q"],
            tag=filters["tag"],
            consent=filters["consent"],
            country=filters["country"],
            list_id=int(filters["list"]) if filters["list"].isdigit() else None,
        )
        page = Paginator(rows, PAGE_SIZE).get_page(query.get("page"))
        context.update(
            page_obj=page,
            contacts=[(contact, CONSENT_KIND.get(contact.consent_state, "neutral")) for contact in page],
            filters=filters,
            consent_states=ConsentState.choices,
            lists=selectors.list_all(),
            consent_counts=selectors.consent_counts(),
            can_edit=self.can(Perm.CONTACTS_EDIT),
            can_import=self.can(Perm.CONTACTS_IMPORT),
            can_export=self.can(Perm.CONTACTS_EXPORT),
        )
        return context


class ContactRevealView(PortalView):
    """POST only: the full number, for members allowed to see it; each reveal is audited."""

    required_permission = Perm.CONTACTS_REVEAL_PHONE
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        contact = self.scoped_get(selectors.contact_get, self.kwargs["contact_id"])
        try:
            number = services.contact_phone_reveal(contact=contact, actor=request.user, request=request)
        except DomainError as error:
            return HttpResponse(error.message, status=409, content_type="text/plain")
        return HttpResponse(f'<span class="mono">{number}</span>', content_type="text/html")


class ContactExportView(PortalView):
    """The whole (filtered) contact list as CSV; full numbers only for members who may see them."""

    required_permission = Perm.CONTACTS_EXPORT

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from contacts.exporting import contacts_csv_chunks

        query = request.GET
        rows = selectors.contact_list(
            search=query.get("q", ""),
            tag=query.get("tag", ""),
            consent=query.get("consent", ""),
            country=query.get("country", ""),
        )
        include_phone = self.can(Perm.CONTACTS_REVEAL_PHONE)
        audit.record(
            "contact.export_csv",
            actor=request.user,
            tenant=request.tenant.pk,
            request=request,
            metadata={"full_numbers": include_phone},
        )
        chunks = contacts_csv_chunks(request.tenant.pk, rows, include_phone=include_phone)
        return streaming_download(request, chunks, filename=f"contacts-{timezone.now():%Y%m%d}.csv")
