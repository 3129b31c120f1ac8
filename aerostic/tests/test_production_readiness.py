"""`manage.py production_readiness` and its console page: a sandbox-only install fails with a reason
per gate; one with a real connection that has done everything passes."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from aerostic.core.tenant_context import platform_context, tenant_context
from aerostic.readiness import GATES
from campaigns.models import Campaign, CampaignMessage
from campaigns.tests.factories import CampaignFactory
from contacts.tests.factories import ContactFactory
from inbox.models import Message
from inbox.tests.factories import ConversationFactory
from whatsapp.models import MessageTemplate, WebhookEvent, WhatsAppAccount
from whatsapp.tests.factories import MessageTemplateFactory, PhoneNumberFactory, WhatsAppAccountFactory

pytestmark = pytest.mark.django_db

SECRETS = ("SECRET_KEY", "TOKEN_ENCRYPTION_KEYS", "BLIND_INDEX_KEY", "META_APP_SECRET", "META_WEBHOOK_VERIFY_TOKEN")


def _run(*args: str) -> tuple[dict, CommandError | None]:
    out = StringIO()
    try:
        call_command("production_readiness", "--json", *args, stdout=out)
        failure = None
    except CommandError as error:
        failure = error
    return json.loads(out.getvalue()), failure


def test_a_sandbox_only_install_fails_every_gate_with_its_reason(alpha):
    with tenant_context(alpha.tenant):
        PhoneNumberFactory(account=WhatsAppAccountFactory(mode=WhatsAppAccount.Mode.SANDBOX))
    verdict, failure = _run()
    assert failure is not None and failure.returncode == 1 and "7 of 7 gates fail" in str(failure)
    assert verdict["production_readiness"] == "FAIL"
    assert [verdict[gate] for gate in GATES] == [False] * len(GATES)
    reasons = verdict["reasons"]
    assert reasons["real_waba_connected"] == "No WhatsApp Business Account outside the sandbox is connected."
    assert "approved" in reasons["template_approved"]
    assert "last 7 days" in reasons["real_messages_delivered"]
    assert "subscribed" in reasons["webhooks_working"] and "processed" in reasons["webhooks_working"]
    assert "campaign" in reasons["campaign_engine_verified"]
    assert "DJANGO_ENV is development" in reasons["safe_for_deployment"]
    assert "BACKUP_STATUS_FILE" in reasons["safe_for_deployment"]


def _a_real_connection_that_did_everything(tenant) -> None:
    now = timezone.now()
    with tenant_context(tenant):
        account = WhatsAppAccountFactory(mode=WhatsAppAccount.Mode.REAL, webhooks_subscribed=True)
        phone = PhoneNumberFactory(account=account, quality_rating="GREEN")
        template = MessageTemplateFactory(account=account, status=MessageTemplate.Status.APPROVED)
        conversation = ConversationFactory(phone_number=phone)
        Message.objects.create(
            tenant=tenant,
            conversation=conversation,
            direction=Message.Direction.OUTBOUND,
            type="template",
            wamid="wamid.ready-1",
            status=Message.Status.DELIVERED,
            created_at=now,
        )
        campaign = CampaignFactory(phone_number=phone, status=Campaign.Status.COMPLETED, variant__template=template)
        CampaignMessage.objects.create(
            tenant=tenant,
            campaign=campaign,
            variant=campaign.variants.get(),
            contact=ContactFactory(tenant=tenant),
            state=CampaignMessage.State.READ,
        )
    with platform_context("test"):
        WebhookEvent.all_tenants.create(body="{}", status=WebhookEvent.Status.PROCESSED, processed_at=now)


@pytest.fixture
def production(settings, monkeypatch, tmp_path):
    settings.DJANGO_ENV, settings.IS_PRODUCTION, settings.IS_DEPLOYED = "production", True, True
    settings.DEBUG, settings.SANDBOX_ENABLED = False, False
    settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE = True, True, True
    settings.SECURE_HSTS_SECONDS = 31536000
    for name in SECRETS:
        monkeypatch.setenv(name, getattr(settings, name) or "set")
    backup = tmp_path / "last-backup"
    backup.write_text(timezone.now().isoformat())
    settings.BACKUP_STATUS_FILE = str(backup)
    return backup


def test_a_real_connection_that_did_everything_passes(alpha, production):
    _a_real_connection_that_did_everything(alpha.tenant)
    verdict, failure = _run()
    assert (verdict["production_readiness"], verdict["reasons"], failure) == ("PASS", {}, None)
    assert all(verdict[gate] is True for gate in GATES)


def test_one_missing_piece_is_named(alpha, production, settings):
    import os

    _a_real_connection_that_did_everything(alpha.tenant)
    stale = timezone.now().timestamp() - 30 * 3600
    os.utime(production, (stale, stale))
    with platform_context("test"):
        WebhookEvent.all_tenants.create(body="{}", status=WebhookEvent.Status.DEAD)
    verdict, failure = _run()
    assert failure is not None and verdict["production_readiness"] == "FAIL"
    assert verdict["reasons"]["safe_for_deployment"] == "The last backup is 30 hours old (more than 26)."
    assert verdict["reasons"]["webhooks_working"] == "Dead webhook events are waiting: inspect and replay them."
    assert verdict["ready_for_build_and_deploy"] is False and verdict["real_waba_connected"] is True


def test_the_text_report_and_bad_arguments():
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("production_readiness", stdout=out)
    assert out.getvalue().startswith("production_readiness: FAIL\n")
    assert "  NO   real_waba_connected  — No WhatsApp Business Account outside the sandbox" in out.getvalue()
    with pytest.raises(CommandError, match="--days must be at least 1"):
        call_command("production_readiness", "--days", "0")


def test_the_console_shows_the_same_verdict_to_super_admins_only(alpha, login_client, console_client):
    client = console_client
    page = client.get("/admin/readiness/").content.decode()
    assert "Production readiness: FAIL" in page and "real_waba_connected" in page
    assert "No WhatsApp Business Account outside the sandbox is connected." in page
    assert 'href="/admin/readiness/"' in client.get("/admin/").content.decode()
    assert login_client(alpha.admin).get("/admin/readiness/").status_code == 302  # to the console's sign-in
    assert Client().get("/admin/readiness/").status_code == 302
