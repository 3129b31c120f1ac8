"""CSV import: reading every dialect, refusing what is not a CSV, the run, consent, idempotence."""

from __future__ import annotations

import base64
import codecs
from datetime import UTC, datetime

import django_rq
import pytest
from django.db import connection
from rq import SimpleWorker

from aerostic.core.errors import Conflict
from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import tenant_context
from compliance.models import ConsentEvent
from contacts.importing import (
    NO_CONSENT_WARNING,
    ImportRefused,
    import_configure,
    import_error_report,
    import_preview,
    import_run,
    import_upload,
    suggest_mapping,
)
from contacts.models import AttributeDefinition, ConsentState, Contact, ContactImport, ContactListMember
from contacts.tests.factories import (
    AttributeDefinitionFactory,
    ContactFactory,
    ContactListFactory,
    csv_bytes,
    csv_rows,
    phone_numbers,
)

pytestmark = pytest.mark.django_db

COLLECTED = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def upload(workspace, data: bytes, filename: str = "contacts.csv") -> ContactImport:
    with tenant_context(workspace.tenant):
        return import_upload(data=data, filename=filename, actor=workspace.admin.user)


def configure(workspace, contact_import: ContactImport, **overrides) -> list[str]:
    options = {
        "mapping": contact_import.mapping,
        "on_existing": ContactImport.OnExisting.UPDATE,
        "default_country": "",
        "tags_to_add": [],
        "contact_list": None,
        "consent_column": "",
        "consent_declared": False,
        "consent_source": "",
        "consent_collected_at": None,
    }
    options.update(overrides)
    with tenant_context(workspace.tenant):
        return import_configure(contact_import=contact_import, actor=workspace.admin.user, **options)


def run(workspace, contact_import: ContactImport) -> ContactImport:
    with tenant_context(workspace.tenant):
        result = import_run(contact_import.pk)
    assert result is not None
    return result


def import_file(workspace, data: bytes, **overrides) -> ContactImport:
    contact_import = upload(workspace, data)
    configure(workspace, contact_import, **overrides)
    return run(workspace, contact_import)


def contacts_of(workspace) -> dict[str, Contact]:
    with tenant_context(workspace.tenant):
        return {contact.phone.reveal(): contact for contact in Contact.objects.all()}


def consent_events(workspace) -> list[ConsentEvent]:
    with tenant_context(workspace.tenant):
        return list(ConsentEvent.objects.select_related("contact").order_by("id"))


def report_rows(contact_import: ContactImport) -> list[list[str]]:
    return list(csv_rows(import_error_report(contact_import)))


# ---- upload: encodings, separators, quoting ------------------------------------------------------


def test_utf8_upload_stores_the_file_encrypted_with_its_dialect_and_row_count(alpha):
    data = csv_bytes([["Phone", "Name"], ["+91 98123 45621", "Asha"], ["+49 151 23456789", "Jonas"]])

    contact_import = upload(alpha, data)

    assert contact_import.status == ContactImport.Status.UPLOADED
    assert (contact_import.encoding, contact_import.delimiter) == ("utf-8", ",")
    assert contact_import.header == ["Phone", "Name"]
    assert contact_import.total_rows == 2
    assert contact_import.size_bytes == len(data)
    assert contact_import.mapping == {"Phone": "phone", "Name": "name"}
    assert base64.b64decode(contact_import.content.reveal()) == data
    with tenant_context(alpha.tenant), connection.cursor() as cursor:
        cursor.execute("SELECT content FROM contacts_contactimport WHERE id = %s", [contact_import.pk])
        stored = cursor.fetchone()[0]
    assert stored.startswith("v1.") and "98123" not in stored and base64.b64encode(data).decode() not in stored


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        pytest.param(lambda text: text.encode("utf-8"), "utf-8", id="utf-8"),
        pytest.param(lambda text: codecs.BOM_UTF8 + text.encode("utf-8"), "utf-8-sig", id="utf-8-bom"),
        pytest.param(lambda text: text.encode("utf-16"), "utf-16", id="utf-16-bom"),
        pytest.param(lambda text: text.encode("cp1252"), "cp1252", id="cp1252"),
    ],
)
def test_encodings_are_detected_and_names_read_correctly(alpha, encoded, encoding):
    data = encoded("phone,name\r\n+49 151 23456789,Jürgen Müller – Café\r\n")

    contact_import = upload(alpha, data)
    assert contact_import.encoding == encoding
    assert contact_import.header == ["phone", "name"]
    configure(alpha, contact_import)
    run(alpha, contact_import)

    assert contacts_of(alpha)["+4915123456789"].name == "Jürgen Müller – Café"


def test_bytes_that_cp1252_leaves_undefined_are_read_as_latin1(alpha):
    data = b"phone,name\n+49 151 23456789,Ren\xe9\x81\n"

    contact_import = upload(alpha, data)

    assert contact_import.encoding == "latin-1"
    assert import_preview(contact_import)[0]["name"] == "René\x81"


def test_utf16_tab_separated_excel_unicode_text_is_read(alpha):
    data = "phone\tname\ttags\n+49 151 23456789\tJonas\tvip, new\n".encode("utf-16")

    contact_import = upload(alpha, data)

    assert (contact_import.encoding, contact_import.delimiter) == ("utf-16", "\t")
    assert import_preview(contact_import) == [{"phone": "+49 151 23456789", "name": "Jonas", "tags": "vip, new"}]


def test_semicolon_separator_is_detected_despite_decimal_commas(alpha):
    AttributeDefinitionFactory(tenant=alpha.tenant, key="balance", kind=AttributeDefinition.Kind.TEXT)
    data = b"phone;name;balance\n+49 151 23456789;Jonas;1,50\n+49 151 23456788;Lea;2,75\n"

    contact_import = upload(alpha, data)

    assert contact_import.delimiter == ";"
    assert contact_import.header == ["phone", "name", "balance"]
    assert contact_import.mapping == {"phone": "phone", "name": "name", "balance": "attr:balance"}
    assert import_preview(contact_import)[1] == {"phone": "+49 151 23456788", "name": "Lea", "balance": "2,75"}


def test_quoted_fields_keep_embedded_separators_and_newlines(alpha):
    data = b'phone,name,notes\n+49 151 23456789,"Doe, Jane","line one\nline two, still notes"\n+49 151 23456788,Lea,x\n'

    contact_import = upload(alpha, data)

    assert contact_import.total_rows == 2
    first = import_preview(contact_import)[0]
    assert first == {"phone": "+49 151 23456789", "name": "Doe, Jane", "notes": "line one\nline two, still notes"}
    configure(alpha, contact_import)
    run(alpha, contact_import)
    assert contacts_of(alpha)["+4915123456789"].name == "Doe, Jane"


# ---- upload: refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml", id="xlsx-zip"),
        pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>", id="pdf"),
        pytest.param(b"phone,name\n+49 151 23456789,\x00\x00\x01\x02", id="nul-bytes"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", id="png"),
        pytest.param(
            b"Dear customer, thank you very much for your order of last week which we have shipped today.\n"
            b"Kind regards\n",
            id="prose-without-header",
        ),
        pytest.param(b"", id="empty"),
        pytest.param(b"phone,name\n", id="header-only"),
        pytest.param(b"phone,name,phone\n+49 151 23456789,a,b\n", id="duplicate-column-names"),
    ],
)
def test_a_file_that_is_not_an_importable_csv_is_refused_and_nothing_stored(alpha, data):
    with pytest.raises(ImportRefused) as refused:
        upload(alpha, data)

    assert refused.value.message
    with tenant_context(alpha.tenant):
        assert not ContactImport.objects.exists()


def test_an_excel_workbook_is_refused_with_a_hint_to_save_as_csv(alpha):
    with pytest.raises(ImportRefused, match="Excel workbook.*save it as CSV"):
        upload(alpha, b"PK\x03\x04rest-of-a-workbook", filename="contacts.xlsx")


def test_a_file_over_the_size_limit_is_refused_and_nothing_stored(alpha, settings):
    settings.CONTACT_IMPORT_MAX_BYTES = 100
    data = csv_bytes([["phone", "name"], *[[number, "x"] for number in phone_numbers(10)]])

    with pytest.raises(ImportRefused) as refused:
        upload(alpha, data)

    assert refused.value.code == "too_large"
    with tenant_context(alpha.tenant):
        assert not ContactImport.objects.exists()


# ---- configure ---------------------------------------------------------------------------------------


def test_mapping_is_suggested_from_column_names_and_attribute_keys(alpha):
    with tenant_context(alpha.tenant):
        AttributeDefinitionFactory(tenant=alpha.tenant, key="city")
        mapping = suggest_mapping(["WhatsApp Number", "Full Name", "Tags", "Lang", "City", "Notes"])

    assert mapping == {
        "WhatsApp Number": "phone",
        "Full Name": "name",
        "Tags": "tags",
        "Lang": "language",
        "City": "attr:city",
        "Notes": "ignore",
    }


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        pytest.param({"phone": "ignore", "name": "name"}, "phone numbers", id="no-phone-column"),
        pytest.param({"phone": "phone", "name": "phone"}, "Only one column", id="two-phone-columns"),
        pytest.param({"phone": "phone", "name": "attr:nope"}, "no attribute 'nope'", id="unknown-attribute"),
        pytest.param({"phone": "phone", "name": "email"}, "not something", id="unknown-target"),
        pytest.param({"phone": "phone", "missing": "name"}, "no column 'missing'", id="unknown-column"),
    ],
)
def test_a_bad_mapping_is_refused_and_nothing_queued(alpha, mapping, message):
    contact_import = upload(alpha, b"phone,name\n+49 151 23456789,Jonas\n")

    with pytest.raises(ImportRefused, match=message):
        configure(alpha, contact_import, mapping=mapping)

    with tenant_context(alpha.tenant):
        contact_import.refresh_from_db()
    assert contact_import.status == ContactImport.Status.UPLOADED
    assert django_rq.get_queue("default").count == 0


def test_a_file_without_a_phone_column_cannot_be_configured(alpha):
    contact_import = upload(alpha, b"name,city\nJonas,Berlin\n")

    with pytest.raises(ImportRefused, match="phone numbers"):
        configure(alpha, contact_import)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param(
            {"consent_declared": True, "consent_source": "", "consent_collected_at": COLLECTED}, id="no-source"
        ),
        pytest.param(
            {"consent_declared": True, "consent_source": "Shop form", "consent_collected_at": None}, id="no-date"
        ),
        pytest.param({"consent_column": "nope"}, id="unknown-consent-column"),
        pytest.param({"default_country": "XX"}, id="unknown-country"),
        pytest.param({"on_existing": "merge"}, id="unknown-on-existing"),
    ],
)
def test_an_incomplete_configuration_is_refused(alpha, overrides):
    contact_import = upload(alpha, b"phone,name\n+49 151 23456789,Jonas\n")

    with pytest.raises(ImportRefused):
        configure(alpha, contact_import, **overrides)


def test_configure_queues_the_job_after_commit_and_the_worker_runs_it(alpha, django_capture_on_commit_callbacks):
    contact_import = upload(alpha, b"phone,name\n+49 151 23456789,Jonas\n")

    with django_capture_on_commit_callbacks(execute=True):
        configure(alpha, contact_import, consent_declared=True, consent_source="Shop", consent_collected_at=COLLECTED)
    queue = django_rq.get_queue("default")
    assert queue.count == 1
    SimpleWorker([queue], connection=queue.connection).work(burst=True)

    with tenant_context(alpha.tenant):
        contact_import.refresh_from_db()
    assert contact_import.status == ContactImport.Status.COMPLETED
    assert contact_import.created_count == 1
    assert not contact_import.content
    assert contact_import.finished_at is not None
    with tenant_context(alpha.tenant):
        audit = AuditEvent.objects.get(action="contact.import")
    assert audit.metadata["created"] == 1 and audit.actor == alpha.admin.user


def test_an_import_is_configured_and_queued_only_once(alpha):
    contact_import = upload(alpha, b"phone,name\n+49 151 23456789,Jonas\n")
    configure(alpha, contact_import)

    with pytest.raises(Conflict):
        configure(alpha, contact_import)


# ---- run ---------------------------------------------------------------------------------------------


def test_rows_become_contacts_with_normalized_numbers_tags_list_and_attributes(alpha):
    with tenant_context(alpha.tenant):
        AttributeDefinitionFactory(tenant=alpha.tenant, key="orders", kind=AttributeDefinition.Kind.NUMBER)
        AttributeDefinitionFactory(tenant=alpha.tenant, key="since", kind=AttributeDefinition.Kind.DATE)
        contact_list = ContactListFactory(tenant=alpha.tenant)
    data = csv_bytes(
        [
            ["phone", "name", "tags", "language", "orders", "since"],
            ["0151 23456789", "Jonas", "VIP, Berlin", "de", "3", "2024-05-01"],
            ["+91 98123 45621", "Asha", "", "", "", ""],
        ]
    )

    contact_import = import_file(alpha, data, default_country="DE", tags_to_add=["spring"], contact_list=contact_list)

    assert contact_import.status == ContactImport.Status.COMPLETED
    assert (contact_import.created_count, contact_import.processed_rows, contact_import.progress_percent) == (2, 2, 100)
    contacts = contacts_of(alpha)
    jonas = contacts["+4915123456789"]
    assert (jonas.name, jonas.country, jonas.language, jonas.source) == ("Jonas", "DE", "de", "import")
    assert jonas.tags == ["vip", "berlin", "spring"]
    assert jonas.attributes == {"orders": 3, "since": "2024-05-01"}
    assert jonas.phone_hint == "+49 15••••89"
    assert contacts["+919812345621"].timezone == "Asia/Calcutta"  # from the number
    with tenant_context(alpha.tenant):
        assert ContactListMember.objects.filter(contact_list=contact_list).count() == 2


def test_numbers_without_country_code_use_the_workspace_default_country(alpha):
    alpha.tenant.default_country = "IN"
    alpha.tenant.save()

    import_file(alpha, b"phone\n098123 45621\n")

    assert list(contacts_of(alpha)) == ["+919812345621"]


def test_invalid_numbers_bad_values_and_duplicates_go_to_the_error_report(alpha):
    with tenant_context(alpha.tenant):
        AttributeDefinitionFactory(tenant=alpha.tenant, key="orders", kind=AttributeDefinition.Kind.NUMBER)
    data = csv_bytes(
        [
            ["phone", "name", "orders"],
            ["+49 151 23456789", "First", "1"],
            ["12", "Too short", "1"],
            ["+4915123456789", "Same number again", "1"],
            ["+49 151 23456788", "Bad orders", "many"],
            ["", "No number", ""],
        ]
    )

    contact_import = import_file(alpha, data)

    assert (contact_import.created_count, contact_import.invalid_count, contact_import.duplicate_count) == (1, 3, 1)
    assert contact_import.processed_rows == 5
    rows = report_rows(contact_import)
    assert rows[0] == ["row", "phone", "name", "orders", "reason"]
    by_row = {row[0]: row for row in rows[1:]}
    assert set(by_row) == {"3", "4", "5", "6"}
    assert by_row["3"][1:4] == ["12", "Too short", "1"] and by_row["3"][4].startswith("Phone:")
    assert by_row["4"][4] == "Same number as row 2 (that row was imported)."
    assert "not a number" in by_row["5"][4]
    assert by_row["6"][4] == "Phone: No phone number."
    assert contacts_of(alpha)["+4915123456789"].name == "First"


def test_formula_cells_are_neutralised_in_the_error_report(alpha):
    data = csv_bytes([["phone", "name"], ['=HYPERLINK("http://evil.test","x")', "+cmd|' /C calc'!A0"]])

    contact_import = import_file(alpha, data)

    row = report_rows(contact_import)[1]
    assert row[1] == '\'=HYPERLINK("http://evil.test","x")'
    assert row[2] == "'+cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("on_existing", "name", "tags", "counts"),
    [
        pytest.param("update", "New name", ["old", "new"], (0, 1, 0), id="update"),
        pytest.param("skip", "Old name", ["old"], (0, 0, 1), id="skip"),
    ],
)
def test_existing_contacts_are_updated_or_skipped(alpha, on_existing, name, tags, counts):
    with tenant_context(alpha.tenant):
        AttributeDefinitionFactory(tenant=alpha.tenant, key="city")
        ContactFactory(tenant=alpha.tenant, phone="+4915123456789", name="Old name", tags=["old"], attributes={"a": 1})
    data = b"phone,name,tags,city\n+49 (151) 2345-6789,New name,New,Berlin\n"

    contact_import = import_file(alpha, data, on_existing=on_existing)

    assert (contact_import.created_count, contact_import.updated_count, contact_import.skipped_count) == counts
    contact = contacts_of(alpha)["+4915123456789"]
    assert (contact.name, contact.tags) == (name, tags)
    expected_attributes = {"a": 1, "city": "Berlin"} if on_existing == "update" else {"a": 1}
    assert contact.attributes == expected_attributes


def test_an_empty_cell_does_not_erase_what_an_existing_contact_has(alpha):
    with tenant_context(alpha.tenant):
        ContactFactory(tenant=alpha.tenant, phone="+4915123456789", name="Kept", language="de")

    import_file(alpha, b"phone,name,language\n+49 151 23456789,,\n")

    contact = contacts_of(alpha)["+4915123456789"]
    assert (contact.name, contact.language) == ("Kept", "de")


def test_many_rows_are_written_in_several_batches_with_progress(alpha):
    numbers = phone_numbers(4500)
    data = csv_bytes([["phone", "name"], *[[number, f"Person {i}"] for i, number in enumerate(numbers)]])

    contact_import = import_file(alpha, data)

    assert contact_import.created_count == 4500
    assert contact_import.processed_rows == contact_import.total_rows == 4500
    with tenant_context(alpha.tenant):
        assert Contact.objects.count() == 4500


# ---- consent -------------------------------------------------------------------------------------------


def test_consent_column_records_opt_ins_and_opt_outs_and_unknown_values_record_nothing(alpha):
    data = csv_bytes(
        [
            ["phone", "consent"],
            ["+49 151 23456781", "Yes"],
            ["+49 151 23456782", "opted out"],
            ["+49 151 23456783", "1"],
            ["+49 151 23456784", "maybe"],
            ["+49 151 23456785", ""],
            ["+49 151 23456786", "FALSE"],
            ["+49 151 23456787", "Opted-In"],
        ]
    )
    contact_import = upload(alpha, data)
    assert contact_import.consent_column == "consent"  # suggested

    warnings = configure(alpha, contact_import, consent_column="consent")
    run(alpha, contact_import)

    assert warnings == []
    contacts = contacts_of(alpha)
    states = {phone[-1]: contact.consent_state for phone, contact in contacts.items()}
    assert states == {
        "1": ConsentState.OPTED_IN,
        "2": ConsentState.OPTED_OUT,
        "3": ConsentState.OPTED_IN,
        "4": ConsentState.UNKNOWN,
        "5": ConsentState.UNKNOWN,
        "6": ConsentState.OPTED_OUT,
        "7": ConsentState.OPTED_IN,
    }
    events = consent_events(alpha)
    assert len(events) == 5
    assert {event.source for event in events} == {ConsentEvent.Source.IMPORT}
    assert all(event.dedupe_key == f"import:{contact_import.sha256[:56]}" for event in events)  # one per contact
    assert all("+49" not in event.evidence for event in events)


def test_declared_consent_records_an_opt_in_per_contact_at_the_collection_date(alpha):
    data = csv_bytes([["phone"], *[[number] for number in phone_numbers(3)]])

    contact_import = import_file(
        alpha, data, consent_declared=True, consent_source="Checkout form, 2025", consent_collected_at=COLLECTED
    )

    events = consent_events(alpha)
    assert len(events) == 3
    assert {(event.kind, event.occurred_at) for event in events} == {(ConsentEvent.Kind.OPT_IN, COLLECTED)}
    assert "Checkout form, 2025" in events[0].evidence
    assert events[0].actor == alpha.admin.user
    assert contact_import.created_count == 3


def test_without_a_consent_basis_the_import_warns_and_records_no_consent(alpha):
    contact_import = upload(alpha, b"phone,name\n+49 151 23456789,Jonas\n")

    warnings = configure(alpha, contact_import)
    run(alpha, contact_import)

    assert warnings == [NO_CONSENT_WARNING]
    assert consent_events(alpha) == []
    assert contacts_of(alpha)["+4915123456789"].consent_state == ConsentState.UNKNOWN


def test_an_import_never_opts_back_in_a_contact_who_opted_out(alpha):
    from compliance.consent import consent_record

    with tenant_context(alpha.tenant):
        contact = ContactFactory(tenant=alpha.tenant, phone="+4915123456789")
        consent_record(contact=contact, kind=ConsentEvent.Kind.OPT_OUT, source=ConsentEvent.Source.KEYWORD)

    import_file(alpha, b"phone,consent\n+49 151 23456789,yes\n", consent_column="consent")

    assert contacts_of(alpha)["+4915123456789"].consent_state == ConsentState.OPTED_OUT
    assert [event.kind for event in consent_events(alpha)] == [ConsentEvent.Kind.OPT_OUT]


def test_importing_the_same_file_again_creates_no_contacts_and_no_consent_events(alpha):
    numbers = phone_numbers(50)
    data = csv_bytes([["phone", "name", "consent"], *[[n, f"P{i}", "yes"] for i, n in enumerate(numbers)]])
    first = import_file(alpha, data, consent_column="consent")
    contacts_before = contacts_of(alpha)
    events_before = len(consent_events(alpha))

    second = import_file(alpha, data, consent_column="consent")

    assert (first.created_count, events_before) == (50, 50)
    assert (second.created_count, second.updated_count) == (0, 50)
    assert len(consent_events(alpha)) == 50
    contacts_after = contacts_of(alpha)
    assert {p: c.pk for p, c in contacts_after.items()} == {p: c.pk for p, c in contacts_before.items()}
    assert {p: c.updated_at for p, c in contacts_after.items()} == {p: c.updated_at for p, c in contacts_before.items()}


# ---- tenancy -------------------------------------------------------------------------------------------


def test_an_import_in_alpha_never_touches_bravos_contacts(alpha, bravo):
    with tenant_context(bravo.tenant):
        ContactFactory(tenant=bravo.tenant, phone="+4915123456789", name="Bravo's", tags=["b"])
    data = b"phone,name,tags\n+49 151 23456789,Alpha's,a\n+49 151 23456788,Other,a\n"

    contact_import = import_file(
        alpha, data, consent_declared=True, consent_source="form", consent_collected_at=COLLECTED
    )

    assert (contact_import.created_count, contact_import.updated_count) == (2, 0)
    bravos = contacts_of(bravo)
    assert list(bravos) == ["+4915123456789"]
    assert (bravos["+4915123456789"].name, bravos["+4915123456789"].tags) == ("Bravo's", ["b"])
    assert bravos["+4915123456789"].consent_state == ConsentState.UNKNOWN
    assert consent_events(bravo) == []
    assert contacts_of(alpha)["+4915123456789"].name == "Alpha's"
    with tenant_context(bravo.tenant):
        assert not ContactImport.objects.filter(pk=contact_import.pk).exists()
        assert import_run(contact_import.pk) is None


# ---- crashes and failures ------------------------------------------------------------------------------


def test_a_run_whose_worker_died_is_claimed_again_and_finishes_idempotently(alpha):
    numbers = phone_numbers(6)
    data = csv_bytes([["phone", "consent"], *[[number, "yes"] for number in numbers]])
    import_file(alpha, csv_bytes([["phone"], *[[number] for number in numbers[:3]]]))  # half already there
    contact_import = upload(alpha, data)
    configure(alpha, contact_import, consent_column="consent")
    with tenant_context(alpha.tenant):
        # The worker died long ago: the run is stuck in "running".
        ContactImport.objects.filter(pk=contact_import.pk).update(
            status=ContactImport.Status.RUNNING, started_at=datetime(2020, 1, 1, tzinfo=UTC)
        )

    resumed = run(alpha, contact_import)
    again = import_file(alpha, data, consent_column="consent")

    assert resumed.status == ContactImport.Status.COMPLETED
    assert (resumed.created_count, resumed.updated_count) == (3, 3)
    assert (again.created_count, again.updated_count) == (0, 6)
    assert len(contacts_of(alpha)) == 6
    assert len(consent_events(alpha)) == 6


def test_a_run_that_is_running_now_is_not_claimed_twice(alpha):
    contact_import = upload(alpha, b"phone\n+49 151 23456789\n")
    configure(alpha, contact_import)
    with tenant_context(alpha.tenant):
        ContactImport.objects.filter(pk=contact_import.pk).update(
            status=ContactImport.Status.RUNNING, started_at=datetime.now(tz=UTC)
        )
        assert import_run(contact_import.pk) is None
        assert not Contact.objects.exists()


def test_a_failed_run_is_marked_failed_with_a_reason_and_logs_no_row_data(alpha, caplog):
    from django.db.models import Value

    contact_import = upload(alpha, b"phone,name\n+49 151 23456789,Secret Name\n")
    configure(alpha, contact_import)
    with tenant_context(alpha.tenant):
        ContactImport.objects.filter(pk=contact_import.pk).update(content=Value(""))  # the file is lost

    failed = run(alpha, contact_import)

    assert failed.status == ContactImport.Status.FAILED
    assert "stopped after 0 rows" in failed.failure
    assert failed.finished_at is not None
    assert "Secret Name" not in caplog.text and "23456789" not in caplog.text
    assert f"contact import {contact_import.pk} failed" in caplog.text
    with tenant_context(alpha.tenant):
        assert AuditEvent.objects.get(action="contact.import").metadata["failed"] == "ImportRefused"


# --- Retention: what an import keeps of people expires (contacts.jobs.purge_expired_imports).


def _age(workspace, contact_import: ContactImport, *, hours: int) -> None:
    from datetime import timedelta

    from django.utils import timezone

    at = timezone.now() - timedelta(hours=hours)
    with tenant_context(workspace.tenant):
        ContactImport.objects.filter(pk=contact_import.pk).update(
            created_at=at, finished_at=at if contact_import.finished_at else None
        )


def test_uploads_never_run_and_error_reports_expire_after_the_retention(alpha, bravo, settings):
    from contacts.jobs import purge_expired_imports

    settings.CONTACT_IMPORT_RETENTION_HOURS = 48
    with_errors = csv_bytes([["phone", "name"], ["+49 151 23456789", "First"], ["12", "Greta Too-Short"]])
    abandoned = upload(alpha, csv_bytes([["phone", "name"], ["+49 151 23456787", "Left at mapping"]]), "old.csv")
    fresh_upload = upload(bravo, csv_bytes([["phone", "name"], ["+49 151 23456786", "Still mapping"]]))
    old_run = import_file(alpha, with_errors)
    recent_run = import_file(bravo, with_errors)
    assert "Greta Too-Short" in import_error_report(old_run)
    _age(alpha, abandoned, hours=49)
    _age(alpha, old_run, hours=49)
    _age(bravo, fresh_upload, hours=47)
    _age(bravo, recent_run, hours=47)

    assert purge_expired_imports() == {"abandoned_uploads": 1, "error_reports": 1}

    with tenant_context(alpha.tenant):
        assert not ContactImport.objects.filter(pk=abandoned.pk).exists()
        old_run = ContactImport.objects.get(pk=old_run.pk)
        with connection.cursor() as cursor:
            cursor.execute("SELECT error_report FROM contacts_contactimport WHERE id = %s", [old_run.pk])
            assert cursor.fetchone() == ("",)  # really empty, not an encrypted ""
    assert import_error_report(old_run) == ""
    assert (old_run.status, old_run.created_count, old_run.invalid_count) == ("completed", 1, 1)  # the record stays
    with tenant_context(bravo.tenant):
        assert ContactImport.objects.get(pk=fresh_upload.pk).content  # younger than the retention: kept
        assert "Greta Too-Short" in import_error_report(ContactImport.objects.get(pk=recent_run.pk))
    assert purge_expired_imports() == {"abandoned_uploads": 0, "error_reports": 0}


def test_import_expiry_runs_nightly():
    from aerostic.periodic import PERIODIC_JOBS

    assert "contacts.jobs.purge_expired_imports" in {job.func for job in PERIODIC_JOBS}
