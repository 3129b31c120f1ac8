"""POST /api/v1/conversations/<id>/attachments/: an agent's file (multipart `file`, optional
`caption`) uploaded to Meta and queued as a reply to the customer, with the portal's rules
(inbox.media.attachment_send). The answer is 202 with the queued message, as /api/v1/messages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import Perm
from inbox.media import attachment_send
from inbox.selectors import Agent, conversation_get
from inbox.uploads import use_attachment_upload_handlers
from tenants.api_base import TenantAPIView, TenantRequest
from whatsapp.messages_api import MessageOutput


class AttachmentInput(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True,  # refused by inbox.media_types with a clearer message
        help_text="JPEG/PNG images ≤ 5 MB, MP4/3GPP video and AAC/AMR/MP3/M4A/OGG audio ≤ 16 MB, "
        "WEBP stickers ≤ 500 KB (static 100 KB), PDF/text/Office documents ≤ 100 MB",
    )
    caption = serializers.CharField(required=False, allow_blank=True, default="", max_length=1024)


class AttachmentSendApi(TenantAPIView):
    required_permissions = {"POST": Perm.INBOX_REPLY}

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        use_attachment_upload_handlers(request)  # before the parser reads the body
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(request={"multipart/form-data": AttachmentInput}, responses={202: MessageOutput})
    def post(self, request: TenantRequest, conversation_id: int) -> Response:
        conversation = conversation_get(Agent.of(request.membership), conversation_id)
        data = AttachmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        message = attachment_send(
            conversation,
            actor=request.user,
            upload=data.validated_data["file"],
            caption=data.validated_data["caption"],
        )
        answer = MessageOutput(message).data
        return Response(answer, status=202, headers={"Location": answer["status_url"]})
