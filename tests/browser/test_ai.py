"""The AI auto-reply and the human takeover in a real browser, against `make run`'s stack (the
demo workspace's sandbox number answers with the bundled sample knowledge base; hand-overs go to
the Support team): a known question is answered and labelled AI; a refund request is handed over
and assigned; the agent takes over and a further question gets no AI reply; handed back, the AI
answers again."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.stack import start_stack, stop_stack
from tests.browser.test_inbox_loop import _sign_in, _wait_for

pytestmark = [pytest.mark.browser]

CUSTOMER = "919812340088"
KNOWN = "hi, how can i track my order?"
TRACKING_ANSWER = "Once your order is dispatched"
HOURS = "what are your store timings?"


@pytest.fixture(scope="module")
def stack():
    running, process, database = start_stack()
    try:
        yield running
    finally:
        stop_stack(process, database)


def _customer_writes(stack, text: str) -> None:
    import requests

    phone_number_id = stack.sql("SELECT phone_number_id FROM whatsapp_phonenumber ORDER BY id LIMIT 1")[0][0]
    answer = requests.post(
        f"{stack.simulator_url}/_sim/inbound",
        json={
            "phone_number_id": phone_number_id,
            "from": CUSTOMER,
            "name": "Priya Customer",
            "content": {"body": text},
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def _decisions(stack) -> list[tuple[str, str]]:
    return stack.sql("SELECT outcome, rule FROM inbox_aireply ORDER BY id")


def _texts_received(stack) -> list[str]:
    import requests

    answer = requests.get(f"{stack.simulator_url}/_sim/messages", timeout=10).json()
    messages = answer["messages"] if isinstance(answer, dict) else answer
    return [
        str(m.get("text", "")) for m in messages if str(m.get("to", "")).endswith(CUSTOMER) and m.get("type") == "text"
    ]


def test_ai_answers_hands_over_and_steps_aside_for_the_agent(browser, stack):
    context = browser.new_context()
    agent = context.new_page()
    agent.set_default_timeout(30_000)
    try:
        _sign_in(agent, stack, stack.agent_email)

        # A known question: the AI answers, and the timeline says it was the AI, how sure, from what.
        _customer_writes(stack, KNOWN)
        _wait_for(lambda: _decisions(stack) == [("answered", "")], timeout=40)
        agent.goto(f"{stack.url}/inbox/?view=all")
        agent.locator("[data-conversation-row]", has_text="Priya Customer").click()
        timeline = agent.locator(".timeline")
        expect(timeline).to_contain_text(TRACKING_ANSWER)
        ai_sender = timeline.locator(".bubble-sender", has=agent.locator(".ai-tag"))
        expect(ai_sender).to_have_count(1)
        expect(ai_sender).to_contain_text("sure · from “How can I track my order?”")
        _wait_for(lambda: any(TRACKING_ANSWER in text for text in _texts_received(stack)), timeout=40)

        # A refund: handed over to a person (the Support team's agent), never answered by the AI.
        _customer_writes(stack, "The kurta came torn, I want a refund please")
        expect(timeline).to_contain_text("AI handed over to the team", timeout=40_000)
        expect(timeline).to_contain_text("Demo Agent")
        assert _decisions(stack)[-1] == ("handed_over", "blocked_intent")
        assert stack.sql("SELECT u.email FROM inbox_conversation c JOIN accounts_user u ON u.id = c.assignee_id") == [
            (stack.agent_email,)
        ]

        # The agent takes over: a further question gets no AI reply.
        panel = agent.locator("#panel-ai")
        panel.get_by_role("button", name="Take over").click()
        expect(panel).to_contain_text("Taken over")
        expect(timeline).to_contain_text("took over from the AI")
        _customer_writes(stack, HOURS)
        _wait_for(lambda: len(_decisions(stack)) == 3, timeout=40)
        assert _decisions(stack)[-1] == ("silent", "taken_over")
        expect(timeline).to_contain_text(HOURS)
        answered_before = sum(1 for outcome, _ in _decisions(stack) if outcome == "answered")
        assert answered_before == 1

        # Handed back: the AI answers the next question again.
        panel.get_by_role("button", name="Hand back to the AI").click()
        expect(panel).to_contain_text("AI answering")
        _customer_writes(stack, HOURS)
        _wait_for(lambda: len(_decisions(stack)) == 4, timeout=40)
        assert _decisions(stack)[-1] == ("answered", "")
        expect(ai_sender).to_have_count(2, timeout=40_000)

        # At a phone's width the boundary stays readable (the panel's AI section and the labels).
        agent.set_viewport_size({"width": 390, "height": 844})
        agent.reload()
        expect(agent.locator(".bubble-sender .ai-tag").first).to_be_visible()
        expect(agent.locator(".timeline-event-ai").first).to_be_visible()
    finally:
        context.close()
