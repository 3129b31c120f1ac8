"""The AI auto-reply's settings pages under /inbox/settings/ai/: the switch, numbers, provider,
threshold, reply cap, blocked words and hand-over team; the knowledge base (list, search, add,
edit, delete, CSV import and export); and "Try it": the test box (what the AI would answer to a
question, and which rule would stop it) and the leave-one-out evaluation that shows how each
threshold would do on the workspace's own pairs.

Only those who configure the AI (AI_CONFIGURE) see these pages, even to look: the settings name
the chat model and the knowledge base holds the business's answers. Every change goes through
inbox.ai.services (audited); a refusal shows beside its field with a 400 and stores nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.roles import Perm
from inbox import settings_selectors
from inbox.ai import selectors as ai_selectors
from inbox.ai import services as ai_services
from inbox.ai import trial
from inbox.ai.forms import AISettingsForm, KnowledgeForm, KnowledgeImportForm, TryQuestionForm
from inbox.ai.intents import INTENTS
from inbox.ai.models import KnowledgeAnswer
from inbox.views.settings import SettingsPage, _applied

PAGE_SIZE = 50


class AIPage(SettingsPage):
    required_permission = Perm.AI_CONFIGURE
    manage_permission = Perm.AI_CONFIGURE
    section = "ai"
    ai_tab = ""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(ai_tab=self.ai_tab, ai_rolled_out=ai_selectors.ai_available(self.request.tenant.pk))
        return context


# --- settings


class AISettingsView(AIPage):
    template_name = "inbox/ai/settings.html"
    ai_tab = "settings"

    def settings_form(self, data: Any = None) -> AISettingsForm:
        current = ai_selectors.ai_settings()
        choices = settings_selectors.filter_choices()
        return AISettingsForm(
            data,
            initial=AISettingsForm.initial_from(current, ai_selectors.ai_number_ids()),
            phones=choices.phones,
            teams=choices.teams,
            key_is_stored=current.has_chat_api_key,
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", self.settings_form())
        context["builtin_topics"] = list(INTENTS.values())
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.settings_form(request.POST)

        def save() -> None:
            values = dict(form.cleaned_data)
            number_ids = values.pop("phone_number_ids")
            ai_services.ai_settings_update(actor=request.user, request=request, **values)
            ai_services.ai_numbers_set(phone_number_ids=number_ids, actor=request.user, request=request)

        if form.is_valid() and _applied(form, save):
            messages.success(request, "AI settings saved.")
            return redirect("inbox:settings-ai")
        return self.refused(form=form)


# --- the knowledge base


class KnowledgeListView(AIPage):
    """GET: the pairs (search, pages of 50), the add form, CSV import and export; POST: add a pair."""

    template_name = "inbox/ai/knowledge.html"
    ai_tab = "knowledge"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        search = self.request.GET.get("q", "").strip()
        page = Paginator(ai_selectors.knowledge_list(search), PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.setdefault("form", KnowledgeForm())
        context.setdefault("import_form", KnowledgeImportForm())
        context.update(search=search, page_obj=page, pairs=page.object_list)
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = KnowledgeForm(request.POST)
        if form.is_valid() and _applied(
            form, lambda: ai_services.knowledge_save(**form.cleaned_data, actor=request.user, request=request)
        ):
            messages.success(request, "Question added to the knowledge base.")
            return redirect("inbox:settings-ai-knowledge")
        return self.refused(form=form)


class KnowledgeImportView(KnowledgeListView):
    """POST: a CSV of pairs, all or nothing; a bad line is named on the list page with a 400."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = KnowledgeImportForm(request.POST, request.FILES)
        counts: dict[str, int] = {}

        def load() -> None:
            # One byte past the limit is enough for the service to refuse the size.
            data = form.cleaned_data["file"].read(ai_services.CSV_MAX_BYTES + 1)
            counts.update(ai_services.knowledge_csv_import(data=data, actor=request.user, request=request))

        if form.is_valid() and _applied(form, load):
            messages.success(request, f"Imported: {counts['created']} added, {counts['updated']} updated.")
            return redirect("inbox:settings-ai-knowledge")
        return self.refused(import_form=form)


class KnowledgeExportView(AIPage):
    http_method_names = ["get"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = HttpResponse(
            ai_services.knowledge_csv_export(ai_selectors.knowledge_list().iterator()),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="knowledge-base.csv"'
        return response


class KnowledgePairView(AIPage):
    """GET: a pair's edit form and delete button; POST: save it."""

    template_name = "inbox/ai/knowledge_pair.html"
    ai_tab = "knowledge"

    def pair(self) -> KnowledgeAnswer:
        return self.scoped_get(ai_selectors.knowledge_get, self.kwargs["pair_id"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        pair = self.pair()
        context["pair"] = pair
        context.setdefault("form", KnowledgeForm(initial=KnowledgeForm.initial_from(pair)))
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        pair = self.pair()
        form = KnowledgeForm(request.POST)
        if form.is_valid() and _applied(
            form,
            lambda: ai_services.knowledge_save(pair=pair, **form.cleaned_data, actor=request.user, request=request),
        ):
            messages.success(request, "Saved.")
            return redirect("inbox:settings-ai-knowledge")
        return self.refused(form=form)


class KnowledgeDeleteView(AIPage):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        pair = self.scoped_get(ai_selectors.knowledge_get, self.kwargs["pair_id"])
        ai_services.knowledge_delete(pair=pair, actor=request.user, request=request)
        messages.success(request, f"Deleted “{pair.question}” from the knowledge base.")
        return redirect("inbox:settings-ai-knowledge")


# --- try it: the test box and the evaluation


class TryView(AIPage):
    """GET: the test box and the evaluation's button. The two POST views below render this page
    (or, for htmx, only their part of it)."""

    template_name = "inbox/ai/try.html"
    ai_tab = "try"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("test_form", TryQuestionForm())
        context["not_checked"] = trial.NOT_CHECKED
        return context

    def answer(self, part: str, status: int = 200, **context: Any) -> HttpResponse:
        if self.request.htmx:
            return self.response_class(
                request=self.request,
                template=f"{self.template_name}#{part}",
                context=self.get_context_data(**context),
                status=status,
            )
        return self.render_to_response(self.get_context_data(**context), status=status)


class TryQuestionView(TryView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = TryQuestionForm(request.POST)
        if not form.is_valid():
            return self.answer("test-box", status=400, test_form=form)
        result = trial.question_trial(request.tenant.pk, **form.cleaned_data)
        return self.answer("test-box", test_form=form, result=result)


class TryEvaluationView(TryView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.answer("evaluation", evaluation=trial.threshold_evaluation(request.tenant.pk))
