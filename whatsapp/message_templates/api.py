"""API of message templates: list, create and edit drafts, submit, refresh, render, delete, sync."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import Perm, role_has_perm
from aerostic.core.errors import Conflict, Forbidden
from tenants.api_base import TenantAPIView
from whatsapp import selectors as connections
from whatsapp.connections.checks import live_check_claim
from whatsapp.message_templates import selectors, services
from whatsapp.message_templates.rendering import TemplateParameterError, template_fill, template_message
from whatsapp.models import MessageTemplate


class TemplateOutput(serializers.Serializer):
    id = serializers.IntegerField()
    account_id = serializers.IntegerField()
    name = serializers.CharField()
    language = serializers.CharField()
    category = serializers.CharField()
    requested_category = serializers.CharField()
    pending_category = serializers.CharField()
    pending_category_at = serializers.DateTimeField(allow_null=True)
    billing_category = serializers.SerializerMethodField()
    parameter_format = serializers.CharField()
    components = serializers.JSONField()
    status = serializers.CharField()
    rejected_reason = serializers.CharField()
    quality_score = serializers.CharField()
    meta_template_id = serializers.CharField()
    sendable = serializers.SerializerMethodField()
    pause_ends_at = serializers.SerializerMethodField()
    last_synced_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()

    def get_billing_category(self, template: MessageTemplate) -> str:
        return selectors.billing_category(template)

    def get_sendable(self, template: MessageTemplate) -> bool:
        return selectors.is_sendable(template)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_pause_ends_at(self, template: MessageTemplate) -> datetime | None:
        return selectors.pause_ends_at(template)


class TemplateInput(serializers.Serializer):
    account_id = serializers.IntegerField()
    name = serializers.CharField(max_length=512)
    language = serializers.CharField(max_length=16)
    category = serializers.ChoiceField(choices=MessageTemplate.Category.values)
    parameter_format = serializers.ChoiceField(choices=MessageTemplate.ParameterFormat.values, default="POSITIONAL")
    components = serializers.ListField(child=serializers.DictField(), allow_empty=False)


class TemplateChangeInput(serializers.Serializer):
    category = serializers.ChoiceField(choices=MessageTemplate.Category.values, required=False)
    parameter_format = serializers.ChoiceField(choices=MessageTemplate.ParameterFormat.values, required=False)
    components = serializers.ListField(child=serializers.DictField(), allow_empty=False, required=False)


class RenderInput(serializers.Serializer):
    values = serializers.DictField(default=dict)


class RenderOutput(serializers.Serializer):
    template = serializers.JSONField(help_text="The `template` object of a Graph send")
    preview = serializers.CharField()


class DeletedOutput(serializers.Serializer):
    deleted = serializers.IntegerField()
    name = serializers.CharField()


class SyncOutput(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    deleted = serializers.IntegerField()


def _output(template: MessageTemplate, problems: list[Any] | None = None, status: int = 200) -> Response:
    body = dict(TemplateOutput(template).data)
    if problems is not None:
        body["problems"] = [{"where": p.where, "message": p.message} for p in problems]
    return Response(body, status=status)


class TemplateListApi(TenantAPIView):
    required_permissions = {"GET": Perm.TEMPLATES_VIEW, "POST": Perm.TEMPLATES_EDIT}

    @extend_schema(responses=TemplateOutput(many=True))
    def get(self, request: Request) -> Response:
        rows = selectors.templates_for(
            status=request.query_params.get("status", ""),
            category=request.query_params.get("category", ""),
            search=request.query_params.get("search", ""),
        )
        return Response(TemplateOutput(rows, many=True).data)

    @extend_schema(request=TemplateInput, responses={201: TemplateOutput})
    def post(self, request: Request) -> Response:
        """Creates a draft; the answer lists every Meta rule it still breaks (`problems`)."""
        data = TemplateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        account = connections.account_get(values.pop("account_id"))
        template, problems = services.template_draft_save(
            account=account, actor=request.user, request=request, **values
        )
        return _output(template, problems, status=201)


class TemplateDetailApi(TenantAPIView):
    required_permissions = {"GET": Perm.TEMPLATES_VIEW, "PATCH": Perm.TEMPLATES_EDIT, "DELETE": Perm.TEMPLATES_DELETE}

    @extend_schema(responses=TemplateOutput)
    def get(self, request: Request, template_id: int) -> Response:
        return _output(selectors.template_get(template_id))

    @extend_schema(request=TemplateChangeInput, responses=TemplateOutput)
    def patch(self, request: Request, template_id: int) -> Response:
        """A draft changes here; an approved / rejected / paused one changes and goes back to Meta
        for review (Meta's edit limits apply; its refusal comes back as a 400 with Meta's text)."""
        template = selectors.template_get(template_id)
        data = TemplateChangeInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if template.status == MessageTemplate.Status.DRAFT:
            template, problems = services.template_draft_save(
                account=template.account,
                name=template.name,
                language=template.language,
                category=values.get("category", template.requested_category or template.category),
                parameter_format=values.get("parameter_format", template.parameter_format),
                components=values.get("components", template.components),
                actor=request.user,
                request=request,
                template=template,
            )
            return _output(template, problems)
        if template.status not in services.EDITABLE_AT_META:
            raise Conflict(f"A {template.get_status_display().lower()} template cannot be edited now.")
        if not role_has_perm(request.membership.role, Perm.TEMPLATES_SUBMIT):
            raise Forbidden("Editing a live template resubmits it to Meta: your role cannot.")
        template.components = values.get("components", template.components)
        template.requested_category = values.get("category", template.requested_category or template.category)
        template.parameter_format = values.get("parameter_format", template.parameter_format)
        return _output(services.template_submit(template=template, actor=request.user, request=request))

    @extend_schema(responses=DeletedOutput)
    def delete(self, request: Request, template_id: int) -> Response:
        """Deletes the template's name in every language (Meta blocks the name for 30 days)."""
        template = selectors.template_get(template_id)
        count = services.template_delete(
            account=template.account, name=template.name, actor=request.user, request=request
        )
        return Response({"deleted": count, "name": template.name})


class TemplateSubmitApi(TenantAPIView):
    required_permissions = {"POST": Perm.TEMPLATES_SUBMIT}

    @extend_schema(request=None, responses=TemplateOutput)
    def post(self, request: Request, template_id: int) -> Response:
        template = selectors.template_get(template_id)
        return _output(services.template_submit(template=template, actor=request.user, request=request))


class TemplateRefreshApi(TenantAPIView):
    """Reads the template back from Meta: one per workspace within the cooldown (else 429)."""

    required_permissions = {"POST": Perm.TEMPLATES_EDIT}

    @extend_schema(request=None, responses=TemplateOutput)
    def post(self, request: Request, template_id: int) -> Response:
        template = selectors.template_get(template_id)
        live_check_claim(tenant_id=request.tenant.pk, kind="template-refresh")
        return _output(services.template_refresh(template=template))


class TemplateRenderApi(TenantAPIView):
    """The exact Graph `template` object a send would carry, and the text the customer reads."""

    required_permissions = {"POST": Perm.TEMPLATES_VIEW}

    @extend_schema(request=RenderInput, responses=RenderOutput)
    def post(self, request: Request, template_id: int) -> Response:
        template = selectors.template_get(template_id)
        data = RenderInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            rendered = template_fill(
                components=template.components,
                parameter_format=template.parameter_format,
                values=data.validated_data["values"],
            )
        except TemplateParameterError as error:
            return Response(
                {
                    "detail": str(error),
                    "code": "invalid",
                    "missing": error.missing,
                    "extra": error.extra,
                    "invalid": error.invalid,
                },
                status=400,
            )
        return Response(
            {
                "template": template_message(name=template.name, language=template.language, rendered=rendered),
                "preview": rendered.preview,
            }
        )


class TemplateSyncApi(TenantAPIView):
    required_permissions = {"POST": Perm.TEMPLATES_EDIT}

    @extend_schema(request=None, responses=SyncOutput)
    def post(self, request: Request, account_id: int) -> Response:
        account = connections.account_get(account_id)
        live_check_claim(tenant_id=request.tenant.pk, kind="template-sync")
        result = services.templates_sync(account=account, actor=request.user, request=request)
        return Response({"created": result.created, "updated": result.updated, "deleted": result.deleted})
