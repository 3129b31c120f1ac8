"""The inbox search index (inbox.search_terms): keyed hashes of message words and name prefixes,
written by the stores in bulk, read through the (tenant, term) index under row-level security, and
gone with retention and erasure."""

from __future__ import annotations

import io
import random
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aerostic.core.tenant_context import tenant_context
from compliance.privacy import ErasedPerson
from inbox import selectors
from inbox.inbound import inbound_store_many
from inbox.models import Conversation, SearchTerm
from inbox.outbound import outbound_store_many
from inbox.personal_data import conversations_erase, messages_expire
from inbox.search_terms import query_hashes, term_hashes, words_of
from inbox.selectors import Agent, ListFilters
from inbox.tests.factories import ConversationFactory
from whatsapp.fanout import InboundItem, SentItem
from whatsapp.tests.factories import PhoneNumberFactory

pytestmark = pytest.mark.django_db


def _text(sender: str, wamid: str, body: str) -> dict:
    at = timezone.now() - timedelta(minutes=5)
    return {"from": sender, "id": wamid, "timestamp": str(int(at.timestamp())), "type": "text", "text": {"body": body}}


def _found(workspace, query: str) -> set[str]:
    agent = Agent.of(workspace.admin)
    page = selectors.conversation_page(agent, ListFilters(query=query, state="any"), using_replica=False)
    return {conversation.customer_name for conversation in page.conversations}


def _terms(conversation_id: int) -> set[int]:
    return set(SearchTerm.objects.filter(conversation_id=conversation_id).values_list("term", flat=True))


def test_words_are_lower_case_alphanumeric_runs_and_short_ones_are_skipped(alpha):
    tenant = alpha.tenant.pk
    assert words_of("Où est-ce? ORDER#42, a.b") == ["où", "est", "ce", "order", "42", "a", "b"]
    assert term_hashes("Order ORDER order!", tenant=tenant, kind="word") == term_hashes(
        "order", tenant=tenant, kind="word"
    )
    assert term_hashes("a b c", tenant=tenant, kind="word") == set()
    # Every prefix of 2 to 20 characters of each name word.
    assert len(term_hashes("Annabel", tenant=tenant, kind="name")) == 6
    assert len(term_hashes("x" * 30 + "y", tenant=tenant, kind="name")) == 19
    assert query_hashes("ANN", tenant=tenant, kind="name") <= term_hashes("Annabel", tenant=tenant, kind="name")
    assert all(-(2**63) <= term < 2**63 for term in term_hashes("annabel lee", tenant=tenant, kind="name"))


def test_kinds_and_workspaces_hash_apart(alpha, bravo):
    word = term_hashes("annabel", tenant=alpha.tenant.pk, kind="word")
    assert not word & term_hashes("annabel", tenant=alpha.tenant.pk, kind="name")
    assert not word & term_hashes("annabel", tenant=bravo.tenant.pk, kind="word")


def test_inbound_and_outbound_stores_write_terms_in_a_constant_number_of_statements(phone, alpha):
    def inbound(count: int, start: int) -> int:
        items = [
            InboundItem(_text(f"1650557{n:04d}", f"wamid.in{n}", f"parcel number {n} caption"), f"Customer {n}")
            for n in range(start, start + count)
        ]
        with CaptureQueriesContext(connection) as queries:
            assert all(inbound_store_many(phone=phone, items=items))
        return len(queries)

    def outbound(count: int, start: int) -> int:
        items = [
            SentItem(to=f"1650558{n:04d}", wamid=f"wamid.out{n}", content={"type": "text", "text": {"body": "hello"}})
            for n in range(start, start + count)
        ]
        with CaptureQueriesContext(connection) as queries:
            assert outbound_store_many(phone=phone, items=items) == count
        return len(queries)

    with tenant_context(alpha.tenant):
        assert inbound(1, 0) == inbound(20, 100)
        assert outbound(1, 0) == outbound(20, 100)
        conversation = Conversation.objects.get(customer_name="Customer 105")
        assert term_hashes("parcel number 105 caption", tenant=alpha.tenant.pk, kind="word") <= _terms(conversation.pk)
        assert term_hashes("Customer 105", tenant=alpha.tenant.pk, kind="name") <= _terms(conversation.pk)
        assert (
            SearchTerm.objects.filter(term__in=query_hashes("hello", tenant=alpha.tenant.pk, kind="word")).count() == 21
        )


def test_a_redelivery_writes_no_terms_and_a_rename_replaces_the_name(phone, alpha):
    with tenant_context(alpha.tenant):
        inbound_store_many(phone=phone, items=[InboundItem(_text("16505590001", "wamid.r1", "first"), "Zed Old")])
        conversation = Conversation.objects.get()
        before = _terms(conversation.pk)
        with CaptureQueriesContext(connection) as queries:
            inbound_store_many(phone=phone, items=[InboundItem(_text("16505590001", "wamid.r1", "other"), "")])
        assert _terms(conversation.pk) == before
        assert not any("inbox_searchterm" in query["sql"] for query in queries.captured_queries)
        inbound_store_many(phone=phone, items=[InboundItem(_text("16505590001", "wamid.r2", "second"), "Zed New")])
        assert _found(alpha, "zed ne") == {"Zed New"}
        assert _found(alpha, "old") == set()
        assert _found(alpha, "first") == {"Zed New"}


def test_search_by_name_prefix_and_message_words_stays_in_the_workspace(phone, alpha, bravo):
    with tenant_context(alpha.tenant):
        inbound_store_many(
            phone=phone,
            items=[
                InboundItem(_text("16505590011", "wamid.a1", "Where is my refund?"), "Ann Lee"),
                InboundItem(_text("16505590012", "wamid.a2", "refund please, order 77"), "Bob Stone"),
                InboundItem(_text("16505590013", "wamid.a3", "thanks"), "Annika Berg"),
            ],
        )
        assert _found(alpha, "ann") == {"Ann Lee", "Annika Berg"}
        assert _found(alpha, "ANN le") == {"Ann Lee"}
        assert _found(alpha, "refund") == {"Ann Lee", "Bob Stone"}
        assert _found(alpha, "refund order") == {"Bob Stone"}
        assert _found(alpha, "refun") == set()  # message words match whole
        assert _found(alpha, "stone") == {"Bob Stone"}
        assert _found(alpha, "nothing") == set()
    with tenant_context(bravo.tenant):
        other = PhoneNumberFactory(tenant=bravo.tenant)
        inbound_store_many(phone=other, items=[InboundItem(_text("16505590021", "wamid.b1", "refund"), "Ann Bravo")])
        assert _found(bravo, "ann") == {"Ann Bravo"}
        assert _found(bravo, "refund") == {"Ann Bravo"}
    with tenant_context(alpha.tenant):
        assert _found(alpha, "bravo") == set()


def test_the_term_query_uses_the_term_index(phone, alpha):
    rng = random.Random(7)
    with tenant_context(alpha.tenant):
        conversations = [ConversationFactory(phone_number=phone) for _ in range(20)]
        now = timezone.now()
        SearchTerm.objects.bulk_create(
            SearchTerm(tenant_id=alpha.tenant.pk, conversation=conversation, term=rng.getrandbits(63), seen_at=now)
            for conversation in conversations
            for _ in range(200)
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE inbox_searchterm")
        hashes = query_hashes("parcel refund", tenant=alpha.tenant.pk, kind="word")
        plan = (
            SearchTerm.objects.filter(term__in=sorted(hashes))
            .values("conversation_id")
            .annotate(n=Count("term", distinct=True))
            .filter(n=len(hashes))
            .explain()
        )
    assert "search_term_by_term" in plan, plan
    assert "Seq Scan" not in plan, plan


def test_retention_drops_old_message_words_and_keeps_names(phone, alpha):
    with tenant_context(alpha.tenant):
        inbound_store_many(phone=phone, items=[InboundItem(_text("16505590031", "wamid.t1", "secret plan"), "Tia Ro")])
        messages_expire(tenant_id=alpha.tenant.pk, before=timezone.now() + timedelta(minutes=1))
        assert _found(alpha, "secret") == set()
        assert _found(alpha, "tia") == {"Tia Ro"}


def test_contact_erase_removes_the_conversations_terms(phone, alpha):
    with tenant_context(alpha.tenant):
        inbound_store_many(phone=phone, items=[InboundItem(_text("16505590041", "wamid.e1", "my address"), "Eli Vo")])
        conversation = Conversation.objects.get()
        assert _terms(conversation.pk)
        person = ErasedPerson(
            tenant_id=alpha.tenant.pk,
            contact_id=conversation.contact_id,
            wa_id="16505590041",
            customer_index=conversation.customer_index,
        )
        conversations_erase(person=person)
        assert _terms(conversation.pk) == set()
        assert _found(alpha, "address") == set()


def test_reindex_command_rebuilds_the_workspaces_terms(phone, alpha):
    with tenant_context(alpha.tenant):
        inbound_store_many(phone=phone, items=[InboundItem(_text("16505590051", "wamid.x1", "lost words"), "Ida Ko")])
        conversation = Conversation.objects.get()
        expected = _terms(conversation.pk)
        SearchTerm.objects.all().delete()
    call_command("inbox_search_reindex", "--tenant", str(alpha.tenant.pk), stdout=io.StringIO())
    with tenant_context(alpha.tenant):
        assert _terms(conversation.pk) == expected
        assert _found(alpha, "lost ida") == set()  # a name word and a message word are two searches
        assert _found(alpha, "lost words") == {"Ida Ko"}


def test_a_media_caption_is_searchable(phone, alpha):
    at = str(int((timezone.now() - timedelta(minutes=1)).timestamp()))
    image = {
        "from": "16505590061",
        "id": "wamid.img1",
        "timestamp": at,
        "type": "image",
        "image": {"id": "media.1", "mime_type": "image/jpeg", "caption": "Broken hinge"},
    }
    with tenant_context(alpha.tenant):
        inbound_store_many(phone=phone, items=[InboundItem(image, "Uma Pi")])
        assert _found(alpha, "hinge") == {"Uma Pi"}


def test_the_backfill_migration_indexes_what_was_stored_before_the_index(phone, alpha, bravo):
    """0011 runs the rebuild for every workspace through the historical models."""
    import importlib

    from django.db.migrations.executor import MigrationExecutor

    backfill = importlib.import_module("inbox.migrations.0011_search_terms_backfill").backfill
    with tenant_context(alpha.tenant):
        inbound_store_many(phone=phone, items=[InboundItem(_text("16505590071", "wamid.m1", "old parcel"), "Ola Po")])
        conversation = Conversation.objects.get()
        expected = _terms(conversation.pk)
        SearchTerm.objects.all().delete()
    state = MigrationExecutor(connection).loader.project_state(("inbox", "0011_search_terms_backfill"))
    backfill(state.apps, None)
    backfill(state.apps, None)  # again: the same terms
    with tenant_context(alpha.tenant):
        assert _terms(conversation.pk) == expected
        assert _found(alpha, "parcel") == {"Ola Po"}
    with tenant_context(bravo.tenant):
        assert SearchTerm.objects.count() == 0


def test_an_older_message_never_moves_a_words_last_seen_back(phone, alpha):
    """History synced from the phone arrives after newer messages: retention keeps the newest time."""
    now = timezone.now()
    recent = _text("16505590081", "wamid.h2", "parcel")
    older = {
        **_text("16505590081", "wamid.h1", "parcel"),
        "timestamp": str(int((now - timedelta(days=40)).timestamp())),
    }
    with tenant_context(alpha.tenant):
        inbound_store_many(phone=phone, items=[InboundItem(recent, "Hal Ng")])
        inbound_store_many(phone=phone, items=[InboundItem(older, "Hal Ng")])
        hashes = query_hashes("parcel", tenant=alpha.tenant.pk, kind="word")
        seen = SearchTerm.objects.get(term__in=sorted(hashes)).seen_at
        assert seen > now - timedelta(days=1)
