"""Portal views for media: a message's file, served to the workspace's members who may see its
conversation (fetched from Meta on first view), and an agent's attachment sent to the customer.

Both run outside the request transaction: they wait on Meta (a download, an upload of up to
100 MB) and must not hold a database transaction open meanwhile.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from accounts.roles import Perm
from aerostic.core.errors import DomainError
from aerostic.core.streaming import file_download
from inbox import media as media_services
from inbox.media_types import clean_filename
from inbox.selectors import Agent, conversation_get
from inbox.uploads import use_attachment_upload_handlers
from tenants.portal_base import PortalView


def _conversation_url(conversation_id: int) -> str:
    """The conversation's page, else the inbox's (pages that live in another module of the inbox)."""
    for name, args in (("inbox:conversation", [conversation_id]), ("inbox:index", []), ("portal:inbox", [])):
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            continue
    return "/"


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class MessageMediaView(PortalView):
    """GET media/<message_id>/: the file, inline for pictures, video and audio, a download for
    anything else; never sniffed, never cached by shared caches."""

    required_permission = Perm.INBOX_VIEW
    http_method_names = ["get", "head"]

    def get(self, request: HttpRequest, message_id: int) -> HttpResponseBase:
        agent = Agent.of(request.membership)
        message = self.scoped_get(media_services.message_with_media, agent, message_id)
        try:
            media_file = media_services.media_for_message(message)
        except media_services.NoAttachment:
            raise Http404("This message has no attachment.") from None
        except DomainError as error:  # gone (410) or Meta's failure (502)
            context = {"problem": error.message, "back_url": _conversation_url(message.conversation_id)}
            return render(request, "inbox/media/unavailable.html", context, status=error.status_code)
        inline = media_services.inline_safe(media_file.mime_type)
        response = file_download(
            request,
            media_file.file.open("rb"),
            content_type=media_file.mime_type if inline else _download_type(media_file.mime_type),
            filename=media_services.download_name(media_file, message.pk),
            as_attachment=not inline,
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, max-age=3600"
        # Should a file ever be opened as a page, it runs nothing and reaches nothing.
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response


def _download_type(mime_type: str) -> str:
    # A document keeps its type unless a browser could render it as a page of ours.
    base = mime_type.split(";")[0].strip().lower()
    return "application/octet-stream" if base.startswith("text/html") or "xml" in base or "script" in base else base


@method_decorator(csrf_exempt, name="dispatch")  # checked in post(), after the upload handlers are set
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class AttachmentSendView(PortalView):
    """POST <conversation_id>/attachments/ (multipart `file`, optional `caption`): uploaded to Meta
    and queued as a reply. htmx gets a fragment (a refusal with status 400, Meta's failure 502) and
    the `inbox:reply-queued` event; a plain form a redirect to the conversation with a message."""

    required_permission = Perm.INBOX_REPLY
    http_method_names = ["post"]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        use_attachment_upload_handlers(request)  # before anything reads the body
        return super().dispatch(request, *args, **kwargs)

    @method_decorator(csrf_protect)
    def post(self, request: HttpRequest, conversation_id: int) -> HttpResponse:
        agent = Agent.of(request.membership)
        conversation = self.scoped_get(conversation_get, agent, conversation_id)
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise DomainError("Choose a file to send.")
            media_services.attachment_send(
                conversation, actor=request.user, upload=upload, caption=request.POST.get("caption", "")
            )
        except DomainError as error:
            return self._refused(request, conversation_id, error)
        filename = clean_filename(upload.name or "")
        if getattr(request, "htmx", False):
            response = render(request, "inbox/media/attach_result.html#sent", {"filename": filename})
            response["HX-Trigger"] = "inbox:reply-queued"
            return response
        messages.success(request, f"{filename or 'The attachment'} is on its way to the customer.")
        return redirect(_conversation_url(conversation_id))

    def _refused(self, request: HttpRequest, conversation_id: int, error: DomainError) -> HttpResponse:
        if getattr(request, "htmx", False):
            status = 502 if isinstance(error, media_services.MetaMediaFailed) else 400
            return render(request, "inbox/media/attach_result.html#error", {"problem": error.message}, status=status)
        messages.error(request, error.message)
        return redirect(_conversation_url(conversation_id))
