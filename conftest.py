"""Shared fixtures: tenants "alpha" and "bravo" with an admin, agent and viewer each, and clients."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from tenants.models import Membership, Tenant
from tenants.tests.factories import MembershipFactory, TenantFactory
from whatsapp.simulator import SimulatorServer, SimulatorState


@dataclass
class Workspace:
    tenant: Tenant
    admin: Membership
    agent: Membership
    viewer: Membership

    def member(self, role: str) -> Membership:
        return {Role.ADMIN: self.admin, Role.AGENT: self.agent, Role.VIEWER: self.viewer}[role]


def _workspace(name: str) -> Workspace:
    tenant = TenantFactory(name=name.title(), slug=name)
    return Workspace(
        tenant=tenant,
        admin=MembershipFactory(tenant=tenant, role=Role.ADMIN, user=UserFactory(email=f"admin@{name}.test")),
        agent=MembershipFactory(tenant=tenant, role=Role.AGENT, user=UserFactory(email=f"agent@{name}.test")),
        viewer=MembershipFactory(tenant=tenant, role=Role.VIEWER, user=UserFactory(email=f"viewer@{name}.test")),
    )


@pytest.fixture
def alpha(db) -> Workspace:
    return _workspace("alpha")


@pytest.fixture
def bravo(db) -> Workspace:
    return _workspace("bravo")


@pytest.fixture(autouse=True)
def _clean_redis():
    """Each test starts with an empty Redis (cache, throttles, queues): the real server, not a mock."""
    import django_rq

    django_rq.get_connection("default").flushdb()
    yield


@pytest.fixture
def login_client():
    def make(membership_or_user) -> Client:
        user = getattr(membership_or_user, "user", membership_or_user)
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return make


@pytest.fixture
def console_client(db) -> Client:
    """A super-admin signed in to the platform console (Django admin)."""
    from accounts.models import User

    staff = User.objects.create_superuser(email="ops@platform.test", password=None)  # signed in below
    client = Client()
    client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def api_client_for():
    """An API client authenticated with a real JWT obtained from the token endpoint."""

    def make(membership_or_user, tenant_slug: str | None = None) -> APIClient:
        user = getattr(membership_or_user, "user", membership_or_user)
        client = APIClient()
        response = client.post(
            "/api/v1/auth/token/", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
        )
        assert response.status_code == 200, response.content
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
        if tenant_slug:
            client.defaults["HTTP_X_TENANT"] = tenant_slug
        return client

    return make


# --- WhatsApp: a real simulator server on a free port, and clients pointed at it.


@pytest.fixture
def simulator(settings):
    server = SimulatorServer(
        state=SimulatorState(review_seconds=0.2, delivery_delays=(0.05, 0.1)), app_secret=settings.META_APP_SECRET
    ).start()
    settings.META_GRAPH_BASE_URL = server.url
    settings.META_SANDBOX_URL = server.url
    yield server
    server.stop()


@pytest.fixture
def graph_client(simulator, settings):
    """A client for the sandbox WABA with fast retries (no real sleeping)."""
    from whatsapp.graph import GraphClient

    def make(**overrides):
        options = {"token": simulator.state.sandbox["token"], "backoff_base": 0, "backoff_cap": 0}
        options.update(overrides)
        return GraphClient(**options)

    return make


@pytest.fixture
def connected(simulator, alpha):
    """Alpha with a connected sandbox account (through the real service)."""
    from whatsapp.connections.connect import sandbox_connect

    return sandbox_connect(tenant=alpha.tenant, actor=alpha.admin.user)


@pytest.fixture
def phone(alpha, connected):
    """Alpha's connected sandbox number, its account loaded (read inside alpha's tenant context).
    A test module that needs another number (or settings around it) defines its own `phone`."""
    from campaigns.tests.support import sandbox_phone

    return sandbox_phone(alpha, connected)


@pytest.fixture
def template(simulator, alpha, connected):
    """An APPROVED utility template with two body variables ("order_update", en_US), added to the
    simulator's WABA and pulled in by the real template sync."""
    from campaigns.tests.support import approved_template

    return approved_template(simulator, alpha, connected)


@dataclass
class SlackReceiver:
    """A local Slack incoming webhook: records what it is sent, answers `status`."""

    url: str
    received: list[dict]
    status: int = 200


@pytest.fixture
def slack_receiver():
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    receiver = SlackReceiver(url="", received=[])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.received.append(json.loads(body))
            self.send_response(receiver.status)
            self.end_headers()
            self.wfile.write(b"ok" if receiver.status == 200 else b"no_service")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_port}/services/T000/B000/secret"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp_receiver(settings):
    """A real SMTP server on this machine (aiosmtpd), with Django's SMTP backend pointed at it:
    `.messages` holds what it received (email.message.Message objects)."""
    import logging
    from email import message_from_bytes
    from types import SimpleNamespace

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-connection chatter
    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
            message = message_from_bytes(envelope.original_content)
            message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
            received.append(message)
            return "250 OK"

    from devstack.services import free_port

    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield SimpleNamespace(messages=received, port=settings.EMAIL_PORT)
    controller.stop()
