"""The composer's actions: reply (free text or a template), private note, retry of a failed send,
the /shortcut lookup of quick replies and the template preview. With htmx a send answers the fresh
composer and the refreshed timeline at once; without JavaScript it redirects back to the page.
A refusal (window closed, bad values) shows inline with the typed text kept (400)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.roles import Perm
from aerostic.core.errors import DomainError
from inbox import replies, teamwork
from inbox.models import Conversation, QuickReply
from inbox.views.common import InboxView, is_htmx
from inbox.views.composer_forms import approved_template, composer_context, template_context, values_from
from inbox.views.conversation import conversation_page, head_context, timeline_context

QUICK_REPLY_RESULTS = 8


class ComposerAction(InboxView):
    """A POST of the composer: only members who may reply (403 otherwise, before any lookup)."""

    required_permission = Perm.INBOX_REPLY
    http_method_names = ["post"]

    def answer(self, conversation: Conversation, *, status: int = 200, **composer_state: Any) -> HttpResponse:
        request = self.request
        if not is_htmx(request):
            if status == 200:
                return redirect(reverse("inbox:conversation", args=[conversation.pk]) + "#composer")
            return conversation_page(request, self, conversation, status=status, **composer_state)
        conversation.refresh_from_db()
        context = {"conversation": conversation, "can_reply": True, "oob": True}
        context.update(composer_context(conversation, **composer_state))
        context.update(head_context(conversation))
        context.update(timeline_context(request, conversation, can_reply=True))
        return render(request, "inbox/_composer_response.html", context, status=status)


class ReplyView(ComposerAction):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        conversation = self.get_conversation()
        key = request.POST.get("key", "")[:64]
        idempotency_key = f"inbox:{request.user.pk}:{key}" if key else ""
        if request.POST.get("mode") == "template":
            values = values_from(request.POST)
            template_id = request.POST.get("template_id", "")
            try:
                template = approved_template(conversation, template_id)
                if template is None:
                    raise DomainError("Choose one of the approved templates of this number's WhatsApp account.")
                replies.reply_send(
                    conversation,
                    actor=request.user,
                    template_id=template.pk,
                    values=values,
                    idempotency_key=idempotency_key,
                )
            except DomainError as refused:
                return self.answer(
                    conversation,
                    status=400,
                    mode="template",
                    template_id=template_id,
                    values=values,
                    template_error=refused.message,
                )
            return self.answer(conversation)
        text = request.POST.get("text", "")
        try:
            replies.reply_send(conversation, actor=request.user, text=text, idempotency_key=idempotency_key)
        except DomainError as refused:
            return self.answer(conversation, status=400, text=text, reply_error=refused.message)
        return self.answer(conversation)


class NoteView(ComposerAction):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        conversation = self.get_conversation()
        body = request.POST.get("body", "")
        try:
            teamwork.note_add(conversation, body=body, actor=request.user)
        except DomainError as refused:
            return self.answer(conversation, status=400, mode="note", note=body, note_error=refused.message)
        return self.answer(conversation, mode="note")


class RetryView(ComposerAction):
    """Sends a failed message again (a new message; the failed one stays in the timeline)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        conversation = self.get_conversation()
        outbound_id, message_id = request.POST.get("outbound_id", ""), request.POST.get("message_id", "")
        try:
            if not (outbound_id.isdigit() or message_id.isdigit()):
                raise DomainError("Choose the failed message to send again.")
            replies.retry_send(
                conversation,
                actor=request.user,
                outbound_id=int(outbound_id) if outbound_id.isdigit() else None,
                message_id=int(message_id) if message_id.isdigit() and not outbound_id.isdigit() else None,
            )
        except DomainError as refused:
            if is_htmx(request):
                context = timeline_context(request, conversation, can_reply=True)
                context["timeline_alert"] = refused.message
                return render(request, "inbox/_timeline.html", context, status=400)
            return conversation_page(request, self, conversation, status=400, alert=refused.message)
        if is_htmx(request):
            return render(request, "inbox/_timeline.html", timeline_context(request, conversation, can_reply=True))
        return redirect(reverse("inbox:conversation", args=[conversation.pk]))


class QuickRepliesView(InboxView):
    """The canned responses whose shortcut starts with what follows the slash (JSON)."""

    required_permission = Perm.INBOX_REPLY

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        prefix = request.GET.get("q", "").strip().lstrip("/").lower()[:40]
        rows = QuickReply.objects.order_by("shortcut")
        if prefix:
            rows = rows.filter(shortcut__startswith=prefix)
        results = [
            {"shortcut": row.shortcut, "title": row.title, "body": row.body} for row in rows[:QUICK_REPLY_RESULTS]
        ]
        return JsonResponse({"results": results})


class TemplatePreviewView(InboxView):
    """The template picker's fields and live preview (`part=preview`: the preview alone, so the
    field being typed in keeps its focus)."""

    required_permission = Perm.INBOX_REPLY

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        conversation = self.get_conversation()
        template_id = request.GET.get("template_id", "")
        template = approved_template(conversation, template_id)
        if template is None and template_id:
            return HttpResponse(
                "Choose one of the approved templates of this number's WhatsApp account.",
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        context = {"conversation": conversation}
        context.update(template_context(conversation, template, values_from(request.GET)))
        part = "inbox/_template_preview.html" if request.GET.get("part") == "preview" else "inbox/_template_form.html"
        return render(request, part, context)
