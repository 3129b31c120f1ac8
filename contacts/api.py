"""/api/v1/…: a contact's number (reveal), lists, segments, attributes and CSV imports.

Numbers are returned masked (`phone_hint`); the full number only from `contacts/<id>/reveal/`
(permission `contacts.reveal_phone`, audited). Each view calls one service or selector. The contact
endpoints that record consent or act under GDPR (create, edit, erase, consent, data export) are
compliance's (compliance/contact_api.py): contacts sits below the consent ledger.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import Perm
from contacts import selectors, services
from contacts.serializers import (
    AttributeInput,
    AttributeOutput,
    ContactOutput,
    CountOutput,
    ImportConfigureInput,
    ImportOutput,
    ImportUploadInput,
    ListInput,
    ListOutput,
    MembersInput,
    RevealOutput,
    SegmentInput,
    SegmentOutput,
)
from tenants.api_base import TenantAPIView


def page_of(request: Request, view: Any, rows: Any, serializer: type[serializers.Serializer]) -> Response:
    """One page of `rows` (the API's page-number pagination), as `serializer` shapes them."""
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)


class ContactRevealApi(TenantAPIView):
    required_permissions = {"POST": Perm.CONTACTS_REVEAL_PHONE}

    @extend_schema(request=None, responses=RevealOutput)
    def post(self, request: Request, contact_id: int) -> Response:
        contact = selectors.contact_get(contact_id)
        return Response({"phone": services.contact_phone_reveal(contact=contact, actor=request.user, request=request)})


class ListListApi(TenantAPIView):
    required_permissions = {"GET": Perm.CONTACTS_VIEW, "POST": Perm.CONTACTS_EDIT}

    @extend_schema(responses=ListOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(ListOutput(selectors.list_all(), many=True).data)

    @extend_schema(request=ListInput, responses={201: ListOutput})
    def post(self, request: Request) -> Response:
        data = ListInput(data=request.data)
        data.is_valid(raise_exception=True)
        contact_list = services.list_create(**data.validated_data, actor=request.user, request=request)
        return Response(ListOutput(contact_list).data, status=201)


class ListDetailApi(TenantAPIView):
    required_permissions = {"GET": Perm.CONTACTS_VIEW, "DELETE": Perm.CONTACTS_EDIT}

    @extend_schema(responses=ListOutput)
    def get(self, request: Request, list_id: int) -> Response:
        return Response(ListOutput(selectors.list_get(list_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, list_id: int) -> Response:
        services.list_delete(contact_list=selectors.list_get(list_id), actor=request.user, request=request)
        return Response(status=204)


class ListMembersApi(TenantAPIView):
    required_permissions = {"GET": Perm.CONTACTS_VIEW, "POST": Perm.CONTACTS_EDIT, "DELETE": Perm.CONTACTS_EDIT}

    @extend_schema(responses=ContactOutput(many=True))
    def get(self, request: Request, list_id: int) -> Response:
        contact_list = selectors.list_get(list_id)
        return page_of(request, self, selectors.contact_list(list_id=contact_list.pk), ContactOutput)

    @extend_schema(request=MembersInput, responses=CountOutput)
    def post(self, request: Request, list_id: int) -> Response:
        contact_list = selectors.list_get(list_id)
        data = MembersInput(data=request.data)
        data.is_valid(raise_exception=True)
        added = services.list_members_add(
            contact_list=contact_list,
            contact_ids=data.validated_data["contact_ids"],
            actor=request.user,
            request=request,
        )
        return Response({"count": added})

    @extend_schema(request=MembersInput, responses=CountOutput)
    def delete(self, request: Request, list_id: int) -> Response:
        contact_list = selectors.list_get(list_id)
        data = MembersInput(data=request.data)
        data.is_valid(raise_exception=True)
        removed = services.list_members_remove(
            contact_list=contact_list,
            contact_ids=data.validated_data["contact_ids"],
            actor=request.user,
            request=request,
        )
        return Response({"count": removed})


class SegmentListApi(TenantAPIView):
    required_permissions = {"GET": Perm.CONTACTS_VIEW, "POST": Perm.CONTACTS_EDIT}

    @extend_schema(responses=SegmentOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(SegmentOutput(selectors.segment_all(), many=True).data)

    @extend_schema(request=SegmentInput, responses={201: SegmentOutput})
    def post(self, request: Request) -> Response:
        data = SegmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        segment = services.segment_save(**data.validated_data, actor=request.user, request=request)
        return Response(SegmentOutput(segment).data, status=201)


class SegmentDetailApi(TenantAPIView):
    required_permissions = {"GET": Perm.CONTACTS_VIEW, "PUT": Perm.CONTACTS_EDIT, "DELETE": Perm.CONTACTS_EDIT}

    @extend_schema(responses=SegmentOutput)
    def get(self, request: Request, segment_id: int) -> Response:
        return Response(SegmentOutput(selectors.segment_get(segment_id)).data)

    @extend_schema(request=SegmentInput, responses=SegmentOutput)
    def put(self, request: Request, segment_id: int) -> Response:
        segment = selectors.segment_get(segment_id)
        data = SegmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        segment = services.segment_save(segment=segment, **data.validated_data, actor=request.user, request=request)
        return Response(SegmentOutput(segment).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, segment_id: int) -> Response:
        services.segment_delete(segment=selectors.segment_get(segment_id), actor=request.user, request=request)
        return Response(status=204)


class AttributeListApi(TenantAPIView):
    required_permissions = {"GET": Perm.CONTACTS_VIEW, "POST": Perm.CONTACTS_EDIT}

    @extend_schema(responses=AttributeOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(AttributeOutput(selectors.attribute_definitions(), many=True).data)

    @extend_schema(request=AttributeInput, responses={201: AttributeOutput})
    def post(self, request: Request) -> Response:
        data = AttributeInput(data=request.data)
        data.is_valid(raise_exception=True)
        definition = services.attribute_define(**data.validated_data, actor=request.user, request=request)
        return Response(AttributeOutput(definition).data, status=201)


class ImportListApi(TenantAPIView):
    """Upload a CSV (multipart `file`); the answer shows its columns. Then configure it (…/start/)."""

    required_permissions = {"GET": Perm.CONTACTS_IMPORT, "POST": Perm.CONTACTS_IMPORT}
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(responses=ImportOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(ImportOutput(selectors.import_list()[:100], many=True).data)

    @extend_schema(request=ImportUploadInput, responses={201: ImportOutput})
    def post(self, request: Request) -> Response:
        from contacts.importing import import_upload, import_upload_read

        data = ImportUploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        contact_import = import_upload(
            data=import_upload_read(upload), filename=upload.name, actor=request.user, request=request
        )
        return Response(ImportOutput(contact_import).data, status=201)


class ImportDetailApi(TenantAPIView):
    required_permissions = {"GET": Perm.CONTACTS_IMPORT}

    @extend_schema(responses=ImportOutput)
    def get(self, request: Request, import_id: int) -> Response:
        return Response(ImportOutput(selectors.import_get(import_id)).data)


class ImportStartApi(TenantAPIView):
    required_permissions = {"POST": Perm.CONTACTS_IMPORT}

    @extend_schema(request=ImportConfigureInput, responses=ImportOutput)
    def post(self, request: Request, import_id: int) -> Response:
        from contacts.importing import import_configure

        contact_import = selectors.import_get(import_id)
        data = ImportConfigureInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        list_id = values.pop("contact_list_id", None)
        import_configure(
            contact_import=contact_import,
            contact_list=selectors.list_get(list_id) if list_id else None,
            actor=request.user,
            **values,
        )
        contact_import.refresh_from_db()
        return Response(ImportOutput(contact_import).data)
