"""The AI auto-reply's settings pages: only AI_CONFIGURE holders see them (an agent gets 403 and no
link); settings saved and audited, wrong input shown beside its field with a 400 and nothing
stored, the chat key never rendered; the knowledge base added to, edited, deleted, searched,
imported (all or nothing) and exported (formula-looking cells escaped); the test box and the
leave-one-out evaluation."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import tenant_context
from inbox import settings_services
from inbox.ai import services
from inbox.ai.models import DEFAULT_THRESHOLD, AINumber, AISettings, KnowledgeAnswer
from inbox.tests.ai_support import PAIRS, flag_on
from inbox.tests.portal_support import text_of

pytestmark = pytest.mark.django_db

PAGES = ("inbox:settings-ai", "inbox:settings-ai-knowledge", "inbox:settings-ai-try")
SECRET_KEY = "sk-test-d0-not-show-me-4242"


def _audits(workspace, action: str) -> list[AuditEvent]:
    with tenant_context(workspace.tenant):
        return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def _settings(workspace) -> AISettings | None:
    with tenant_context(workspace.tenant):
        return AISettings.objects.first()


def _pairs(workspace) -> list[tuple[str, str, str, str, bool]]:
    with tenant_context(workspace.tenant):
        return list(
            KnowledgeAnswer.objects.order_by("question").values_list(
                "language", "question", "alternates", "answer", "enabled"
            )
        )


def _save_pairs(workspace, pairs=PAIRS) -> list[KnowledgeAnswer]:
    with tenant_context(workspace.tenant):
        return [
            services.knowledge_save(question=question, alternates=alternates, answer=answer, actor=None)
            for question, alternates, answer in pairs
        ]


def _settings_form(**changes) -> dict:
    form = {"provider": "knowledge_base", "threshold": "0.7", "daily_reply_cap": "5"}
    form.update(changes)
    return form


# --- who sees the pages


@pytest.mark.parametrize("name", PAGES)
def test_an_admin_opens_each_ai_page(alpha, login_client, name):
    response = login_client(alpha.admin).get(reverse(name))
    assert response.status_code == 200
    assert reverse("inbox:settings-ai-knowledge") in response.content.decode()  # the AI tabs


@pytest.mark.parametrize("name", PAGES)
def test_an_agent_without_ai_configure_is_refused(alpha, login_client, name):
    assert login_client(alpha.agent).get(reverse(name)).status_code == 403


def test_the_inbox_settings_link_the_ai_pages_for_admins_only(alpha, login_client):
    link = reverse("inbox:settings-ai")
    assert link in login_client(alpha.admin).get(reverse("inbox:settings")).content.decode()
    for page in ("inbox:settings", "inbox:settings-teams"):
        assert link not in login_client(alpha.agent).get(reverse(page)).content.decode()


ROLLOUT_NOTE = "AI replies are not rolled out to this workspace yet"


def test_the_pages_say_when_ai_replies_are_not_rolled_out_to_the_workspace(alpha, login_client):
    client = login_client(alpha.admin)
    for name in PAGES:
        assert ROLLOUT_NOTE in client.get(reverse(name)).content.decode(), name


def test_no_rollout_note_once_the_flag_is_on_for_the_workspace(alpha, login_client):
    flag_on()
    assert ROLLOUT_NOTE not in login_client(alpha.admin).get(reverse("inbox:settings-ai")).content.decode()


# --- settings


def test_an_admin_saves_the_settings_numbers_and_team_audited(alpha, number, login_client):
    with tenant_context(alpha.tenant):
        team = settings_services.team_create(name="Billing desk", actor=alpha.admin.user)
    page = login_client(alpha.admin).get(reverse("inbox:settings-ai")).content.decode()
    assert number.display_phone_number in page and "Billing desk" in page
    for topic in ("a payment problem", "a refund", "a legal matter", "a medical question", "a complaint"):
        assert topic in page
    assert "talking to a person" in page

    form = _settings_form(
        enabled="on",
        phone_number_ids=[str(number.pk)],
        threshold="0.65",
        daily_reply_cap="3",
        blocked_words="warranty claim\n  Warranty  claim \ninvoice",
        handover_team_id=str(team.pk),
    )
    response = login_client(alpha.admin).post(reverse("inbox:settings-ai"), form)

    assert response.status_code == 302 and response["Location"] == reverse("inbox:settings-ai")
    stored = _settings(alpha)
    assert (stored.enabled, stored.threshold, stored.daily_reply_cap) == (True, 0.65, 3)
    assert stored.blocked_words == "warranty claim\nWarranty claim\ninvoice"
    assert stored.handover_team_id == team.pk
    with tenant_context(alpha.tenant):
        assert list(AINumber.objects.values_list("phone_number_id", flat=True)) == [number.pk]
    [update] = _audits(alpha, "ai.settings.update")
    assert update.actor_id == alpha.admin.user_id and update.metadata["changes"]["threshold"] == [
        DEFAULT_THRESHOLD,
        0.65,
    ]
    [numbers] = _audits(alpha, "ai.numbers.update")
    assert numbers.metadata == {"added": [number.pk], "removed": []}


def test_a_wrong_threshold_is_shown_beside_its_field_and_nothing_is_stored(alpha, number, login_client):
    form = _settings_form(
        enabled="on", phone_number_ids=[str(number.pk)], threshold="1.5", blocked_words="warranty claim"
    )
    response = login_client(alpha.admin).post(reverse("inbox:settings-ai"), form)

    assert response.status_code == 400
    field = response.context["form"]["threshold"]
    assert field.errors == ["The threshold is a number between 0.05 and 0.99."]
    html = response.content.decode()
    # nothing typed is lost: the words, the threshold, the ticked number and the switch come back
    assert ">\nwarranty claim</textarea>" in html and 'value="1.5"' in html
    assert response.context["form"]["phone_number_ids"].value() == [str(number.pk)]
    assert response.context["form"]["enabled"].value() is True
    assert _settings(alpha) is None or _settings(alpha).enabled is False
    with tenant_context(alpha.tenant):
        assert not AINumber.objects.exists()
    assert _audits(alpha, "ai.settings.update") == [] and _audits(alpha, "ai.numbers.update") == []


def test_a_chat_model_without_its_address_model_and_key_is_refused(alpha, login_client):
    form = _settings_form(enabled="on", provider="openai_compatible")
    response = login_client(alpha.admin).post(reverse("inbox:settings-ai"), form)

    assert response.status_code == 400
    assert response.context["form"]["chat_model"].errors == [
        "Give the chat model's base URL, model and key, or use the knowledge base."
    ]
    assert _settings(alpha) is None or _settings(alpha).provider == "knowledge_base"


def test_the_stored_chat_key_is_never_rendered_and_can_be_removed(alpha, login_client):
    client = login_client(alpha.admin)
    chat = {"chat_base_url": "https://llm.example/v1", "chat_model": "small-model", "chat_api_key": SECRET_KEY}
    assert client.post(reverse("inbox:settings-ai"), _settings_form(**chat)).status_code == 302
    assert _settings(alpha).chat_api_key.reveal() == SECRET_KEY

    page = client.get(reverse("inbox:settings-ai")).content.decode()
    assert SECRET_KEY not in page
    assert "A key is stored" in page and "Remove the stored key" in page
    refused = client.post(reverse("inbox:settings-ai"), _settings_form(threshold="x", chat_api_key="sk-new-key-777"))
    assert refused.status_code == 400 and "sk-new-key-777" not in refused.content.decode()
    [audit] = _audits(alpha, "ai.settings.update")
    assert SECRET_KEY not in str(audit.metadata) and audit.metadata["chat_key_changed"] is True

    assert client.post(reverse("inbox:settings-ai"), _settings_form(clear_chat_api_key="on")).status_code == 302
    assert _settings(alpha).has_chat_api_key is False
    assert "No key is stored" in client.get(reverse("inbox:settings-ai")).content.decode()


# --- the knowledge base


def test_a_pair_is_added_edited_and_deleted_each_audited(alpha, login_client):
    client = login_client(alpha.admin)
    added = client.post(
        reverse("inbox:settings-ai-knowledge"),
        {
            "language": "EN",
            "question": "  Do you  ship abroad? ",
            "alternates": "International shipping\n\nDo you deliver outside India?",
            "answer": "We deliver within India only.",
            "enabled": "on",
        },
    )
    assert added.status_code == 302
    assert _pairs(alpha) == [
        (
            "en",
            "Do you ship abroad?",
            "International shipping\nDo you deliver outside India?",
            "We deliver within India only.",
            True,
        )
    ]
    with tenant_context(alpha.tenant):
        pair = KnowledgeAnswer.objects.get()
    listing = text_of(client.get(reverse("inbox:settings-ai-knowledge")).content.decode())
    assert "en Do you ship abroad? 2 Yes" in listing

    edit_url = reverse("inbox:settings-ai-pair", args=[pair.pk])
    assert 'value="Do you ship abroad?"' in client.get(edit_url).content.decode()
    edited = client.post(
        edit_url, {"language": "en", "question": "Do you ship abroad?", "alternates": "", "answer": "Not yet."}
    )
    assert edited.status_code == 302
    assert _pairs(alpha) == [("en", "Do you ship abroad?", "", "Not yet.", False)]

    assert client.post(reverse("inbox:settings-ai-pair-delete", args=[pair.pk])).status_code == 302
    assert _pairs(alpha) == []
    actions = [audit.action for audit in _audits(alpha, "ai.knowledge.create")]
    actions += [audit.action for audit in _audits(alpha, "ai.knowledge.update")]
    actions += [audit.action for audit in _audits(alpha, "ai.knowledge.delete")]
    assert actions == ["ai.knowledge.create", "ai.knowledge.update", "ai.knowledge.delete"]


def test_a_question_already_there_is_refused_beside_the_question(alpha, login_client):
    _save_pairs(alpha)
    response = login_client(alpha.admin).post(
        reverse("inbox:settings-ai-knowledge"),
        {"language": "en", "question": PAIRS[0][0], "answer": "Another answer", "enabled": "on"},
    )
    assert response.status_code == 400
    assert response.context["form"]["question"].errors == [
        "This question is already in the knowledge base in that language."
    ]
    assert "Another answer" in response.content.decode()
    assert len(_pairs(alpha)) == len(PAIRS)


def test_the_list_searches_questions_and_shows_fifty_a_page(alpha, login_client):
    rows = [(f"Question number {n:02d}?", [], f"Answer {n}") for n in range(55)]
    _save_pairs(alpha, rows + [("Where is my parcel today?", [], "On its way.")])
    client = login_client(alpha.admin)
    url = reverse("inbox:settings-ai-knowledge")

    first, second = client.get(url), client.get(url, {"page": 2})
    assert len(first.context["pairs"]) == 50 and len(second.context["pairs"]) == 6
    assert "Page 1 of 2" in first.content.decode()
    found = client.get(url, {"q": "PARCEL"})
    assert [pair.question for pair in found.context["pairs"]] == ["Where is my parcel today?"]
    assert "1 question containing “PARCEL”" in text_of(found.content.decode())


def test_a_csv_import_adds_and_updates_pairs_and_says_how_many(alpha, login_client):
    _save_pairs(alpha)
    data = (
        "language,question,alternates,answer\n"
        f'en,"{PAIRS[0][0]}","Where is my order? | Order status",New tracking answer.\n'
        'hi,"क्या आप विदेश भेजते हैं?",,"अभी नहीं।"\n'
        "en,Do you have gift cards?,,Yes: from 500 rupees.\n"
    ).encode()
    client = login_client(alpha.admin)
    response = client.post(
        reverse("inbox:settings-ai-import"), {"file": SimpleUploadedFile("kb.csv", data, "text/csv")}, follow=True
    )

    assert "Imported: 2 added, 1 updated." in response.content.decode()
    with tenant_context(alpha.tenant):
        tracking = KnowledgeAnswer.objects.get(question=PAIRS[0][0])
        assert KnowledgeAnswer.objects.count() == len(PAIRS) + 2
        assert KnowledgeAnswer.objects.get(language="hi").answer == "अभी नहीं।"
    assert (tracking.answer, tracking.alternate_list()) == (
        "New tracking answer.",
        ["Where is my order?", "Order status"],
    )
    [audit] = _audits(alpha, "ai.knowledge.import")
    assert audit.metadata == {"created": 2, "updated": 1}


def test_a_bad_csv_line_is_named_and_nothing_is_stored(alpha, login_client):
    data = b"language,question,alternates,answer\nen,Do you have gift cards?,,Yes.\nen,Where are you?,,\n"
    response = login_client(alpha.admin).post(
        reverse("inbox:settings-ai-import"), {"file": SimpleUploadedFile("kb.csv", data, "text/csv")}
    )
    assert response.status_code == 400
    assert response.context["import_form"]["file"].errors == ["Line 3: Write the answer."]
    assert _pairs(alpha) == [] and _audits(alpha, "ai.knowledge.import") == []


def test_the_export_has_every_pair_with_formula_looking_cells_escaped(alpha, login_client):
    _save_pairs(alpha, [('=HYPERLINK("http://evil.example")', ["+91 call us", "normal"], "@SUM(A1:A9)")])
    response = login_client(alpha.admin).get(reverse("inbox:settings-ai-export"))

    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="knowledge-base.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["language", "question", "alternates", "answer"],
        ["en", '\'=HYPERLINK("http://evil.example")', "'+91 call us | normal", "'@SUM(A1:A9)"],
    ]


# --- try it


def test_the_test_box_shows_the_answer_its_confidence_and_source(alpha, login_client):
    pairs = _save_pairs(alpha)
    with tenant_context(alpha.tenant):
        services.ai_settings_update(threshold=0.05, actor=None)
    response = login_client(alpha.admin).post(
        reverse("inbox:settings-ai-test"), {"question": "What are your store opening hours?"}
    )

    assert response.status_code == 200
    trial = response.context["result"]
    assert trial.verdict.passed and trial.source == pairs[1]
    page = text_of(response.content.decode())
    assert "The AI would answer (once it is switched on)." in page
    assert f"Reply {PAIRS[1][2]}" in page
    assert f"Confidence {trial.confidence_percent}% (your threshold: 0.05)" in page
    assert f"From the question {PAIRS[1][0]}" in page
    assert "Rule that stops it None" in page
    assert "24-hour window is open" in page  # listed as not checked here
    assert 1 <= trial.confidence_percent <= 100


def test_the_test_box_names_the_rule_that_stops_a_refund_question(alpha, login_client):
    _save_pairs(alpha)
    response = login_client(alpha.admin).post(
        reverse("inbox:settings-ai-test"), {"question": "I want a refund for my order", "language": "en"}
    )
    assert response.status_code == 200
    page = text_of(response.content.decode())
    assert (
        "The AI would not answer: a person would. Rule: blocked_intent — "
        "The customer asked about a refund, which a person answers." in page
    )
    assert "Confidence Not asked" in page


def test_the_test_box_answers_htmx_with_its_fragment_only(alpha, login_client):
    response = login_client(alpha.admin).post(
        reverse("inbox:settings-ai-test"), {"question": ""}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert html.lstrip().startswith('<section class="card" id="ai-test-box"') and "<html" not in html
    assert "This field is required." in html


def test_the_evaluation_table_shows_each_threshold_and_marks_the_current_one(alpha, login_client):
    _save_pairs(alpha)
    with tenant_context(alpha.tenant):
        services.ai_settings_update(threshold=0.65, actor=None)
    client = login_client(alpha.admin)
    assert "ai-evaluation-table" not in client.get(reverse("inbox:settings-ai-try")).content.decode()

    response = client.post(reverse("inbox:settings-ai-evaluation"))

    assert response.status_code == 200
    report = response.context["evaluation"].report
    phrasings = sum(1 + len(alternates) for _, alternates, _ in PAIRS)
    assert [row.threshold for row in report.results] == [0.35, 0.5, 0.6, 0.65, 0.7, 0.8, 0.9]
    assert all(row.asked == phrasings for row in report.results)
    html = response.content.decode()
    assert html.count('aria-current="true"') == 1
    current = html.split('aria-current="true"')[1].split("</tr>")[0]
    assert "0.65" in current and "your threshold" in current
    row = next(row for row in report.results if row.threshold == 0.65)
    assert f"{row.answered} ({round(row.answer_rate * 100)}%)" in text_of(current)


def test_the_evaluation_asks_for_more_pairs_when_there_is_one(alpha, login_client):
    _save_pairs(alpha, PAIRS[:1])
    response = login_client(alpha.admin).post(reverse("inbox:settings-ai-evaluation"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "Add at least two enabled questions" in html and "<html" not in html
