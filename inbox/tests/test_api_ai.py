"""The AI auto-reply's REST API: settings (the chat key write-only), numbers, the knowledge base
(create, list, search, change, delete, CSV in and out), the test endpoint; AI_CONFIGURE only,
wrong input a 400 naming the field with nothing stored, another workspace's ids a 404."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import tenant_context
from inbox.ai import services
from inbox.ai.models import DEFAULT_THRESHOLD, AINumber, AISettings, KnowledgeAnswer
from inbox.tests.ai_support import PAIRS
from inbox.tests.api_support import number_of

pytestmark = pytest.mark.django_db

SETTINGS, NUMBERS, KNOWLEDGE, TEST = (
    "/api/v1/ai/settings/",
    "/api/v1/ai/numbers/",
    "/api/v1/ai/knowledge/",
    "/api/v1/ai/test/",
)
IMPORT, EXPORT = f"{KNOWLEDGE}import/", f"{KNOWLEDGE}export/"
SECRET_KEY = "sk-api-secret-never-shown-9191"


@pytest.fixture
def admin(alpha, api_client_for):
    return api_client_for(alpha.admin)


def _pairs(workspace) -> list[tuple[str, str, str, str, bool]]:
    with tenant_context(workspace.tenant):
        return list(
            KnowledgeAnswer.objects.order_by("pk").values_list(
                "language", "question", "alternates", "answer", "enabled"
            )
        )


def _save_pairs(workspace, pairs=PAIRS) -> list[KnowledgeAnswer]:
    with tenant_context(workspace.tenant):
        return [
            services.knowledge_save(question=question, alternates=alternates, answer=answer, actor=None)
            for question, alternates, answer in pairs
        ]


def _settings(workspace) -> AISettings | None:
    with tenant_context(workspace.tenant):
        return AISettings.objects.first()


# --- permission


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", SETTINGS, None),
        ("patch", SETTINGS, {"threshold": 0.5}),
        ("put", NUMBERS, {"phone_number_ids": []}),
        ("get", KNOWLEDGE, None),
        ("post", KNOWLEDGE, {"question": "Q?", "answer": "A."}),
        ("post", IMPORT, {}),
        ("get", EXPORT, None),
        ("post", TEST, {"question": "When do you open?"}),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_an_agent_without_ai_configure_is_refused(alpha, api_client_for, method, path, body):
    client = api_client_for(alpha.agent)
    response = getattr(client, method)(path, body, format="json") if body is not None else client.get(path)
    assert response.status_code == 403
    assert _settings(alpha) is None and _pairs(alpha) == []


# --- settings


def test_the_settings_start_with_the_defaults_and_the_ai_off(admin):
    body = admin.get(SETTINGS).json()
    assert body == {
        "enabled": False,
        "available": False,
        "phone_number_ids": [],
        "provider": "knowledge_base",
        "threshold": DEFAULT_THRESHOLD,
        "daily_reply_cap": 5,
        "blocked_words": [],
        "builtin_blocked_topics": [
            "a payment problem",
            "a refund",
            "a legal matter",
            "a medical question",
            "a complaint",
            "talking to a person",
        ],
        "handover_team_id": None,
        "chat_base_url": "",
        "chat_model": "",
        "chat_api_key_set": False,
        "knowledge_version": 0,
        "updated_at": None,
    }


def test_a_patch_changes_the_given_fields_and_the_key_stays_write_only(alpha, admin):
    response = admin.patch(
        SETTINGS,
        {
            "threshold": 0.8,
            "blocked_words": ["warranty claim", " ", "invoice"],
            "provider": "openai_compatible",
            "chat_base_url": "https://llm.example/v1",
            "chat_model": "small-model",
            "chat_api_key": SECRET_KEY,
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert SECRET_KEY.encode() not in response.content and "chat_api_key" not in body
    assert body["chat_api_key_set"] is True and body["threshold"] == 0.8
    assert body["blocked_words"] == ["warranty claim", "invoice"] and body["provider"] == "openai_compatible"
    assert body["daily_reply_cap"] == 5  # not given: unchanged
    assert _settings(alpha).chat_api_key.reveal() == SECRET_KEY
    assert SECRET_KEY.encode() not in admin.get(SETTINGS).content
    with tenant_context(alpha.tenant):
        audit = AuditEvent.objects.get(action="ai.settings.update")
    assert SECRET_KEY not in str(audit.metadata) and audit.metadata["chat_key_changed"] is True

    kept = admin.patch(SETTINGS, {"chat_api_key": ""}, format="json").json()
    assert kept["chat_api_key_set"] is True
    cleared = admin.patch(SETTINGS, {"clear_chat_api_key": True}, format="json").json()
    assert cleared["chat_api_key_set"] is False and _settings(alpha).has_chat_api_key is False


@pytest.mark.parametrize(
    ("body", "where", "message"),
    [
        ({"threshold": 1.2}, "threshold", "The threshold is a number between 0.05 and 0.99."),
        ({"daily_reply_cap": 0}, "daily_reply_cap", "The reply cap is a whole number from 1 to 50."),
        ({"provider": "magic"}, "provider", "Choose the knowledge base or an OpenAI-compatible chat model."),
        (
            {"chat_base_url": "ftp://x"},
            "chat_base_url",
            "The base URL starts with https:// (e.g. https://api.openai.com/v1).",
        ),
        ({"handover_team_id": 999999}, "handover_team_id", "There is no such team."),
    ],
    ids=["threshold", "cap", "provider", "url", "team"],
)
def test_wrong_settings_are_refused_naming_the_field_and_nothing_is_stored(alpha, admin, body, where, message):
    response = admin.patch(SETTINGS, {**body, "enabled": True}, format="json")
    assert response.status_code == 400
    assert response.json()["problems"] == [{"where": where, "message": message}]
    assert _settings(alpha) is None or _settings(alpha).enabled is False


def test_the_numbers_are_the_workspaces_own_only(alpha, bravo, admin):
    mine, theirs = number_of(alpha), number_of(bravo)
    response = admin.put(NUMBERS, {"phone_number_ids": [mine.pk, theirs.pk]}, format="json")
    assert response.status_code == 200 and response.json() == {"phone_number_ids": [mine.pk]}
    with tenant_context(alpha.tenant):
        assert list(AINumber.objects.values_list("phone_number_id", flat=True)) == [mine.pk]
    assert admin.get(SETTINGS).json()["phone_number_ids"] == [mine.pk]
    assert admin.put(NUMBERS, {"phone_number_ids": "all"}, format="json").status_code == 400


# --- the knowledge base


def test_a_pair_is_created_listed_changed_and_deleted(alpha, admin):
    created = admin.post(
        KNOWLEDGE,
        {"question": "Do you ship abroad?", "alternates": ["International shipping"], "answer": "India only."},
        format="json",
    )
    assert created.status_code == 201, created.content
    pair = created.json()
    assert {key: pair[key] for key in ("language", "question", "alternates", "answer", "enabled")} == {
        "language": "en",
        "question": "Do you ship abroad?",
        "alternates": ["International shipping"],
        "answer": "India only.",
        "enabled": True,
    }
    url = f"{KNOWLEDGE}{pair['id']}/"
    listed = admin.get(KNOWLEDGE).json()
    assert listed["count"] == 1 and listed["results"] == [admin.get(url).json()]

    changed = admin.patch(url, {"answer": "Within India only, for now.", "enabled": False}, format="json")
    assert changed.status_code == 200
    assert _pairs(alpha) == [
        ("en", "Do you ship abroad?", "International shipping", "Within India only, for now.", False)
    ]

    assert admin.delete(url).status_code == 204
    assert _pairs(alpha) == [] and admin.get(url).status_code == 404
    with tenant_context(alpha.tenant):
        actions = list(AuditEvent.objects.filter(action__startswith="ai.knowledge.").values_list("action", flat=True))
    assert sorted(actions) == ["ai.knowledge.create", "ai.knowledge.delete", "ai.knowledge.update"]


def test_the_list_searches_the_questions(alpha, admin):
    _save_pairs(alpha)
    found = admin.get(KNOWLEDGE, {"q": "OPENING"}).json()
    assert [row["question"] for row in found["results"]] == [PAIRS[1][0]]


def test_wrong_pairs_are_refused_naming_the_field(alpha, admin):
    _save_pairs(alpha)
    duplicate = admin.post(KNOWLEDGE, {"question": PAIRS[0][0], "answer": "Again"}, format="json")
    assert duplicate.status_code == 400
    assert duplicate.json()["problems"] == [
        {"where": "question", "message": "This question is already in the knowledge base in that language."}
    ]
    empty = admin.post(KNOWLEDGE, {"question": "Anything?", "answer": " "}, format="json")
    assert empty.json()["problems"] == [{"where": "answer", "message": "Write the answer."}]
    assert len(_pairs(alpha)) == len(PAIRS)


def test_a_csv_is_imported_all_or_nothing(alpha, admin):
    good = b"language,question,alternates,answer\nen,Do you have gift cards?,Gift voucher | e-gift,From 500 rupees.\n"
    response = admin.post(IMPORT, {"file": SimpleUploadedFile("kb.csv", good, "text/csv")}, format="multipart")
    assert response.status_code == 200 and response.json() == {"created": 1, "updated": 0}
    assert _pairs(alpha) == [("en", "Do you have gift cards?", "Gift voucher\ne-gift", "From 500 rupees.", True)]

    bad = b"language,question,alternates,answer\nen,Where are you?,,Mumbai.\n1x,What?,,Hmm.\n"
    refused = admin.post(IMPORT, {"file": SimpleUploadedFile("kb.csv", bad, "text/csv")}, format="multipart")
    assert refused.status_code == 400
    assert refused.json()["problems"] == [
        {"where": "file", "message": "Line 3: The language is a code such as en, hi or pt-br."}
    ]
    assert len(_pairs(alpha)) == 1


def test_the_export_is_the_csv_the_import_takes(alpha, admin):
    _save_pairs(alpha, [("-1 day delivery?", ["next day"], "=1+1")])
    response = admin.get(EXPORT)
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert list(csv.reader(io.StringIO(response.content.decode()))) == [
        ["language", "question", "alternates", "answer"],
        ["en", "'-1 day delivery?", "next day", "'=1+1"],
    ]


def test_another_workspaces_pair_is_not_found_and_stays(alpha, bravo, api_client_for):
    [pair] = _save_pairs(alpha, PAIRS[:1])
    intruder = api_client_for(bravo.admin)
    url = f"{KNOWLEDGE}{pair.pk}/"
    assert intruder.get(url).status_code == 404
    assert intruder.patch(url, {"answer": "Hacked"}, format="json").status_code == 404
    assert intruder.delete(url).status_code == 404
    assert intruder.get(KNOWLEDGE).json()["count"] == 0
    assert PAIRS[0][0].encode() not in intruder.get(EXPORT).content
    assert _pairs(alpha) == [("en", PAIRS[0][0], "\n".join(PAIRS[0][1]), PAIRS[0][2], True)]


# --- the test endpoint


def test_the_test_endpoint_says_what_the_ai_would_answer(alpha, admin):
    pairs = _save_pairs(alpha)
    admin.patch(SETTINGS, {"threshold": 0.05}, format="json")
    body = admin.post(TEST, {"question": "What are your store opening hours?"}, format="json").json()
    assert body["would_answer"] is True and body["rule"] == "" and body["reason"] == ""
    assert body["reply"] == PAIRS[1][2]
    assert (body["source_id"], body["source_question"]) == (pairs[1].pk, PAIRS[1][0])
    assert 0.05 <= body["confidence"] <= 1 and body["threshold"] == 0.05
    assert "the customer's 24-hour window is open" in body["not_checked"]


def test_the_test_endpoint_names_the_rule_that_stops_a_blocked_topic(alpha, admin):
    _save_pairs(alpha)
    admin.patch(SETTINGS, {"blocked_words": ["warranty claim"]}, format="json")
    body = admin.post(TEST, {"question": "I need to make a Warranty Claim"}, format="json").json()
    assert body["would_answer"] is False and body["rule"] == "blocked_intent"
    assert body["reason"] == "The customer asked about a topic on the workspace's blocked list, which a person answers."
    assert (body["reply"], body["confidence"], body["source_id"]) == ("", None, None)
    assert admin.post(TEST, {"question": ""}, format="json").status_code == 400


def test_the_schema_still_builds_with_the_ai_routes(client):
    response = client.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {SETTINGS, NUMBERS, KNOWLEDGE, IMPORT, EXPORT, "/api/v1/ai/knowledge/{pair_id}/", TEST} <= set(paths)
