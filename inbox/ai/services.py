"""Writes of the AI auto-reply's setup, from its settings page, the REST API and the platform
console: the switch, the numbers it answers on, the provider and its chat model, the threshold,
the reply cap, the workspace's blocked words and hand-over team, and the knowledge base (one pair
at a time or a CSV). Each change is audited (aerostic.core.audit; never an answer's text nor the
chat key); every knowledge base change moves `knowledge_version`, so providers rebuild their index.
Wrong input is a `SettingInvalid` naming the field and stores nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from inbox.ai.models import AINumber, AISettings, KnowledgeAnswer
from inbox.models import Team
from inbox.settings_services import SettingInvalid, setting_audit
from whatsapp.models import PhoneNumber

CSV_COLUMNS = ("language", "question", "alternates", "answer")
CSV_MAX_ROWS = 10_000
CSV_MAX_BYTES = 5 * 1024 * 1024
LANGUAGE_MAX = 12
_UNSET = object()


def _settings_locked() -> AISettings:
    row, _ = AISettings.objects.select_for_update().get_or_create()
    return row


@transaction.atomic
def ai_settings_update(*, actor: Any, request: Any = None, **values: Any) -> AISettings:
    """Changes the given fields: enabled, provider, threshold, daily_reply_cap, blocked_words,
    handover_team_id, chat_base_url, chat_model, chat_api_key ("" keeps the stored key,
    `clear_chat_api_key=True` removes it)."""
    row = _settings_locked()
    changed: dict[str, list[Any]] = {}

    def put(field: str, value: Any) -> None:
        before = getattr(row, field)
        if before != value:
            setattr(row, field, value)
            changed[field] = [before, value]

    if "enabled" in values:
        put("enabled", bool(values["enabled"]))
    if "provider" in values:
        if values["provider"] not in AISettings.Provider.values:
            raise SettingInvalid("provider", "Choose the knowledge base or an OpenAI-compatible chat model.")
        put("provider", values["provider"])
    if "threshold" in values:
        try:
            threshold = float(values["threshold"])
        except (TypeError, ValueError):
            raise SettingInvalid("threshold", "The threshold is a number between 0.05 and 0.99.") from None
        if not 0.05 <= threshold <= 0.99:
            raise SettingInvalid("threshold", "The threshold is a number between 0.05 and 0.99.")
        put("threshold", round(threshold, 3))
    if "daily_reply_cap" in values:
        try:
            cap = int(values["daily_reply_cap"])
        except (TypeError, ValueError):
            raise SettingInvalid("daily_reply_cap", "The reply cap is a whole number from 1 to 50.") from None
        if not 1 <= cap <= 50:
            raise SettingInvalid("daily_reply_cap", "The reply cap is a whole number from 1 to 50.")
        put("daily_reply_cap", cap)
    if "blocked_words" in values:
        lines = [" ".join(line.split()) for line in str(values["blocked_words"] or "").splitlines()]
        lines = list(dict.fromkeys(line for line in lines if line))
        if len(lines) > 200 or any(len(line) > 80 for line in lines):
            raise SettingInvalid("blocked_words", "At most 200 words or phrases, each up to 80 characters.")
        put("blocked_words", "\n".join(lines))
    if "handover_team_id" in values:
        team_id = values["handover_team_id"] or None
        if team_id is not None and not Team.objects.filter(pk=team_id).exists():
            raise SettingInvalid("handover_team_id", "There is no such team.")
        put("handover_team_id", int(team_id) if team_id is not None else None)
    for field, limit in (("chat_base_url", 200), ("chat_model", 100)):
        if field in values:
            text = str(values[field] or "").strip()
            if len(text) > limit:
                raise SettingInvalid(field, f"At most {limit} characters.")
            if field == "chat_base_url" and text and not text.startswith(("https://", "http://")):
                raise SettingInvalid(field, "The base URL starts with https:// (e.g. https://api.openai.com/v1).")
            put(field, text)
    key_changed = False
    if values.get("clear_chat_api_key"):
        key_changed = row.has_chat_api_key
        row.chat_api_key = ""
    elif str(values.get("chat_api_key") or "").strip():
        row.chat_api_key = str(values["chat_api_key"]).strip()
        key_changed = True
    if row.provider == AISettings.Provider.OPENAI_COMPATIBLE and row.enabled:
        from inbox.ai.providers import chat_settings

        if chat_settings(row) is None:
            raise SettingInvalid(
                "chat_model", "Give the chat model's base URL, model and key, or use the knowledge base."
            )
    if changed or key_changed:
        row.save()
        metadata: dict[str, Any] = {"changes": dict(changed)}
        if key_changed:
            metadata["chat_key_changed"] = True
        setting_audit("ai.settings.update", actor=actor, target=row, request=request, **metadata)
    return row


@transaction.atomic
def ai_numbers_set(*, phone_number_ids: Iterable[int], actor: Any, request: Any = None) -> list[int]:
    """The numbers the AI answers on (the workspace's active ones among these ids)."""
    wanted = set(PhoneNumber.objects.filter(pk__in=set(phone_number_ids)).values_list("pk", flat=True))
    row = _settings_locked()
    current = set(AINumber.objects.values_list("phone_number_id", flat=True))
    added, removed = sorted(wanted - current), sorted(current - wanted)
    if removed:
        AINumber.objects.filter(phone_number_id__in=removed).delete()
    AINumber.objects.bulk_create(AINumber(tenant_id=row.tenant_id, phone_number_id=pk) for pk in added)
    if added or removed:
        setting_audit("ai.numbers.update", actor=actor, target=row, request=request, added=added, removed=removed)
    return sorted(wanted)


# --- the knowledge base


def _version_bump() -> None:
    row = _settings_locked()
    AISettings.objects.filter(pk=row.pk).update(knowledge_version=F("knowledge_version") + 1)


def _clean_pair(language: Any, question: Any, answer: Any, alternates: Any) -> tuple[str, str, str, str]:
    language = str(language or "en").strip().lower().replace("_", "-")[:LANGUAGE_MAX] or "en"
    if not language.replace("-", "").isalpha():
        raise SettingInvalid("language", "The language is a code such as en, hi or pt-br.")
    question = " ".join(str(question or "").split())
    if not question:
        raise SettingInvalid("question", "Write the question.")
    if len(question) > 500:
        raise SettingInvalid("question", "A question has at most 500 characters.")
    answer = str(answer or "").strip()
    if not answer:
        raise SettingInvalid("answer", "Write the answer.")
    if len(answer) > 4096:
        raise SettingInvalid("answer", "An answer has at most 4,096 characters (WhatsApp's limit).")
    if isinstance(alternates, str):
        alternates = alternates.replace(" | ", "\n").splitlines()
    lines = list(dict.fromkeys(" ".join(str(line).split()) for line in alternates or ()))
    lines = [line for line in lines if line and line != question]
    if len(lines) > 20 or any(len(line) > 500 for line in lines):
        raise SettingInvalid("alternates", "At most 20 other phrasings, each up to 500 characters.")
    return language, question, "\n".join(lines), answer


@transaction.atomic
def knowledge_save(
    *,
    actor: Any,
    question: Any,
    answer: Any,
    language: Any = "en",
    alternates: Any = "",
    enabled: bool = True,
    pair: KnowledgeAnswer | None = None,
    request: Any = None,
) -> KnowledgeAnswer:
    """Creates a pair, or changes `pair`."""
    language, question, alternates, answer = _clean_pair(language, question, answer, alternates)
    row = pair or KnowledgeAnswer(created_by=actor if getattr(actor, "is_authenticated", False) else None)
    creating = row.pk is None
    row.language, row.question, row.alternates, row.answer, row.enabled = (
        language,
        question,
        alternates,
        answer,
        bool(enabled),
    )
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise SettingInvalid("question", "This question is already in the knowledge base in that language.") from None
    _version_bump()
    setting_audit(
        "ai.knowledge.create" if creating else "ai.knowledge.update",
        actor=actor,
        target=row,
        request=request,
        language=language,
        enabled=row.enabled,
    )
    return row


@transaction.atomic
def knowledge_delete(*, pair: KnowledgeAnswer, actor: Any, request: Any = None) -> None:
    setting_audit("ai.knowledge.delete", actor=actor, target=pair, request=request, language=pair.language)
    pair.delete()
    _version_bump()


def knowledge_csv_export(rows: Iterable[KnowledgeAnswer]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                _safe_cell(row.language),
                _safe_cell(row.question),
                _safe_cell(" | ".join(row.alternate_list())),
                _safe_cell(row.answer),
            ]
        )
    return out.getvalue()


def _safe_cell(value: str) -> str:
    # A spreadsheet runs a cell starting with = + - @ as a formula (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@transaction.atomic
def knowledge_csv_import(*, data: bytes, actor: Any, request: Any = None) -> dict[str, int]:
    """Adds the pairs of a CSV (columns: language, question, alternates, answer; alternates
    separated by " | "); a question already there in that language has its answer and
    alternates replaced. All or nothing: a bad row is named by its line and nothing is stored."""
    if len(data) > CSV_MAX_BYTES:
        raise SettingInvalid("file", f"The file is larger than {CSV_MAX_BYTES // (1024 * 1024)} MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SettingInvalid("file", "The file is not UTF-8 text: save it as CSV UTF-8.") from None
    reader = csv.DictReader(io.StringIO(text))
    columns = {name.strip().lower() for name in reader.fieldnames or []}
    if not {"question", "answer"} <= columns:
        raise SettingInvalid("file", "The first line names the columns: language, question, alternates, answer.")
    parsed: dict[tuple[str, str], tuple[str, str]] = {}
    for line, raw in enumerate(reader, start=2):
        if line - 1 > CSV_MAX_ROWS:
            raise SettingInvalid("file", f"At most {CSV_MAX_ROWS:,} pairs per file.")
        cells = {(key or "").strip().lower(): (value or "") for key, value in raw.items()}
        if not any(str(value).strip() for value in cells.values()):
            continue
        try:
            language, question, alternates, answer = _clean_pair(
                cells.get("language"), cells.get("question"), cells.get("answer"), cells.get("alternates", "")
            )
        except SettingInvalid as problem:
            raise SettingInvalid("file", f"Line {line}: {problem.message}") from None
        parsed[(language, question)] = (alternates, answer)
    if not parsed:
        raise SettingInvalid("file", "The file has no pairs.")
    existing = {
        (row.language, row.question): row
        for row in KnowledgeAnswer.objects.filter(question__in=[question for _, question in parsed])
    }
    created = [
        KnowledgeAnswer(language=language, question=question, alternates=alternates, answer=answer, created_by=actor)
        for (language, question), (alternates, answer) in parsed.items()
        if (language, question) not in existing
    ]
    updated = []
    now = timezone.now()
    for key, row in existing.items():
        if key in parsed:
            row.alternates, row.answer = parsed[key]
            row.updated_at = now  # bulk_update leaves auto_now alone
            updated.append(row)
    settings = _settings_locked()
    for row in created:
        row.tenant_id = settings.tenant_id
    KnowledgeAnswer.objects.bulk_create(created)
    KnowledgeAnswer.objects.bulk_update(updated, ["alternates", "answer", "updated_at"])
    _version_bump()
    setting_audit(
        "ai.knowledge.import", actor=actor, target=settings, request=request, created=len(created), updated=len(updated)
    )
    return {"created": len(created), "updated": len(updated)}
