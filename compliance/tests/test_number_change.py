"""A contact's number changed by a person voids the consent given for the old number: the ledger
gets a reset event and the contact's state is unknown again (portal and API edit paths)."""

from __future__ import annotations

import pytest

from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import tenant_context
from compliance.consent import consent_record
from compliance.models import ConsentEvent
from contacts.models import ConsentState, Contact
from contacts.services import contact_create

pytestmark = pytest.mark.django_db

OLD, NEW = "+919812345621", "+919812345699"


@pytest.fixture
def opted_in(alpha):
    with tenant_context(alpha.tenant):
        contact = contact_create(phone=OLD, name="Asha", actor=alpha.admin.user)
        consent_record(contact=contact, kind="opt_in", source="form", evidence="Checkout form")
        assert Contact.objects.get(pk=contact.pk).consent_state == ConsentState.OPTED_IN
        return contact


def _edit(path: str, contact, member, login_client, api_client_for, **fields):
    if path == "api":
        return api_client_for(member).patch(f"/api/v1/contacts/{contact.pk}/", fields, format="json")
    form = {"phone": contact.phone_hint, "name": contact.name, "language": "", "timezone_name": "", "tags": ""}
    return login_client(member).post(f"/contacts/{contact.pk}/", {**form, **fields})


@pytest.mark.parametrize("path", ["portal", "api"])
def test_an_agent_changing_the_number_resets_consent_to_unknown(alpha, opted_in, login_client, api_client_for, path):
    # When an agent gives the contact a new number
    response = _edit(path, opted_in, alpha.agent, login_client, api_client_for, phone=NEW)
    assert response.status_code in (200, 302)
    # Then the consent given for the old number does not carry over: a reset event, state unknown
    with tenant_context(alpha.tenant):
        contact = Contact.objects.get(pk=opted_in.pk)
        latest = ConsentEvent.objects.filter(contact=contact).order_by("-occurred_at", "-id").first()
        assert contact.phone.reveal() == NEW
        assert contact.consent_state == ConsentState.UNKNOWN
        assert (latest.kind, latest.source, latest.actor_id) == (
            ConsentEvent.Kind.RESET,
            ConsentEvent.Source.API if path == "api" else ConsentEvent.Source.AGENT,
            alpha.agent.user.pk,
        )
        assert "number changed" in latest.evidence.lower() and "9812345621" not in latest.evidence
        assert AuditEvent.objects.filter(action="consent.reset", target_id=str(contact.pk)).count() == 1


@pytest.mark.parametrize("path", ["portal", "api"])
def test_an_edit_that_keeps_the_number_keeps_consent(alpha, opted_in, login_client, api_client_for, path):
    fields = {"name": "Asha Rao"} if path == "portal" else {"name": "Asha Rao", "phone": "+91 98123 45621"}
    response = _edit(path, opted_in, alpha.agent, login_client, api_client_for, **fields)
    assert response.status_code in (200, 302)
    with tenant_context(alpha.tenant):
        contact = Contact.objects.get(pk=opted_in.pk)
        assert (contact.name, contact.consent_state) == ("Asha Rao", ConsentState.OPTED_IN)
        assert not ConsentEvent.objects.filter(contact=contact, kind="reset").exists()


def test_a_refused_number_change_records_no_reset(alpha, opted_in, api_client_for):
    # Given another contact already has the new number
    with tenant_context(alpha.tenant):
        contact_create(phone=NEW, actor=alpha.admin.user)
    response = api_client_for(alpha.agent).patch(f"/api/v1/contacts/{opted_in.pk}/", {"phone": NEW}, format="json")
    assert response.status_code == 409
    with tenant_context(alpha.tenant):
        assert Contact.objects.get(pk=opted_in.pk).consent_state == ConsentState.OPTED_IN
        assert not ConsentEvent.objects.filter(kind="reset").exists()


@pytest.mark.parametrize("path", ["api-record", "api-create"])
def test_reset_is_not_a_consent_a_person_can_record_by_hand(alpha, opted_in, api_client_for, path):
    client = api_client_for(alpha.agent)
    if path == "api-record":
        response = client.post(f"/api/v1/contacts/{opted_in.pk}/consent/", {"kind": "reset"}, format="json")
    else:
        response = client.post("/api/v1/contacts/", {"phone": NEW, "consent": "reset"}, format="json")
    assert response.status_code == 400
