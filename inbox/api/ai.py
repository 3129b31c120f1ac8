"""/api/v1/ai/…: the AI auto-reply's settings, the numbers it answers on, the knowledge base (one
pair at a time, or a CSV in and out) and the test box. Only those who configure the AI
(AI_CONFIGURE) use these; every change goes through inbox.ai.services (audited), and wrong input
is a 400 whose `problems` name the field."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts.roles import Perm
from inbox.ai import selectors as ai_selectors
from inbox.ai import services as ai_services
from inbox.ai.intents import INTENTS
from inbox.ai.models import AISettings, KnowledgeAnswer
from inbox.ai.trial import NOT_CHECKED, question_trial
from inbox.serializers.ai import (
    AINumbersInput,
    AINumbersOutput,
    AISettingsInput,
    AISettingsOutput,
    AITestInput,
    AITestOutput,
    KnowledgeImportInput,
    KnowledgeImportOutput,
    KnowledgeInput,
    KnowledgeOutput,
)
from tenants.api_base import TenantAPIView, TenantRequest

INVALID = OpenApiResponse(description="Wrong input: `problems` names each field and what is wrong with it.")
CONFIGURE = Perm.AI_CONFIGURE


def _checked(serializer: Any) -> dict[str, Any]:
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _pair(pair_id: int) -> KnowledgeAnswer:
    try:
        return ai_selectors.knowledge_get(pair_id)
    except KnowledgeAnswer.DoesNotExist:
        raise NotFound("There is no such question in the knowledge base.") from None


def _settings_response(request: TenantRequest, settings: AISettings) -> Response:
    context = {
        "available": ai_selectors.ai_available(request.tenant.pk),
        "number_ids": ai_selectors.ai_number_ids(),
        "builtin_topics": list(INTENTS.values()),
    }
    return Response(AISettingsOutput(settings, context=context).data)


class AISettingsApi(TenantAPIView):
    required_permissions = {"GET": CONFIGURE, "PATCH": CONFIGURE}

    @extend_schema(responses=AISettingsOutput)
    def get(self, request: TenantRequest) -> Response:
        """The workspace's AI settings (the defaults, AI off, until someone saves them)."""
        return _settings_response(request, ai_selectors.ai_settings())

    @extend_schema(request=AISettingsInput, responses={200: AISettingsOutput, 400: INVALID})
    def patch(self, request: TenantRequest) -> Response:
        """Changes the fields given. `chat_api_key` is write-only (an empty one keeps the stored key);
        `clear_chat_api_key: true` removes it."""
        data = AISettingsInput(data=request.data)
        data.is_valid(raise_exception=True)
        settings = ai_services.ai_settings_update(actor=request.user, request=request, **data.to_service())
        return _settings_response(request, settings)


class AINumbersApi(TenantAPIView):
    required_permissions = {"PUT": CONFIGURE}

    @extend_schema(request=AINumbersInput, responses={200: AINumbersOutput, 400: INVALID})
    def put(self, request: TenantRequest) -> Response:
        """The numbers the AI answers on (ids of the workspace's numbers; others are left out)."""
        values = _checked(AINumbersInput(data=request.data))
        number_ids = ai_services.ai_numbers_set(
            phone_number_ids=values["phone_number_ids"], actor=request.user, request=request
        )
        return Response({"phone_number_ids": number_ids})


class KnowledgeListApi(TenantAPIView):
    required_permissions = {"GET": CONFIGURE, "POST": CONFIGURE}

    @extend_schema(
        parameters=[OpenApiParameter("q", str, description="Questions containing this text (any case)")],
        responses=KnowledgeOutput(many=True),
    )
    def get(self, request: TenantRequest) -> Response:
        """The knowledge base by language and question, disabled pairs included, 50 per page (`page`)."""
        paginator = PageNumberPagination()
        rows = ai_selectors.knowledge_list(request.query_params.get("q", ""))
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(KnowledgeOutput(page, many=True).data)

    @extend_schema(request=KnowledgeInput, responses={201: KnowledgeOutput, 400: INVALID})
    def post(self, request: TenantRequest) -> Response:
        """A question is unique per language in the workspace."""
        values = _checked(KnowledgeInput(data=request.data))
        pair = ai_services.knowledge_save(**values, actor=request.user, request=request)
        return Response(KnowledgeOutput(pair).data, status=201)


class KnowledgeDetailApi(TenantAPIView):
    required_permissions = {"GET": CONFIGURE, "PATCH": CONFIGURE, "DELETE": CONFIGURE}

    @extend_schema(responses=KnowledgeOutput)
    def get(self, request: TenantRequest, pair_id: int) -> Response:
        return Response(KnowledgeOutput(_pair(pair_id)).data)

    @extend_schema(request=KnowledgeInput(partial=True), responses={200: KnowledgeOutput, 400: INVALID})
    def patch(self, request: TenantRequest, pair_id: int) -> Response:
        """Changes the fields given; the others stay as they are."""
        pair = _pair(pair_id)
        values = {
            "language": pair.language,
            "question": pair.question,
            "alternates": pair.alternate_list(),
            "answer": pair.answer,
            "enabled": pair.enabled,
            **_checked(KnowledgeInput(data=request.data, partial=True)),
        }
        pair = ai_services.knowledge_save(pair=pair, **values, actor=request.user, request=request)
        return Response(KnowledgeOutput(pair).data)

    @extend_schema(responses={204: None})
    def delete(self, request: TenantRequest, pair_id: int) -> Response:
        ai_services.knowledge_delete(pair=_pair(pair_id), actor=request.user, request=request)
        return Response(status=204)


class KnowledgeImportApi(TenantAPIView):
    """A CSV of pairs (multipart `file`), all or nothing: a bad line is named and nothing is stored."""

    required_permissions = {"POST": CONFIGURE}
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(request=KnowledgeImportInput, responses={200: KnowledgeImportOutput, 400: INVALID})
    def post(self, request: TenantRequest) -> Response:
        """A question already there in that language has its answer and alternates replaced."""
        upload = _checked(KnowledgeImportInput(data=request.data))["file"]
        counts = ai_services.knowledge_csv_import(
            data=upload.read(ai_services.CSV_MAX_BYTES + 1), actor=request.user, request=request
        )
        return Response(KnowledgeImportOutput(counts).data)


class KnowledgeExportApi(TenantAPIView):
    required_permissions = {"GET": CONFIGURE}

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request: TenantRequest) -> HttpResponse:
        """The whole knowledge base as CSV (language, question, alternates, answer), as the import takes it."""
        response = HttpResponse(
            ai_services.knowledge_csv_export(ai_selectors.knowledge_list().iterator()),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="knowledge-base.csv"'
        return response


class AITestApi(TenantAPIView):
    required_permissions = {"POST": CONFIGURE}

    @extend_schema(request=AITestInput, responses={200: AITestOutput, 400: INVALID})
    def post(self, request: TenantRequest) -> Response:
        """What the AI would answer to a question with the saved settings, and the rule that would
        stop it. Nothing is sent. The conversation's own rules are listed in `not_checked`."""
        values = _checked(AITestInput(data=request.data))
        trial = question_trial(request.tenant.pk, question=values["question"], language=values["language"])
        verdict, answer, source = trial.verdict, trial.verdict.answer, trial.source
        return Response(
            AITestOutput(
                {
                    "would_answer": verdict.passed,
                    "reply": answer.reply if answer is not None else "",
                    "confidence": round(answer.confidence, 3) if answer is not None else None,
                    "source_id": source.pk if source is not None else None,
                    "source_question": source.question if source is not None else "",
                    "intent": verdict.intent,
                    "rule": verdict.rule,
                    "reason": verdict.reason,
                    "threshold": trial.threshold,
                    "not_checked": list(NOT_CHECKED),
                }
            ).data
        )
