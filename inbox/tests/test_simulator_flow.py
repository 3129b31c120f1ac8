"""End to end over real HTTP: the simulator posts signed webhooks to a running app, the intake
stores them, the drain job processes them, and the message store shows the conversation."""

import pytest
import requests

from aerostic.core.tenant_context import platform_context, tenant_context
from inbox.models import Conversation, Message
from whatsapp.models import WebhookEvent
from whatsapp.simulator import SimulatorServer, SimulatorState
from whatsapp.webhooks.ready import drain

pytestmark = pytest.mark.django_db(transaction=True)


def test_simulated_customer_message_reaches_the_inbox(live_server, settings, alpha):
    from whatsapp.connections.connect import sandbox_connect

    server = SimulatorServer(
        state=SimulatorState(review_seconds=0.2, delivery_delays=(0.05, 0.1)),
        app_secret=settings.META_APP_SECRET,
        webhook_url=f"{live_server.url}/webhooks/meta/",
    ).start()
    settings.META_GRAPH_BASE_URL = settings.META_SANDBOX_URL = server.url
    try:
        account = sandbox_connect(tenant=alpha.tenant, actor=alpha.admin.user)
        with tenant_context(alpha.tenant):
            phone_number_id = account.phone_numbers.get().phone_number_id
        answer = requests.post(
            f"{server.url}/_sim/inbound",
            json={
                "phone_number_id": phone_number_id,
                "from": "919812345621",
                "name": "Asha",
                "content": {"body": "Hi"},
            },
            timeout=10,
        )
        assert answer.status_code == 200
    finally:
        server.stop()

    with platform_context("test"):
        assert WebhookEvent.all_tenants.filter(fields=["messages"]).count() == 1
    assert drain(1) >= 1
    with tenant_context(alpha.tenant):
        conversation = Conversation.objects.get()
        message = Message.objects.get()
    assert (conversation.customer_name, message.direction, message.body) == ("Asha", "in", "Hi")
    assert conversation.window_expires_at is not None
