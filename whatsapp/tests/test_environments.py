"""Environments and WhatsApp accounts: the sandbox is refused in production, and the production
WhatsApp Business Account outside it (never test on the production account)."""

import pytest

from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import tenant_context
from whatsapp.connections.clients import ConnectionProblem, base_url_for, graph_for
from whatsapp.connections.connect import account_connect, sandbox_connect
from whatsapp.models import WhatsAppAccount

pytestmark = pytest.mark.django_db


def _connect_form(business):
    return {"waba_id": business["waba_id"], "token": business["token"]}


def test_the_production_waba_is_refused_outside_production_and_the_refusal_is_audited(
    simulator, alpha, login_client, settings
):
    business = simulator.state.create_business(name="Live Co", display_number="+91 98000 00011", verified_name="L")
    settings.PRODUCTION_WABA_IDS = [business["waba_id"]]
    for environment in ("development", "staging"):
        settings.DJANGO_ENV, settings.IS_PRODUCTION = environment, False
        response = login_client(alpha.admin).post("/whatsapp/", _connect_form(business))
        assert response.status_code == 400
        page = response.content.decode()
        assert "production WhatsApp Business Account" in page and f"installation is {environment}" in page
    with tenant_context(alpha.tenant):
        assert not WhatsAppAccount.objects.exists()
        refusals = list(AuditEvent.objects.filter(action="whatsapp.connect_failed").values_list("metadata", flat=True))
    assert len(refusals) == 2 and all("production" in refusal["reason"] for refusal in refusals)
    assert business["waba_id"] not in simulator.state.subscriptions  # refused before Meta was asked anything


def test_an_operator_may_allow_the_production_waba_and_production_takes_it(simulator, alpha, bravo, settings):
    allowed = simulator.state.create_business(name="A", display_number="+91 98000 00012", verified_name="A")
    live = simulator.state.create_business(name="B", display_number="+91 98000 00013", verified_name="B")
    settings.PRODUCTION_WABA_IDS = [allowed["waba_id"], live["waba_id"]]
    settings.ALLOW_PRODUCTION_WABA = True
    account = account_connect(
        tenant=alpha.tenant, waba_id=allowed["waba_id"], token=allowed["token"], mode="real", actor=alpha.admin.user
    )
    assert account.mode == "real"
    settings.ALLOW_PRODUCTION_WABA = False
    settings.DJANGO_ENV, settings.IS_PRODUCTION = "production", True
    account = account_connect(
        tenant=bravo.tenant, waba_id=live["waba_id"], token=live["token"], mode="real", actor=bravo.admin.user
    )
    assert account.waba_id == live["waba_id"]


def test_other_accounts_connect_in_staging(simulator, alpha, settings):
    settings.DJANGO_ENV, settings.IS_PRODUCTION = "staging", False
    settings.PRODUCTION_WABA_IDS = ["999999999999"]
    business = simulator.state.create_business(name="Test", display_number="+91 98000 00014", verified_name="T")
    account = account_connect(
        tenant=alpha.tenant, waba_id=business["waba_id"], token=business["token"], mode="real", actor=alpha.admin.user
    )
    assert account.mode == "real"


def test_embedded_signup_refuses_the_production_waba_before_exchanging_the_code(simulator, alpha, settings):
    from whatsapp.connections.connect import embedded_signup_complete

    signup = simulator.state.create_signup(name="Live Co", display_number="+91 98000 00015")
    settings.PRODUCTION_WABA_IDS = [signup["waba_id"]]
    with pytest.raises(ConnectionProblem, match="production WhatsApp Business Account"):
        embedded_signup_complete(
            tenant=alpha.tenant,
            code=signup["code"],
            waba_id=signup["waba_id"],
            phone_number_id=signup["phone_number_id"],
            pin="123456",
            actor=alpha.admin.user,
        )
    assert signup["code"] in simulator.state.codes  # Meta's one-time code was never spent
    with tenant_context(alpha.tenant):
        assert AuditEvent.objects.filter(action="whatsapp.connect_failed").count() == 1
        assert not WhatsAppAccount.objects.exists()


def test_a_sandbox_account_reaches_nothing_once_the_sandbox_is_off(simulator, alpha, settings):
    account = sandbox_connect(tenant=alpha.tenant, actor=alpha.admin.user)
    settings.SANDBOX_ENABLED = False
    with pytest.raises(ConnectionProblem, match="sandbox is not enabled"):
        base_url_for(WhatsAppAccount.Mode.SANDBOX)
    with tenant_context(alpha.tenant), pytest.raises(ConnectionProblem, match="sandbox is not enabled"):
        graph_for(account)
    assert base_url_for(WhatsAppAccount.Mode.REAL) == settings.META_GRAPH_BASE_URL
    with pytest.raises(ConnectionProblem, match="not enabled"):
        sandbox_connect(tenant=alpha.tenant, actor=alpha.admin.user)
