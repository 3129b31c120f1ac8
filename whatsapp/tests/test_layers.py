"""whatsapp sits below inbox and campaigns (DESIGN §1): a reaction that crosses upward goes through
a fan-out the higher layer registers with (whatsapp/fanout.py), never through an import."""

from __future__ import annotations

import ast
from pathlib import Path

WHATSAPP = Path(__file__).resolve().parents[1]

# Upward imports that predate the fan-out, each owned elsewhere and to move onto it; none may be added.
KNOWN_UPWARD = {
    ("webhooks/handlers.py", "campaigns.engine"),  # statuses settle campaign recipients
}


def _campaign_imports() -> set[tuple[str, str]]:
    found = set()
    for path in WHATSAPP.rglob("*.py"):
        relative = path.relative_to(WHATSAPP).as_posix()
        if relative.startswith("tests/"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            found.update((relative, name) for name in names if name.split(".")[0] == "campaigns")
    return found


def test_whatsapp_imports_no_campaigns_module_beyond_the_known_ones():
    assert _campaign_imports() <= KNOWN_UPWARD


def test_campaigns_registers_its_pause_for_a_stopped_number_with_the_whatsapp_fanout():
    from campaigns.services import campaigns_pause_for_number
    from whatsapp import fanout

    assert campaigns_pause_for_number in fanout.number_stopped_handlers()


def test_campaigns_registers_its_pause_for_a_stopped_template_with_the_whatsapp_fanout():
    from campaigns.services import campaigns_pause_for_template
    from whatsapp import fanout

    assert campaigns_pause_for_template in fanout._template_stopped


def test_inbox_registers_its_message_store_and_its_record_of_sends_with_the_whatsapp_fanout():
    from inbox import conversations, inbound, outbound, statuses
    from whatsapp import fanout

    store = fanout.message_store()
    assert store.inbound_many is inbound.inbound_store_many
    assert store.statuses_many is statuses.status_record_many
    assert store.echo is outbound.echo_store
    assert store.history is outbound.history_store
    assert store.conversations is conversations.conversations_of
    assert outbound.outbound_store_many in fanout._sent
