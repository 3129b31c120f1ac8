"""`manage.py seed_demo`: the demo workspace, its sandbox number and a first audience, idempotently."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from aerostic.core.tenant_context import tenant_context
from contacts.models import Contact, ContactList
from tenants.models import Tenant

pytestmark = pytest.mark.django_db


def test_seed_demo_twice_gives_one_workspace_with_an_opted_in_list(simulator, tmp_path):
    for _ in range(2):
        out = io.StringIO()
        call_command("seed_demo", password_file=str(tmp_path / "password"), stdout=out)
    assert "Demo customers" in out.getvalue()
    demo = Tenant.objects.get(slug="demo")
    with tenant_context(demo):
        demo_list = ContactList.objects.get(name="Demo customers")
        members = Contact.objects.filter(list_memberships__contact_list=demo_list)
        assert members.count() == Contact.objects.count() == 5
        assert set(members.values_list("consent_state", flat=True)) == {"opted_in"}
