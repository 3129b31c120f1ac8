"""The consent ledger: append-only in the database itself, the latest event decides the contact's
state, an older one is history only, and dedupe keys make re-runs add nothing."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import DatabaseError, connection, transaction

from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import tenant_context
from compliance.consent import (
    ConsentChange,
    consent_history,
    consent_record,
    consent_record_many,
    consent_state_from_ledger,
)
from compliance.models import ConsentEvent
from contacts.models import ConsentState, Contact
from contacts.services import contact_create

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def contact(alpha):
    with tenant_context(alpha.tenant):
        return contact_create(phone="+919812345621", actor=alpha.admin.user)


def _state(contact) -> str:
    return Contact.objects.get(pk=contact.pk).consent_state


def test_opt_in_moves_the_contact_state(alpha, contact):
    with tenant_context(alpha.tenant):
        event = consent_record(contact=contact, kind="opt_in", source="form", evidence="Checkout form", occurred_at=T0)
        assert event is not None
        assert contact.consent_state == ConsentState.OPTED_IN == _state(contact)
        assert contact.consent_changed_at == T0


def test_updating_an_event_through_the_orm_is_refused(alpha, contact):
    with tenant_context(alpha.tenant):
        event = consent_record(contact=contact, kind="opt_in", source="api", occurred_at=T0)
        event.kind = "opt_out"
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            event.save()
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            ConsentEvent.objects.filter(pk=event.pk).update(evidence="rewritten")
        assert ConsentEvent.objects.get(pk=event.pk).kind == "opt_in"


def test_deleting_an_event_through_the_orm_is_refused(alpha, contact):
    with tenant_context(alpha.tenant):
        event = consent_record(contact=contact, kind="opt_out", source="agent", occurred_at=T0)
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            ConsentEvent.objects.filter(pk=event.pk).delete()
        assert ConsentEvent.objects.filter(pk=event.pk).exists()


def test_raw_sql_cannot_update_or_delete_the_ledger(alpha, contact):
    with tenant_context(alpha.tenant):
        event = consent_record(contact=contact, kind="opt_out", source="keyword", occurred_at=T0)
        for statement in (
            "UPDATE compliance_consentevent SET kind = 'opt_in' WHERE id = %s",
            "DELETE FROM compliance_consentevent WHERE id = %s",
        ):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement, [event.pk])
        assert ConsentEvent.objects.get(pk=event.pk).kind == "opt_out"


def test_an_erase_may_delete_events_when_it_says_so(alpha, contact):
    with tenant_context(alpha.tenant):
        event = consent_record(contact=contact, kind="opt_out", source="keyword", occurred_at=T0)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('app.erasing', 'on', true)")
            cursor.execute("DELETE FROM compliance_consentevent WHERE id = %s", [event.pk])
        assert not ConsentEvent.objects.filter(pk=event.pk).exists()


def test_the_latest_event_wins(alpha, contact):
    with tenant_context(alpha.tenant):
        consent_record(contact=contact, kind="opt_in", source="form", occurred_at=T0)
        consent_record(contact=contact, kind="opt_out", source="keyword", occurred_at=T0 + timedelta(days=1))
        assert _state(contact) == ConsentState.OPTED_OUT
        consent_record(contact=contact, kind="opt_in", source="keyword", occurred_at=T0 + timedelta(days=2))
        assert _state(contact) == ConsentState.OPTED_IN
        assert consent_state_from_ledger(contact) == ConsentState.OPTED_IN
        assert [e.kind for e in consent_history(contact)] == ["opt_in", "opt_out", "opt_in"]


def test_an_older_event_is_kept_but_does_not_override(alpha, contact):
    with tenant_context(alpha.tenant):
        consent_record(contact=contact, kind="opt_out", source="keyword", occurred_at=T0)
        late = consent_record(contact=contact, kind="opt_in", source="import", occurred_at=T0 - timedelta(days=30))
        assert late is not None
        assert _state(contact) == ConsentState.OPTED_OUT == consent_state_from_ledger(contact)
        assert Contact.objects.get(pk=contact.pk).consent_changed_at == T0
        assert len(consent_history(contact)) == 2


def test_the_same_dedupe_key_records_once(alpha, contact):
    with tenant_context(alpha.tenant):
        first = consent_record(contact=contact, kind="opt_out", source="keyword", dedupe_key="keyword:wamid.1")
        again = consent_record(contact=contact, kind="opt_out", source="keyword", dedupe_key="keyword:wamid.1")
        assert first is not None and again is None
        assert ConsentEvent.objects.filter(contact=contact).count() == 1


def test_events_without_a_dedupe_key_are_all_kept(alpha, contact):
    with tenant_context(alpha.tenant):
        consent_record(contact=contact, kind="opt_in", source="agent", occurred_at=T0)
        consent_record(contact=contact, kind="opt_in", source="agent", occurred_at=T0)
        assert ConsentEvent.objects.filter(contact=contact).count() == 2


def test_an_erased_contact_takes_no_new_consent(alpha, contact):
    with tenant_context(alpha.tenant):
        Contact.objects.filter(pk=contact.pk).update(erased_at=T0)
        contact.refresh_from_db()
        assert consent_record(contact=contact, kind="opt_in", source="api") is None
        assert not ConsentEvent.objects.filter(contact=contact).exists()


def test_changes_by_a_person_are_audited(alpha, contact):
    with tenant_context(alpha.tenant):
        consent_record(contact=contact, kind="opt_out", source="agent", actor=alpha.agent.user)
        consent_record(contact=contact, kind="opt_in", source="keyword", dedupe_key="keyword:x")
        actions = list(AuditEvent.objects.filter(action__startswith="consent.").values_list("action", flat=True))
    assert actions == ["consent.opt_out"]


def test_unknown_kind_or_source_is_refused(alpha, contact):
    with tenant_context(alpha.tenant), pytest.raises(ValueError):
        consent_record(contact=contact, kind="maybe", source="api")
    with tenant_context(alpha.tenant), pytest.raises(ValueError):
        consent_record(contact=contact, kind="opt_in", source="rumour")


@pytest.fixture
def contacts(alpha):
    with tenant_context(alpha.tenant):
        return [contact_create(phone=f"+9198123456{n:02d}", actor=alpha.admin.user) for n in range(3)]


def _changes(contacts, kind: str, at: datetime, run: str = "import-1") -> list[ConsentChange]:
    return [
        ConsentChange(
            contact_id=c.pk,
            kind=kind,
            source="import",
            evidence="Spreadsheet",
            occurred_at=at,
            dedupe_key=f"{run}:{c.pk}",
        )
        for c in contacts
    ]


def test_bulk_record_is_idempotent(alpha, contacts):
    with tenant_context(alpha.tenant):
        assert consent_record_many(_changes(contacts, "opt_in", T0)) == 3
        assert consent_record_many(_changes(contacts, "opt_in", T0)) == 0
        assert ConsentEvent.objects.count() == 3
        assert {_state(c) for c in contacts} == {ConsentState.OPTED_IN}


def test_bulk_record_counts_a_key_repeated_in_one_batch_once(alpha, contacts):
    with tenant_context(alpha.tenant):
        changes = _changes(contacts[:1], "opt_in", T0) * 2
        assert consent_record_many(changes) == 1
        assert ConsentEvent.objects.count() == 1


def test_bulk_record_respects_newer_events(alpha, contacts):
    with tenant_context(alpha.tenant):
        consent_record(contact=contacts[0], kind="opt_out", source="keyword", occurred_at=T0 + timedelta(days=1))
        consent_record_many(_changes(contacts, "opt_in", T0))
        assert _state(contacts[0]) == ConsentState.OPTED_OUT
        assert _state(contacts[1]) == ConsentState.OPTED_IN
        for contact in contacts:
            assert _state(contact) == consent_state_from_ledger(contact)


def test_bulk_record_needs_a_dedupe_key(alpha, contacts):
    with tenant_context(alpha.tenant), pytest.raises(ValueError):
        consent_record_many([ConsentChange(contact_id=contacts[0].pk, kind="opt_in", source="import")])


def test_bulk_record_skips_erased_contacts(alpha, contacts):
    with tenant_context(alpha.tenant):
        Contact.objects.filter(pk=contacts[0].pk).update(erased_at=T0)
        assert consent_record_many(_changes(contacts, "opt_in", T0)) == 2
        assert not ConsentEvent.objects.filter(contact=contacts[0]).exists()


def test_import_consent_kinds_are_the_ledger_kinds():
    """contacts names the kinds an import row carries without importing compliance: they must stay equal."""
    from compliance.models import ConsentEvent
    from contacts.importing.consent import OPT_IN, OPT_OUT

    assert (OPT_IN, OPT_OUT) == (ConsentEvent.Kind.OPT_IN, ConsentEvent.Kind.OPT_OUT)
