"""/api/v1/messages: send one message (text inside the 24-hour window, or an approved template)
through the dispatcher, and read what became of it. The answer is 202: sending happens on the
`sends` queue. An `Idempotency-Key` header makes a retried request return the first message."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import Perm
from aerostic.core.errors import DomainError
from contacts import phones
from contacts.selectors import contact_for_number
from tenants.api_base import TenantAPIView, TenantRequest
from whatsapp import dispatch, selectors
from whatsapp.message_templates import selectors as template_selectors
from whatsapp.message_templates.content import template_content
from whatsapp.models import OutboundMessage


class MessageInput(serializers.Serializer):
    phone_number_id = serializers.IntegerField(help_text="Our id of the sending number (GET /whatsapp/accounts/)")
    to = serializers.CharField(max_length=40, help_text="The recipient's number with its country code")
    text = serializers.CharField(max_length=4096, required=False, help_text="A free-form reply (24-hour window)")
    template_id = serializers.IntegerField(required=False)
    values = serializers.DictField(required=False, default=dict, help_text="The template's parameter values")
    authentication_requested = serializers.BooleanField(required=False, default=False)

    def validate(self, data: dict) -> dict:
        if bool(data.get("text")) == bool(data.get("template_id")):
            raise serializers.ValidationError("Send either `text` or `template_id`.")
        return data


class MessageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField()
    category = serializers.CharField()
    origin = serializers.CharField()
    wamid = serializers.CharField()
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    hold_reason = serializers.CharField()
    error_code = serializers.IntegerField(allow_null=True)
    error_detail = serializers.CharField()
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)
    status_url = serializers.SerializerMethodField(help_text="Where this message's state is read")

    def get_status_url(self, message: OutboundMessage) -> str:
        return reverse("api:message-detail", kwargs={"message_id": message.pk})


class MessageSendApi(TenantAPIView):
    required_permissions = {"POST": Perm.MESSAGES_SEND}

    @extend_schema(
        request=MessageInput,
        responses={202: MessageOutput},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
    )
    def post(self, request: TenantRequest) -> Response:
        data = MessageInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        phone = selectors.phone_get(values["phone_number_id"])
        try:
            number = phones.normalize(values["to"], default_country=request.tenant.default_country)
        except phones.InvalidPhoneNumber as error:
            raise DomainError(f"to: {error}") from None
        contact = contact_for_number(number.e164)  # erased contacts have no number: never found
        template = None
        if values.get("text"):
            content = {"type": "text", "text": {"body": values["text"]}}
            category: str = OutboundMessage.Category.SERVICE
        else:
            template = template_selectors.template_get(values["template_id"])
            filled = template_content(template, phone=phone, values=values["values"])
            content, category = filled.content, filled.category
        message = dispatch.message_enqueue(
            phone=phone,
            to=number.wa_id,
            content=content,
            category=category,
            origin=OutboundMessage.Origin.API,
            contact=contact,
            template=template,
            authentication_requested=values["authentication_requested"],
            idempotency_key=request.headers.get("Idempotency-Key", "")[:128],
            actor=request.user,
        )
        answer = MessageOutput(message).data
        return Response(answer, status=202, headers={"Location": answer["status_url"]})


class MessageDetailApi(TenantAPIView):
    required_permissions = {"GET": Perm.MESSAGES_SEND}

    @extend_schema(responses=MessageOutput)
    def get(self, request: Request, message_id: int) -> Response:
        return Response(MessageOutput(OutboundMessage.objects.get(pk=message_id)).data)
