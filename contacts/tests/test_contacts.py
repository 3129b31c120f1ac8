"""Contacts by hand, through the portal and the API: numbers normalised and kept encrypted, one
contact per number, search by name or full number, masked lists, audited reveals, attributes,
lists and segments."""

from __future__ import annotations

import pytest
from django.db import connection

from aerostic.core.errors import Conflict
from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import platform_context, tenant_context
from compliance.consent import consent_record
from contacts import phones, selectors
from contacts.models import Contact
from contacts.services import (
    ContactInvalid,
    attribute_define,
    contact_create,
    contact_for_customer,
    contact_phone_reveal,
    contact_update,
    list_create,
    list_members_add,
    segment_save,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "country", "e164"),
    [
        ("+91 98123 45621", "", "+919812345621"),
        ("098123 45621", "IN", "+919812345621"),
        ("919812345621", "", "+919812345621"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("+55 11 91234-5678", "", "+5511912345678"),
    ],
    ids=["international", "national-with-default", "wa-id-digits", "us-national", "brazil"],
)
def test_numbers_are_normalised_to_e164(raw, country, e164):
    assert phones.normalize(raw, default_country=country).e164 == e164


@pytest.mark.parametrize("raw", ["", "12345", "hello", "+91 12", "+999 123456789"], ids=repr)
def test_bad_numbers_are_refused_with_a_reason(raw):
    with pytest.raises(phones.InvalidPhoneNumber) as problem:
        phones.normalize(raw, default_country="IN")
    assert str(problem.value)


def test_masking_shows_the_calling_code_and_two_digits_at_each_end():
    assert phones.mask("+919812345621") == "+91 98••••21"
    assert phones.normalize("+14155552671").timezone == "America/Los_Angeles"


def test_a_contact_is_stored_encrypted_and_unique_per_number(alpha):
    with tenant_context(alpha.tenant):
        contact = contact_create(phone="+91 98123 45621", name="Asha", tags="VIP, north ", actor=alpha.admin.user)
        assert (contact.phone_hint, contact.country, contact.tags) == ("+91 98••••21", "IN", ["vip", "north"])
        with pytest.raises(Conflict):
            contact_create(phone="919812345621", actor=alpha.admin.user)
        with connection.cursor() as cursor:
            cursor.execute("SELECT phone FROM contacts_contact WHERE id = %s", [contact.pk])
            stored = cursor.fetchone()[0]
    assert "9812345621" not in stored
    with platform_context("test: audit rows"):
        assert AuditEvent.all_tenants.filter(action="contact.create", target_id=str(contact.pk)).exists()


def test_the_same_number_may_be_a_contact_of_two_workspaces(alpha, bravo):
    with tenant_context(alpha.tenant):
        contact_create(phone="+919812345621", actor=alpha.admin.user)
    with tenant_context(bravo.tenant):
        contact_create(phone="+919812345621", actor=bravo.admin.user)
        assert Contact.objects.count() == 1


def test_search_finds_by_name_or_by_the_full_number_only(alpha):
    with tenant_context(alpha.tenant):
        contact_create(phone="+919812345621", name="Asha Rao", actor=alpha.admin.user)
        contact_create(phone="+919812345622", name="Ravi", actor=alpha.admin.user)
        assert [c.name for c in selectors.contact_list(search="asha")] == ["Asha Rao"]
        assert [c.name for c in selectors.contact_list(search="+91 98123 45622")] == ["Ravi"]
        assert list(selectors.contact_list(search="98123")) == []  # partial numbers cannot be searched


def test_attributes_are_typed_by_their_definition(alpha):
    with tenant_context(alpha.tenant):
        attribute_define(key="orders", label="Orders", kind="number", actor=alpha.admin.user)
        attribute_define(key="renewal", label="Renewal", kind="date", actor=alpha.admin.user)
        contact = contact_create(
            phone="+919812345621", attributes={"orders": "12", "renewal": "2026-12-01"}, actor=alpha.admin.user
        )
        assert contact.attributes == {"orders": 12, "renewal": "2026-12-01"}
        with pytest.raises(ContactInvalid) as problem:
            contact_update(contact=contact, attributes={"orders": "many", "colour": "red"}, actor=alpha.admin.user)
    assert set(problem.value.problems) == {"attributes.orders", "attributes.colour"}


def test_reveal_is_audited(alpha):
    with tenant_context(alpha.tenant):
        contact = contact_create(phone="+919812345621", actor=alpha.admin.user)
        assert contact_phone_reveal(contact=contact, actor=alpha.admin.user) == "+919812345621"
    with platform_context("test: audit rows"):
        assert AuditEvent.all_tenants.filter(action="contact.reveal_phone", target_id=str(contact.pk)).count() == 1


def test_an_inbound_customer_becomes_a_contact_once(alpha):
    with tenant_context(alpha.tenant):
        first = contact_for_customer(wa_id="919812345621", profile_name="Asha")
        again = contact_for_customer(wa_id="919812345621", profile_name="Someone else")
        assert first.pk == again.pk and again.name == "Asha" and again.source == "inbound"
        assert again.consent_state == "unknown"  # writing to a business is no marketing opt-in
        assert contact_for_customer(wa_id="not-a-number") is None


def test_segments_filter_by_tags_consent_country_and_recent_messages(alpha):
    with tenant_context(alpha.tenant):
        india = contact_create(phone="+919812345621", tags=["vip"], actor=alpha.admin.user)
        contact_create(phone="+5511912345678", tags=["vip"], actor=alpha.admin.user)
        contact_for_customer(wa_id="14155552671")
        consent_record(contact=india, kind="opt_in", source="agent", evidence="said yes", actor=alpha.admin.user)
        segment = segment_save(
            name="VIP India opted in",
            filters={"tags_any": ["VIP"], "consent": "opted_in", "country": ["in"]},
            actor=alpha.admin.user,
        )
        assert list(selectors.segment_contacts(segment)) == [india]
        recent = segment_save(name="Wrote lately", filters={"last_inbound_days": 7}, actor=alpha.admin.user)
        assert [c.country for c in selectors.segment_contacts(recent)] == ["US"]
        with pytest.raises(ContactInvalid):
            segment_save(name="Bad", filters={"consent": "maybe", "colour": "red"}, actor=alpha.admin.user)


def test_lists_hold_contacts_of_their_own_workspace_only(alpha, bravo):
    with tenant_context(bravo.tenant):
        stranger = contact_create(phone="+919812345699", actor=bravo.admin.user)
    with tenant_context(alpha.tenant):
        contact = contact_create(phone="+919812345621", actor=alpha.admin.user)
        vip = list_create(name="VIP", actor=alpha.admin.user)
        assert list_members_add(contact_list=vip, contact_ids=[contact.pk, stranger.pk], actor=alpha.admin.user) == 1
        assert list(selectors.contact_list(list_id=vip.pk)) == [contact]


def test_portal_pages_show_masked_numbers_and_the_consent_history(alpha, login_client):
    with tenant_context(alpha.tenant):
        contact = contact_create(phone="+919812345621", name="Asha", actor=alpha.admin.user)
    agent = login_client(alpha.agent)
    listing = agent.get("/contacts/").content.decode()
    assert "+91 98••••21" in listing and "9812345621" not in listing
    recorded = agent.post(
        f"/contacts/{contact.pk}/", {"action": "consent", "kind": "opt_in", "evidence": "Signed up at the till"}
    )
    assert recorded.status_code == 302
    detail = agent.get(f"/contacts/{contact.pk}/").content.decode()
    assert "Signed up at the till" in detail and "Show number" not in detail  # agents may not reveal
    assert "9812345621" in login_client(alpha.admin).post(f"/contacts/{contact.pk}/reveal/").content.decode()


def test_portal_create_refuses_a_bad_number_with_a_form_error(alpha, login_client):
    response = login_client(alpha.agent).post("/contacts/new/", {"phone": "12", "name": "X"})
    assert response.status_code == 200 and "Not a phone number" in response.content.decode()
    with tenant_context(alpha.tenant):
        assert Contact.objects.count() == 0


def test_api_creates_with_consent_lists_paginated_and_explains_problems(alpha, api_client_for):
    api = api_client_for(alpha.agent)
    created = api.post(
        "/api/v1/contacts/",
        {"phone": "+919812345621", "name": "Asha", "consent": "opt_in", "consent_evidence": "web form #12"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["phone_hint"] == "+91 98••••21" and body["consent_state"] == "opted_in" and "phone" not in body
    listing = api.get("/api/v1/contacts/?search=asha").json()
    assert listing["count"] == 1 and listing["results"][0]["name"] == "Asha"
    bad = api.post("/api/v1/contacts/", {"phone": "12"}, format="json")
    assert bad.status_code == 400 and bad.json()["problems"][0]["where"] == "phone"
    duplicate = api.post("/api/v1/contacts/", {"phone": "+91 98123 45621"}, format="json")
    assert duplicate.status_code == 409
    history = api.get(f"/api/v1/contacts/{body['id']}/consent/").json()
    assert [event["source"] for event in history] == ["api"]


def test_contacts_kept_in_the_whatsapp_business_app_arrive_without_consent(alpha, connected):
    from aerostic.testsupport.webhooks import deliver_webhook
    from whatsapp.models import PhoneNumber

    with tenant_context(alpha.tenant):
        phone = PhoneNumber.objects.get(account=connected)

    def sync(action: str, name: str) -> dict:
        item = {"type": "contact", "contact": {"full_name": name, "phone_number": "16505551234"}, "action": action}
        value = {"metadata": {"phone_number_id": phone.phone_number_id}, "state_sync": [item]}
        payload = {
            "object": "whatsapp_business_account",
            "entry": [{"id": connected.waba_id, "changes": [{"field": "smb_app_state_sync", "value": value}]}],
        }
        return deliver_webhook(payload).outcome["changes"][0]

    assert sync("add", "Pablo Morales")["added"] == 1
    assert sync("edit", "Pablo M.")["updated"] == 1
    assert sync("remove", "Pablo M.")["kept"] == 1
    with tenant_context(alpha.tenant):
        [contact] = Contact.objects.all()
    assert (contact.name, contact.source, contact.consent_state) == ("Pablo M.", "business_app", "unknown")


def test_the_sample_csv_in_the_readme_imports_as_described(alpha):
    from pathlib import Path

    from contacts.importing import import_configure, import_run, import_upload, suggest_mapping

    data = (Path(__file__).resolve().parents[2] / "samples" / "contacts.csv").read_bytes()
    with tenant_context(alpha.tenant):
        upload = import_upload(data=data, filename="contacts.csv", actor=alpha.admin.user)
        mapping = suggest_mapping(upload.header)
        mapping["opted_in"] = "ignore"
        import_configure(
            contact_import=upload,
            mapping=mapping,
            on_existing="update",
            consent_column="opted_in",
            actor=alpha.admin.user,
        )
        done = import_run(upload.pk)
        assert (done.created_count, done.invalid_count, done.duplicate_count) == (8, 1, 1)
        assert Contact.objects.filter(consent_state="opted_in").count() == 7


def test_a_segment_built_in_the_portal_can_filter_on_an_attribute(alpha, login_client):
    with tenant_context(alpha.tenant):
        attribute_define(key="city", label="City", kind="text", actor=alpha.admin.user)
        delhi = contact_create(phone="+919812345621", attributes={"city": "Delhi"}, actor=alpha.admin.user)
        contact_create(phone="+919812345622", attributes={"city": "Pune"}, actor=alpha.admin.user)
    agent = login_client(alpha.agent)
    assert "City" in agent.get("/contacts/segments/").content.decode()
    response = agent.post("/contacts/segments/", {"name": "Delhi", "attribute_key": "city", "attribute_value": "Delhi"})
    assert response.status_code == 302
    with tenant_context(alpha.tenant):
        [segment] = selectors.segment_all()
        assert list(selectors.segment_contacts(segment)) == [delhi]
