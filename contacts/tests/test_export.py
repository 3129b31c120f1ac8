"""Contacts CSV export: columns, masked vs full numbers, attributes, formula injection."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aerostic.core.tenant_context import tenant_context
from contacts.exporting import BASE_COLUMNS, contacts_csv, safe_cell
from contacts.models import AttributeDefinition, Contact
from contacts.tests.factories import AttributeDefinitionFactory, ContactFactory, csv_rows

pytestmark = pytest.mark.django_db


def export(workspace, *, include_phone: bool) -> list[list[str]]:
    with tenant_context(workspace.tenant):
        lines = list(contacts_csv(Contact.objects.order_by("id"), include_phone=include_phone))
    assert all(line.endswith("\r\n") for line in lines)
    return list(csv_rows("".join(lines)))


@pytest.fixture
def jonas(alpha):
    with tenant_context(alpha.tenant):
        AttributeDefinitionFactory(tenant=alpha.tenant, key="orders", kind=AttributeDefinition.Kind.NUMBER)
        AttributeDefinitionFactory(tenant=alpha.tenant, key="vip", kind=AttributeDefinition.Kind.BOOLEAN)
        return ContactFactory(
            tenant=alpha.tenant,
            phone="+4915123456789",
            name="Jonas",
            language="de",
            timezone="Europe/Berlin",
            tags=["vip", "berlin"],
            attributes={"orders": 3, "vip": True},
            last_inbound_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        )


def test_export_has_one_column_per_attribute_and_masks_numbers_by_default(alpha, jonas):
    header, row = export(alpha, include_phone=False)

    assert header == [*BASE_COLUMNS, "orders", "vip"]
    values = dict(zip(header, row, strict=True))
    assert values["phone"] == "+49 15••••89"
    assert (values["name"], values["country"], values["language"], values["timezone"]) == (
        "Jonas",
        "DE",
        "de",
        "Europe/Berlin",
    )
    assert values["tags"] == "vip,berlin"
    assert values["consent_state"] == "unknown"
    assert values["last_inbound_at"] == "2025-01-02T03:04:05+00:00"
    assert values["created_at"].startswith(str(jonas.created_at.year))
    assert (values["orders"], values["vip"]) == ("3", "true")


def test_export_with_phone_has_the_full_e164_number_unprefixed(alpha, jonas):
    _, row = export(alpha, include_phone=True)

    assert row[0] == "+4915123456789"


def test_formula_cells_are_neutralised_in_the_export(alpha):
    with tenant_context(alpha.tenant):
        ContactFactory(tenant=alpha.tenant, name='=HYPERLINK("http://evil.test","click")', tags=["@sum(a1)"])

    _, row = export(alpha, include_phone=False)

    assert row[1] == '\'=HYPERLINK("http://evil.test","click")'
    assert row[5] == "'@sum(a1)"


def test_export_shows_only_the_current_workspace(alpha, bravo, jonas):
    with tenant_context(bravo.tenant):
        ContactFactory(tenant=bravo.tenant, name="Bravo's")

    rows = export(alpha, include_phone=True)

    assert [row[1] for row in rows[1:]] == ["Jonas"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("=1+2", "'=1+2", id="equals"),
        pytest.param("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0", id="plus-dde"),
        pytest.param("-2+3", "'-2+3", id="minus-formula"),
        pytest.param("@SUM(A1)", "'@SUM(A1)", id="at"),
        pytest.param("\t=1", "'\t=1", id="tab"),
        pytest.param("\r=1", "'\r=1", id="carriage-return"),
        pytest.param("+4915123456789", "+4915123456789", id="e164-number"),
        pytest.param("+49 15••••89", "+49 15••••89", id="masked-number"),
        pytest.param("-12.5", "-12.5", id="negative-number"),
        pytest.param("Jonas", "Jonas", id="plain-text"),
        pytest.param(None, "", id="none"),
        pytest.param(False, "false", id="boolean"),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


@pytest.fixture
def exporting_agent(alpha, monkeypatch):
    """An agent whose role may export contacts but not see full numbers (no shipped role is both:
    the table is widened for this test, as a workspace's custom roles would)."""
    from accounts.roles import ROLE_PERMISSIONS, Perm, Role

    widened = ROLE_PERMISSIONS[Role.AGENT] | {Perm.CONTACTS_EXPORT}
    assert Perm.CONTACTS_REVEAL_PHONE not in widened
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.AGENT, widened)
    return alpha.agent


def test_the_portal_csv_export_is_streamed_formula_safe_and_audited(alpha, jonas, login_client):
    from aerostic.core.models import AuditEvent

    with tenant_context(alpha.tenant):
        ContactFactory(tenant=alpha.tenant, name="=cmd()")
    # When an admin downloads the export
    response = login_client(alpha.admin).get("/contacts/export.csv")
    # Then it is streamed (read chunk by chunk after the view returned), complete and safe
    assert response.status_code == 200 and response.streaming
    rows = list(csv_rows(b"".join(response.streaming_content).decode()))
    assert rows[0] == [*BASE_COLUMNS, "orders", "vip"]
    assert {row[1] for row in rows[1:]} == {"Jonas", "'=cmd()"}
    assert "+4915123456789" in {row[0] for row in rows[1:]}
    with tenant_context(alpha.tenant):
        assert AuditEvent.objects.filter(action="contact.export_csv").count() == 1


def test_the_portal_csv_export_masks_numbers_without_the_reveal_permission(alpha, jonas, exporting_agent, login_client):
    response = login_client(exporting_agent).get("/contacts/export.csv")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    assert "+4915123456789" not in body and "+49 15••••89" in body


def test_the_portal_data_export_masks_the_number_without_the_reveal_permission(
    alpha, jonas, exporting_agent, login_client
):
    response = login_client(exporting_agent).get(f"/contacts/{jonas.pk}/export.json")
    assert response.status_code == 200
    assert response.json()["contact"]["phone"] == "+49 15••••89"
    assert "4915123456789" not in response.content.decode()


def test_the_api_data_export_masks_the_number_without_the_reveal_permission(
    alpha, jonas, exporting_agent, api_client_for
):
    response = api_client_for(exporting_agent).get(f"/api/v1/contacts/{jonas.pk}/export/")
    assert response.status_code == 200
    assert response.json()["contact"]["phone"] == "+49 15••••89"
    assert "4915123456789" not in response.content.decode()


@pytest.mark.parametrize("path", ["/contacts/{id}/export.json", "/api/v1/contacts/{id}/export/"], ids=["portal", "api"])
def test_the_data_export_has_the_full_number_for_a_member_who_may_see_it(
    alpha, jonas, login_client, api_client_for, path
):
    client = api_client_for(alpha.admin) if path.startswith("/api/") else login_client(alpha.admin)
    assert client.get(path.format(id=jonas.pk)).json()["contact"]["phone"] == "+4915123456789"
