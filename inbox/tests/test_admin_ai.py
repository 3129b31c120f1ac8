"""The platform console for the AI auto-reply: every list opens across workspaces; the chat key is
never shown; staff edits of settings and knowledge pairs go through inbox.ai.services (audited,
the staff member the actor); the AI's decisions and numbers are read-only."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import tenant_context
from aerostic.core.tests.admin_forms import change_form_data, messages_of, staff_client
from inbox.ai import services
from inbox.ai.models import DEFAULT_THRESHOLD, AINumber, AIReply, AISettings, KnowledgeAnswer
from inbox.tests.factories import ConversationFactory
from whatsapp.tests.factories import PhoneNumberFactory

pytestmark = pytest.mark.django_db

AI_MODELS = (AISettings, AINumber, KnowledgeAnswer, AIReply)
SECRET_KEY = "sk-console-never-shown-5150"


def _url(model, page: str = "changelist", *args) -> str:
    return reverse(f"admin:inbox_{model._meta.model_name}_{page}", args=args)


@pytest.fixture
def rows(alpha, bravo):
    """Each workspace with settings (a chat key stored), a number, a pair and two decisions."""
    made = {}
    for workspace in (alpha, bravo):
        actor = workspace.admin.user
        with tenant_context(workspace.tenant):
            phone = PhoneNumberFactory()
            settings = services.ai_settings_update(
                enabled=True, chat_base_url="https://llm.example/v1", chat_api_key=SECRET_KEY, actor=actor
            )
            services.ai_numbers_set(phone_number_ids=[phone.pk], actor=actor)
            pair = services.knowledge_save(
                question=f"When does {workspace.tenant.name} open?", answer="At 9.", actor=actor
            )
            conversation = ConversationFactory(phone_number=phone)
            AIReply.objects.create(
                conversation=conversation,
                wamid=f"wamid.{workspace.tenant.slug}.1",
                outcome=AIReply.Outcome.ANSWERED,
                confidence=0.91,
                source=pair,
                source_question=pair.question,
                provider="openai_compatible",
                model="small-model",
                prompt_tokens=120,
                completion_tokens=30,
            )
            AIReply.objects.create(
                conversation=conversation,
                wamid=f"wamid.{workspace.tenant.slug}.2",
                outcome=AIReply.Outcome.HANDED_OVER,
                rule="blocked_intent",
                reason="The customer asked about a refund, which a person answers.",
                intent="refunds",
            )
        made[workspace.tenant.slug] = {"settings": settings, "pair": pair}
    return made


@pytest.mark.parametrize("model", AI_MODELS, ids=lambda model: model.__name__)
def test_changelists_open_for_a_superuser_across_workspaces(rows, model):
    response = staff_client().get(_url(model))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 2  # alpha's and bravo's


def test_the_decisions_list_shows_outcome_rule_confidence_and_tokens(rows):
    page = staff_client().get(_url(AIReply)).content.decode()
    for shown in ("Answered", "Handed over", "blocked_intent", "0.91", "refunds", "small-model", "150"):
        assert shown in page, shown


def test_the_chat_key_is_never_shown_in_the_console(rows):
    settings = rows["alpha"]["settings"]
    client = staff_client()
    for url in (_url(AISettings), _url(AISettings, "change", settings.pk)):
        page = client.get(url).content.decode()
        assert SECRET_KEY not in page and "sealed" not in page


def test_staff_change_the_threshold_through_the_service_audited(alpha, rows):
    settings = rows["alpha"]["settings"]
    client = staff_client()
    data = {**change_form_data(client.get(_url(AISettings, "change", settings.pk))), "threshold": "0.85"}
    response = client.post(_url(AISettings, "change", settings.pk), data)
    assert response.status_code == 302, messages_of(response)
    with tenant_context(alpha.tenant):
        stored = AISettings.objects.get()
        audit = AuditEvent.objects.filter(action="ai.settings.update").order_by("pk").last()
    assert stored.threshold == 0.85 and stored.chat_api_key.reveal() == SECRET_KEY
    assert audit.actor.is_superuser and audit.metadata == {"changes": {"threshold": [DEFAULT_THRESHOLD, 0.85]}}


def test_staff_edit_and_delete_a_pair_through_the_service(alpha, rows):
    pair = rows["alpha"]["pair"]
    client = staff_client()
    data = {**change_form_data(client.get(_url(KnowledgeAnswer, "change", pair.pk))), "answer": "At 10."}
    assert client.post(_url(KnowledgeAnswer, "change", pair.pk), data).status_code == 302
    with tenant_context(alpha.tenant):
        assert KnowledgeAnswer.objects.get(pk=pair.pk).answer == "At 10."
        assert AuditEvent.objects.filter(action="ai.knowledge.update").count() == 1
    assert client.post(_url(KnowledgeAnswer, "delete", pair.pk), {"post": "yes"}).status_code == 302
    with tenant_context(alpha.tenant):
        assert not KnowledgeAnswer.objects.exists()
        assert AuditEvent.objects.filter(action="ai.knowledge.delete").count() == 1


def test_a_pair_is_searched_by_question(rows):
    response = staff_client().get(_url(KnowledgeAnswer), {"q": "Alpha open"})
    assert [pair.question for pair in response.context["cl"].result_list] == ["When does Alpha open?"]


def test_decisions_and_numbers_are_read_only_and_nothing_is_added():
    for model in (AIReply, AINumber):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_change_permission(None) and not model_admin.has_delete_permission(None)
    for model in AI_MODELS:
        assert not admin.site._registry[model].has_add_permission(None), model.__name__
