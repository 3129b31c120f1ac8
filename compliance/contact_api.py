"""/api/v1/contacts/…: the contact endpoints that record consent or act under GDPR. Creating a
contact may record the opt-in the team collected; an edit that changes the number resets consent;
`…/consent/` reads and appends the ledger; DELETE erases; `…/export/` is the subject-access export.
They live here, not in contacts/api.py, because contacts sits below compliance and never writes
the consent ledger. Numbers are returned masked, as in every contacts answer."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import Perm, role_has_perm
from aerostic.core.errors import DomainError
from compliance import consent as ledger
from compliance.models import ConsentEvent
from compliance.privacy import contact_data_export, contact_erase
from contacts import selectors, services
from contacts.api import page_of
from contacts.models import Contact
from contacts.serializers import ContactOutput
from tenants.api_base import TenantAPIView


class ContactInput(serializers.Serializer):
    phone = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    language = serializers.CharField(max_length=16, required=False, allow_blank=True)
    timezone = serializers.CharField(max_length=64, required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    attributes = serializers.DictField(required=False)
    consent = serializers.ChoiceField(choices=ConsentEvent.RECORDABLE_KINDS, required=False)
    consent_evidence = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ConsentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    channel = serializers.CharField()
    source = serializers.CharField()
    evidence = serializers.CharField()
    actor_email = serializers.SerializerMethodField()
    occurred_at = serializers.DateTimeField()
    recorded_at = serializers.DateTimeField()

    def get_actor_email(self, event: ConsentEvent) -> str:
        return getattr(event.actor, "email", "") or ""


class ConsentInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ConsentEvent.RECORDABLE_KINDS)
    evidence = serializers.CharField(max_length=2000)
    occurred_at = serializers.DateTimeField(required=False)


class ContactListApi(TenantAPIView):
    required_permissions = {"GET": Perm.CONTACTS_VIEW, "POST": Perm.CONTACTS_EDIT}

    @extend_schema(responses=ContactOutput(many=True))
    def get(self, request: Request) -> Response:
        """Filters: `search` (name, or a full phone number), `tag`, `consent`, `country`, `list`, `segment`."""
        params = request.query_params
        segment = selectors.segment_get(int(params["segment"])) if params.get("segment", "").isdigit() else None
        rows = selectors.contact_list(
            search=params.get("search", ""),
            tag=params.get("tag", ""),
            consent=params.get("consent", ""),
            country=params.get("country", ""),
            list_id=int(params["list"]) if params.get("list", "").isdigit() else None,
            segment=segment,
        )
        return page_of(request, self, rows, ContactOutput)

    @extend_schema(request=ContactInput, responses={201: ContactOutput})
    def post(self, request: Request) -> Response:
        data = ContactInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        consent_kind = values.pop("consent", None)
        evidence = values.pop("consent_evidence", "")
        if consent_kind and not evidence.strip():
            raise DomainError("consent_evidence: say how and when the customer agreed.")
        contact = services.contact_create(
            phone=values["phone"],
            name=values.get("name", ""),
            language=values.get("language", ""),
            timezone_name=values.get("timezone", ""),
            tags=values.get("tags"),
            attributes=values.get("attributes"),
            source=Contact.Source.API,
            actor=request.user,
            request=request,
        )
        if consent_kind:
            ledger.consent_record(
                contact=contact,
                kind=consent_kind,
                source=ConsentEvent.Source.API,
                evidence=evidence,
                actor=request.user,
                request=request,
            )
        return Response(ContactOutput(contact).data, status=201)


class ContactDetailApi(TenantAPIView):
    required_permissions = {"GET": Perm.CONTACTS_VIEW, "PATCH": Perm.CONTACTS_EDIT, "DELETE": Perm.CONTACTS_ERASE}

    @extend_schema(responses=ContactOutput)
    def get(self, request: Request, contact_id: int) -> Response:
        return Response(ContactOutput(selectors.contact_get(contact_id)).data)

    @extend_schema(request=ContactInput(partial=True), responses=ContactOutput)
    def patch(self, request: Request, contact_id: int) -> Response:
        contact = selectors.contact_get(contact_id)
        data = ContactInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        changes.pop("consent", None)
        changes.pop("consent_evidence", None)
        if "timezone" in changes:
            changes["timezone_name"] = changes.pop("timezone")
        contact = ledger.contact_edit(
            contact=contact, actor=request.user, source=ConsentEvent.Source.API, request=request, **changes
        )
        return Response(ContactOutput(contact).data)

    @extend_schema(responses=ContactOutput)
    def delete(self, request: Request, contact_id: int) -> Response:
        """GDPR erase: personal data and message texts go; a tombstone keeps ledger and billing totals."""
        contact = contact_erase(contact=selectors.contact_get(contact_id), actor=request.user, request=request)
        return Response(ContactOutput(contact).data)


class ContactConsentApi(TenantAPIView):
    required_permissions = {"GET": Perm.CONTACTS_VIEW, "POST": Perm.CONTACTS_EDIT}

    @extend_schema(responses=ConsentOutput(many=True))
    def get(self, request: Request, contact_id: int) -> Response:
        return Response(ConsentOutput(ledger.consent_history(selectors.contact_get(contact_id)), many=True).data)

    @extend_schema(request=ConsentInput, responses={201: ContactOutput})
    def post(self, request: Request, contact_id: int) -> Response:
        contact = selectors.contact_get(contact_id)
        data = ConsentInput(data=request.data)
        data.is_valid(raise_exception=True)
        ledger.consent_record(
            contact=contact,
            kind=data.validated_data["kind"],
            source=ConsentEvent.Source.API,
            evidence=data.validated_data["evidence"],
            occurred_at=data.validated_data.get("occurred_at"),
            actor=request.user,
            request=request,
        )
        return Response(ContactOutput(contact).data, status=201)


class ContactDataExportApi(TenantAPIView):
    required_permissions = {"GET": Perm.CONTACTS_EXPORT}

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, contact_id: int) -> Response:
        contact = selectors.contact_get(contact_id)
        include_phone = role_has_perm(request.membership.role, Perm.CONTACTS_REVEAL_PHONE)
        return Response(contact_data_export(contact, include_phone=include_phone, actor=request.user, request=request))
