"""The AI tests' workspace: the AI switched on for alpha's sandbox number with a small knowledge
base, a customer who writes through a signed webhook, and the `ai` and `sends` queues run as the
workers would."""

from __future__ import annotations

import time
from typing import Any

from django.test import TestCase
from rq import SimpleWorker

from aerostic.core import queues
from aerostic.core.tenant_context import tenant_context
from aerostic.testsupport.webhooks import deliver_webhook
from inbox.ai import services
from inbox.ai.models import AISettings
from tenants.models import WorkspaceFlag
from whatsapp.jobs import send_outbound

CUSTOMER = "919812345621"

PAIRS = [
    (
        "How can I track my order?",
        ["Where is my parcel?", "Order tracking link"],
        "Track it at kavyathreads.example/track with your order number.",
    ),
    (
        "What are your store opening hours?",
        ["When is the shop open?", "Store timings"],
        "Our stores are open 10 am to 9 pm, Monday to Saturday.",
    ),
    (
        "Do you deliver outside India?",
        ["International shipping", "Do you ship abroad?"],
        "We deliver within India only for now.",
    ),
]
KNOWN_QUESTION = "how can i track my order"
OTHER_KNOWN_QUESTION = "what are your store opening hours?"


def flag_on(name: str = "ai_replies") -> None:
    WorkspaceFlag.objects.update_or_create(name=name, defaults={"everyone": True})


def ai_on(workspace: Any, phone: Any, **settings: Any) -> AISettings:
    """The AI answering on `phone` with PAIRS, the flag rolled out to everyone."""
    flag_on()
    actor = workspace.admin.user
    with tenant_context(workspace.tenant):
        for question, alternates, answer in PAIRS:
            services.knowledge_save(actor=actor, question=question, alternates=alternates, answer=answer)
        services.ai_numbers_set(phone_number_ids=[phone.pk], actor=actor)
        return services.ai_settings_update(actor=actor, enabled=True, **settings)


def customer_says(phone: Any, text: str, *, wamid: str = "", sender: str = CUSTOMER) -> str:
    """A customer's text through a signed webhook, processed, its after-commit jobs enqueued (as a
    worker's commit would); returns its wamid."""
    wamid = wamid or f"wamid.ai-{time.monotonic_ns()}"
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": phone.display_phone_number, "phone_number_id": phone.phone_number_id},
        "contacts": [{"profile": {"name": "Asha"}, "wa_id": sender}],
        "messages": [
            {"from": sender, "id": wamid, "timestamp": str(int(time.time())), "type": "text", "text": {"body": text}}
        ],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "0", "changes": [{"field": "messages", "value": value}]}],
    }
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert deliver_webhook(payload).status == "processed"
    return wamid


def run_ai() -> int:
    """Runs what waits on the `ai` queue; how many jobs ran."""
    queue = queues.get_queue(queues.AI)
    waiting = queue.count
    # The jobs run inside the test's transaction: what they do after commit is done as they end.
    with TestCase.captureOnCommitCallbacks(execute=True):
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    return waiting


def run_sends(workspace: Any, phone: Any) -> dict[str, Any]:
    return send_outbound(tenant_id=workspace.tenant.pk, phone_id=phone.pk)
