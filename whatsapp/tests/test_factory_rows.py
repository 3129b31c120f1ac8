"""The send rules that read only rows (is the template sendable, may this number send), on rows the
factories write straight to the database: no simulator, no Graph call. And the factories' rows
themselves: they pass the models' constraints and belong to the workspace they were made in."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from aerostic.core.tenant_context import tenant_context
from contacts.phones import customer_index
from whatsapp.message_templates.selectors import is_sendable
from whatsapp.models import MessageTemplate, OutboundMessage, PhoneNumber, WhatsAppAccount
from whatsapp.selectors import phone_sending_problem, sending_problem
from whatsapp.sending.rules import template_problem
from whatsapp.tests.factories import (
    MessageTemplateFactory,
    OutboundMessageFactory,
    PhoneNumberFactory,
    WhatsAppAccountFactory,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("status", "problem"),
    [
        ("APPROVED", None),
        ("PAUSED", "Meta paused the template order_update (en_US)."),
        ("DISABLED", "Meta disabled the template order_update (en_US)."),
        ("REJECTED", "The template order_update (en_US) is rejected."),
        ("PENDING", "The template order_update (en_US) is in review."),
        ("DRAFT", "The template order_update (en_US) is draft."),
    ],
)
def test_only_an_approved_template_is_sendable(alpha, status, problem):
    with tenant_context(alpha.tenant):
        template = MessageTemplateFactory(name="order_update", status=status)
        assert is_sendable(template) is (problem is None)
        assert template_problem(template) == problem


def test_an_approved_template_of_a_disconnected_account_is_not_sendable(alpha):
    with tenant_context(alpha.tenant):
        template = MessageTemplateFactory(account__status=WhatsAppAccount.Status.DISCONNECTED)
        assert template.status == "APPROVED" and not is_sendable(template)
        assert template_problem(template) == f"The template {template.name} (en_US) is approved."


def test_a_number_sends_while_connected_and_active(alpha):
    with tenant_context(alpha.tenant):
        phone = PhoneNumberFactory(display_phone_number="+1 555 010 0199")
        assert sending_problem(phone) is None and phone_sending_problem(phone.pk) is None

        PhoneNumber.objects.filter(pk=phone.pk).update(is_active=False)
        assert phone_sending_problem(phone.pk) == (
            "The WhatsApp number +1 555 010 0199 was deactivated: nothing is sent from it."
        )
        WhatsAppAccount.objects.filter(pk=phone.account_id).update(status=WhatsAppAccount.Status.DISCONNECTED)
        assert phone_sending_problem(phone.pk) == (
            "The WhatsApp number +1 555 010 0199 was disconnected: reconnect it to send again."
        )
        assert phone_sending_problem(phone.pk + 1000) == "The WhatsApp number no longer exists."


def test_factory_rows_belong_to_the_workspace_they_were_made_in(alpha, bravo):
    with tenant_context(alpha.tenant):
        message = OutboundMessageFactory(recipient="919812345621")
        template = MessageTemplateFactory(account=message.phone_number.account)
        assert {row.tenant_id for row in (message, message.phone_number, message.phone_number.account, template)} == {
            alpha.tenant.pk
        }
        stored = OutboundMessage.objects.get()
        assert stored.recipient.reveal() == "919812345621"  # sealed at rest, like the real writer's
        assert stored.recipient_index == customer_index(tenant=alpha.tenant.pk, wa_id="919812345621")
        assert (PhoneNumber.objects.count(), MessageTemplate.objects.count()) == (1, 1)
    with tenant_context(bravo.tenant):
        for model in (WhatsAppAccount, PhoneNumber, MessageTemplate, OutboundMessage):
            assert not model.objects.exists(), model
        # the same customer has another index in another workspace
        assert customer_index(tenant=bravo.tenant.pk, wa_id="919812345621") != stored.recipient_index


def test_factory_rows_obey_the_models_constraints(alpha, bravo):
    with tenant_context(alpha.tenant):
        phone = PhoneNumberFactory()
        template = MessageTemplateFactory(account=phone.account, name="order_update")
        with pytest.raises(IntegrityError), transaction.atomic():
            MessageTemplateFactory(account=phone.account, name="order_update")  # one per name and language
        MessageTemplateFactory(account=phone.account, name="order_update", language="de")
    with tenant_context(bravo.tenant):
        with pytest.raises(IntegrityError), transaction.atomic():
            PhoneNumberFactory(phone_number_id=phone.phone_number_id)  # one active number across workspaces
        with pytest.raises(IntegrityError), transaction.atomic():
            WhatsAppAccountFactory(waba_id=phone.account.waba_id)
        PhoneNumberFactory(phone_number_id=phone.phone_number_id, is_active=False)
    assert template.account_id == phone.account_id
