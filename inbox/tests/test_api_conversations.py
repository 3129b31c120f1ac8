"""The conversations API: the list with each view, state and filter, search by number and by word,
keyset pages (no overlap, no OFFSET), one conversation, its timeline, replies (queued with origin
inbox, the closed window refused, templates, idempotency), retries, and what agents do to a
conversation (assign, team, status, labels, notes, read)."""

from __future__ import annotations

from datetime import timedelta

import django_rq
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from aerostic.core.tenant_context import tenant_context
from inbox.models import Conversation, ConversationEvent, ConversationLabel, Label, Mention, Team, TeamMember
from inbox.teamwork import mentioned_users
from inbox.tests.api_support import CUSTOMER, customer_writes, number_of, quiet_conversation
from tenants.tests.factories import MembershipFactory
from whatsapp.models import OutboundMessage
from whatsapp.tests.factories import MessageTemplateFactory, OutboundMessageFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/conversations/"


@pytest.fixture
def phone(alpha):
    return number_of(alpha)


@pytest.fixture
def admin(alpha, api_client_for):
    return api_client_for(alpha.admin)


@pytest.fixture
def agent(alpha, api_client_for):
    return api_client_for(alpha.agent)


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def _team(workspace, *members, name: str = "Support") -> Team:
    with tenant_context(workspace.tenant):
        team = Team.objects.create(tenant=workspace.tenant, name=name)
        for member in members:
            TeamMember.objects.create(tenant=workspace.tenant, team=team, user=member.user)
        return team


def _label(workspace, name: str = "VIP") -> Label:
    with tenant_context(workspace.tenant):
        return Label.objects.create(tenant=workspace.tenant, name=name, color="red")


def _reload(conversation: Conversation) -> Conversation:
    with tenant_context(conversation.tenant_id):
        return Conversation.objects.select_related("assignee", "team").get(pk=conversation.pk)


def _events(conversation: Conversation) -> list[str]:
    with tenant_context(conversation.tenant_id):
        return list(ConversationEvent.objects.filter(conversation=conversation).values_list("kind", flat=True))


def _outbound(workspace) -> list[OutboundMessage]:
    with tenant_context(workspace.tenant):
        return list(OutboundMessage.objects.order_by("pk"))


# --- the list


def test_a_row_shows_the_customer_masked_with_labels_and_last_message(alpha, admin, phone):
    conversation = customer_writes(phone, text="Where is my order?")
    label = _label(alpha)
    with tenant_context(alpha.tenant):
        ConversationLabel.objects.create(tenant=alpha.tenant, conversation=conversation, label=label)

    response = admin.get(URL)

    assert response.status_code == 200, response.content
    (row,) = response.json()["results"]
    assert row["id"] == conversation.pk and row["customer_name"] == "Asha Rao"
    assert row["customer_number"] == "+91 98••••21"
    assert row["contact_id"] == conversation.contact_id is not None
    assert row["phone_number_id"] == phone.pk and row["status"] == "open"
    assert row["assignee"] is None and row["team"] is None
    assert row["labels"] == [{"id": label.pk, "name": "VIP", "color": "red"}]
    assert row["unread_count"] == 1 and row["window_open"] is True
    assert row["last_message"]["preview"] == "Where is my order?"
    assert row["last_message"]["direction"] == "in" and row["last_message"]["type"] == "text"
    assert response.json()["next_cursor"] is None
    assert CUSTOMER[2:] not in response.content.decode()  # the full number never leaves


@pytest.mark.parametrize(
    ("view", "expected"),
    [("all", {"mine", "unassigned", "team"}), ("mine", {"mine"}), ("unassigned", {"unassigned"}), ("team", {"team"})],
)
def test_each_view_lists_what_the_agent_may_see(alpha, agent, phone, view, expected):
    now = timezone.now()
    team = _team(alpha, alpha.agent)
    rows = {
        "mine": quiet_conversation(phone, at=now, assignee=alpha.agent.user),
        "unassigned": quiet_conversation(phone, at=now),
        "team": quiet_conversation(phone, at=now, assignee=alpha.admin.user, team=team),
        "someone_else": quiet_conversation(phone, at=now, assignee=alpha.admin.user),
    }

    found = set(_ids(agent.get(URL, {"view": view})))

    assert found == {rows[name].pk for name in expected}


def test_an_admin_sees_every_conversation(alpha, admin, phone):
    now = timezone.now()
    rows = [
        quiet_conversation(phone, at=now, assignee=alpha.agent.user),
        quiet_conversation(phone, at=now, assignee=alpha.admin.user),
        quiet_conversation(phone, at=now),
    ]
    assert set(_ids(admin.get(URL, {"view": "all"}))) == {row.pk for row in rows}


@pytest.mark.parametrize("state", ["open", "pending", "snoozed", "resolved"])
def test_each_state_lists_its_conversations(admin, phone, state):
    now = timezone.now()
    rows = {
        status: quiet_conversation(
            phone, at=now, status=status, snoozed_until=now + timedelta(hours=1) if status == "snoozed" else None
        )
        for status in Conversation.Status.values
    }
    assert _ids(admin.get(URL, {"state": state})) == [rows[state].pk]
    assert set(_ids(admin.get(URL, {"state": "any"}))) == {row.pk for row in rows.values()}


def test_filters_by_number_label_team_unread_and_window(alpha, admin, phone):
    now = timezone.now()
    other_phone = number_of(alpha)
    team, label = _team(alpha, name="Billing"), _label(alpha)
    plain = quiet_conversation(phone, at=now)
    elsewhere = quiet_conversation(other_phone, at=now)
    labelled = quiet_conversation(phone, at=now)
    with tenant_context(alpha.tenant):
        ConversationLabel.objects.create(tenant=alpha.tenant, conversation=labelled, label=label)
    in_team = quiet_conversation(phone, at=now, team=team)
    unread = quiet_conversation(phone, at=now, unread_count=2)
    in_window = quiet_conversation(phone, at=now, window_expires_at=now + timedelta(hours=3))

    assert _ids(admin.get(URL, {"phone_number_id": other_phone.pk})) == [elsewhere.pk]
    assert _ids(admin.get(URL, {"label_id": label.pk})) == [labelled.pk]
    assert _ids(admin.get(URL, {"team_id": team.pk})) == [in_team.pk]
    assert _ids(admin.get(URL, {"unread": "true"})) == [unread.pk]
    assert _ids(admin.get(URL, {"window_open": "true"})) == [in_window.pk]
    assert plain.pk in _ids(admin.get(URL))


@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("+91 98123 45621", "asha"),
        ("+919812345621", "asha"),
        ("+91 98123 45622", "ravi"),
        ("asha", "asha"),
        ("Ra", "both"),
        ("refund", "asha"),
        ("parcel", "ravi"),
        ("nobody", "none"),
    ],
)
def test_search_finds_a_number_by_its_blind_index_and_words_in_names_and_messages(admin, phone, query, who):
    asha = customer_writes(phone, wa_id=CUSTOMER, name="Asha Rao", text="I want a refund")
    ravi = customer_writes(phone, wa_id="919812345622", name="Ravi Kumar", text="Where is the parcel?")
    expected = {"asha": {asha.pk}, "ravi": {ravi.pk}, "both": {asha.pk, ravi.pk}, "none": set()}[who]

    assert set(_ids(admin.get(URL, {"q": query}))) == expected


def test_keyset_pages_cover_every_conversation_once_without_offset(admin, phone):
    now = timezone.now()
    tied = now - timedelta(minutes=3)
    rows = [quiet_conversation(phone, at=now - timedelta(minutes=minutes)) for minutes in (1, 2, 4, 5, 6)]
    rows += [quiet_conversation(phone, at=tied) for _ in range(3)]  # the same time: ordered by id
    expected = [row.pk for row in sorted(rows, key=lambda row: (row.last_message_at, row.pk), reverse=True)]

    seen, cursor, pages = [], "", 0
    with CaptureQueriesContext(connection) as queries:
        while True:
            response = admin.get(URL, {"limit": 3, **({"cursor": cursor} if cursor else {})})
            seen += _ids(response)
            pages += 1
            cursor = response.json()["next_cursor"]
            if cursor is None:
                break

    assert seen == expected and pages == 3
    assert not [query["sql"] for query in queries.captured_queries if "OFFSET" in query["sql"].upper()]


@pytest.mark.parametrize(
    "params",
    [{"limit": 101}, {"limit": 0}, {"view": "everything"}, {"state": "closed"}, {"cursor": "not-a-cursor"}],
    ids=["limit-too-big", "limit-zero", "unknown-view", "unknown-state", "foreign-cursor"],
)
def test_bad_list_parameters_are_a_400_with_a_message(admin, phone, params):
    response = admin.get(URL, params)
    assert response.status_code == 400
    assert response.json()


def test_unread_counts_per_view(alpha, agent, phone):
    now = timezone.now()
    quiet_conversation(phone, at=now, assignee=alpha.agent.user, unread_count=1)
    quiet_conversation(phone, at=now, unread_count=3)
    quiet_conversation(phone, at=now, unread_count=2, status="resolved")
    quiet_conversation(phone, at=now, assignee=alpha.admin.user, unread_count=1)  # not the agent's to see

    response = agent.get(f"{URL}unread/")

    assert response.status_code == 200
    assert response.json() == {"mine": 1, "unassigned": 1, "team": 0, "all": 2}


# --- one conversation and its timeline


def test_detail_adds_the_contact_summary_and_the_number(admin, phone):
    conversation = customer_writes(phone)

    body = admin.get(f"{URL}{conversation.pk}/").json()

    assert body["id"] == conversation.pk
    assert body["contact"]["id"] == conversation.contact_id and body["contact"]["phone_hint"] == "+91 98••••21"
    assert body["phone_number"] == {"id": phone.pk, "display": phone.display_phone_number}
    assert body["last_message"]["preview"] == "Hi, where is my order?"


def test_timeline_shows_messages_notes_and_sends_on_their_way_oldest_first(alpha, agent, phone):
    conversation = customer_writes(phone, text="Is it shipped?", ago=timedelta(minutes=5))
    assert agent.post(f"{URL}{conversation.pk}/notes/", {"body": "Checking the warehouse"}).status_code == 201
    assert agent.post(f"{URL}{conversation.pk}/messages/", {"text": "Yes, today."}, format="json").status_code == 202

    body = agent.get(f"{URL}{conversation.pk}/messages/").json()

    kinds = [entry["kind"] for entry in body["results"]]
    assert kinds[0] == "message" and sorted(kinds[1:]) == ["event", "event", "outbound"]
    message = body["results"][0]["message"]
    assert (message["direction"], message["type"], message["text"], message["status"]) == (
        "in",
        "text",
        "Is it shipped?",
        "received",
    )
    assert message["media"] is None and "from" not in message["payload"]
    events = {entry["event"]["kind"]: entry["event"] for entry in body["results"] if entry["kind"] == "event"}
    assert events["note"]["body"] == "Checking the warehouse"
    assert events["note"]["actor"]["id"] == alpha.agent.user.pk
    assert events["assigned"]["data"]["assignee_id"] == alpha.agent.user.pk  # the reply took it
    (outbound,) = [entry["outbound"] for entry in body["results"] if entry["kind"] == "outbound"]
    assert outbound["state"] == "queued" and outbound["text"] == "Yes, today." and outbound["type"] == "text"
    assert body["next_before"] is None
    assert CUSTOMER[2:] not in str(body)


def test_timeline_pages_backwards_with_next_before(admin, phone):
    for minutes in (5, 4, 3, 2, 1):
        conversation = customer_writes(phone, text=f"message {minutes}", ago=timedelta(minutes=minutes))

    texts, before, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"before": before} if before else {})}
        body = admin.get(f"{URL}{conversation.pk}/messages/", params).json()
        texts = [entry["message"]["text"] for entry in body["results"]] + texts
        pages += 1
        before = body["next_before"]
        if before is None:
            break

    assert texts == [f"message {minutes}" for minutes in (5, 4, 3, 2, 1)] and pages == 3


def test_media_messages_name_their_type_and_where_to_fetch_them(admin, phone):
    content = {"id": "4490001", "mime_type": "image/jpeg", "sha256": "x", "caption": "my receipt"}
    conversation = customer_writes(phone, kind="image", content=content)

    (entry,) = admin.get(f"{URL}{conversation.pk}/messages/").json()["results"]

    message = entry["message"]
    try:
        url = reverse("inbox:media", kwargs={"message_id": message["id"]})
    except NoReverseMatch:
        url = None
    assert message["media"] == {"id": message["id"], "mime_type": "image/jpeg", "url": url}
    assert admin.get(URL).json()["results"][0]["last_message"]["preview"] == "my receipt"


def test_a_timeline_before_that_is_no_time_is_a_400(admin, phone):
    conversation = customer_writes(phone)
    assert admin.get(f"{URL}{conversation.pk}/messages/", {"before": "yesterday"}).status_code == 400


# --- replies


def test_a_reply_is_queued_from_the_inbox_and_assigns_the_conversation(alpha, agent, phone):
    conversation = customer_writes(phone)

    response = agent.post(f"{URL}{conversation.pk}/messages/", {"text": "It ships today."}, format="json")

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["state"] == "queued" and body["origin"] == "inbox" and response["Location"] == body["status_url"]
    (stored,) = _outbound(alpha)
    assert stored.pk == body["id"] and stored.created_by_id == alpha.agent.user.pk
    assert stored.content["text"]["body"] == "It ships today." and stored.contact_id == conversation.contact_id
    assert _reload(conversation).assignee_id == alpha.agent.user.pk


def test_the_same_idempotency_key_returns_the_first_reply(alpha, agent, phone):
    conversation = customer_writes(phone)
    path = f"{URL}{conversation.pk}/messages/"

    first = agent.post(path, {"text": "Hello"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = agent.post(path, {"text": "Hello"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"] and len(_outbound(alpha)) == 1


def test_free_text_after_the_window_is_refused_and_nothing_is_queued(alpha, agent, phone):
    conversation = customer_writes(phone, ago=timedelta(days=2))

    response = agent.post(f"{URL}{conversation.pk}/messages/", {"text": "Still there?"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "window_closed" and "template" in response.json()["detail"]
    assert _outbound(alpha) == []


def test_a_template_is_sent_after_the_window(alpha, agent, phone):
    conversation = customer_writes(phone, ago=timedelta(days=2))
    with tenant_context(alpha.tenant):
        template = MessageTemplateFactory(account=phone.account)
    values = {"body": {"1": "Asha", "2": "A-1"}}

    response = agent.post(
        f"{URL}{conversation.pk}/messages/", {"template_id": template.pk, "values": values}, format="json"
    )

    assert response.status_code == 202, response.content
    assert response.json()["category"] == "UTILITY"
    (stored,) = _outbound(alpha)
    assert stored.content["type"] == "template" and stored.template_id == template.pk


@pytest.mark.parametrize(
    "body",
    [{}, {"text": "   "}, {"text": "Hi", "template_id": 1}, {"text": "x" * 4097}],
    ids=["nothing", "blank", "both", "too-long"],
)
def test_a_reply_that_says_nothing_or_too_much_is_a_400(alpha, agent, phone, body):
    conversation = customer_writes(phone)
    assert agent.post(f"{URL}{conversation.pk}/messages/", body, format="json").status_code == 400
    assert _outbound(alpha) == []


def test_a_template_missing_values_is_a_400(alpha, agent, phone):
    conversation = customer_writes(phone)
    with tenant_context(alpha.tenant):
        template = MessageTemplateFactory(account=phone.account)
    response = agent.post(
        f"{URL}{conversation.pk}/messages/", {"template_id": template.pk, "values": {}}, format="json"
    )
    assert response.status_code == 400 and response.json()["detail"]
    assert _outbound(alpha) == []


# --- retry


def test_a_failed_send_is_sent_again_as_a_new_message(alpha, agent, phone):
    conversation = customer_writes(phone)
    with tenant_context(alpha.tenant):
        failed = OutboundMessageFactory(
            phone_number=phone, recipient=CUSTOMER, state="failed", origin="inbox", error_detail="Meta was down"
        )

    response = agent.post(f"{URL}{conversation.pk}/retry/", {"outbound_id": failed.pk}, format="json")

    assert response.status_code == 202, response.content
    assert response.json()["id"] != failed.pk and response.json()["origin"] == "inbox"
    assert [row.state for row in _outbound(alpha)] == ["failed", "queued"]


def test_retry_refuses_a_send_that_did_not_fail_and_does_not_know_another_customer_s(alpha, agent, phone):
    conversation = customer_writes(phone)
    with tenant_context(alpha.tenant):
        queued = OutboundMessageFactory(phone_number=phone, recipient=CUSTOMER, state="queued")
        elsewhere = OutboundMessageFactory(phone_number=phone, recipient="919812345699", state="failed")
    path = f"{URL}{conversation.pk}/retry/"

    assert agent.post(path, {"outbound_id": queued.pk}, format="json").status_code == 400
    assert agent.post(path, {"outbound_id": elsewhere.pk}, format="json").status_code == 404
    assert agent.post(path, {"message_id": 999_999}, format="json").status_code == 404
    assert agent.post(path, {}, format="json").status_code == 400
    assert len(_outbound(alpha)) == 2


# --- assign, team, status, labels, notes, read


def test_an_admin_assigns_anyone_who_may_reply(alpha, admin, phone):
    conversation = customer_writes(phone)

    response = admin.post(f"{URL}{conversation.pk}/assign/", {"assignee_id": alpha.agent.user.pk}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["assignee"]["id"] == alpha.agent.user.pk
    assert _events(conversation) == ["assigned"]
    viewer = admin.post(f"{URL}{conversation.pk}/assign/", {"assignee_id": alpha.viewer.user.pk}, format="json")
    assert viewer.status_code == 400 and "not an agent" in viewer.json()["detail"]
    assert _reload(conversation).assignee_id == alpha.agent.user.pk


def test_an_agent_takes_an_unassigned_conversation_but_assigns_nobody_else(alpha, agent, phone):
    conversation = customer_writes(phone)
    path = f"{URL}{conversation.pk}/assign/"

    assert agent.post(path, {"assignee_id": alpha.admin.user.pk}, format="json").status_code == 403
    assert agent.post(path, {"assignee_id": alpha.agent.user.pk}, format="json").status_code == 200
    assert agent.post(path, {"assignee_id": None}, format="json").status_code == 403

    assert _reload(conversation).assignee_id == alpha.agent.user.pk
    assert _events(conversation) == ["assigned"]


def test_moving_to_a_team_with_round_robin_assigns_its_available_agent(alpha, admin, agent, phone):
    conversation = customer_writes(phone)
    team = _team(alpha, alpha.agent)
    path = f"{URL}{conversation.pk}/team/"

    assert agent.post(path, {"team_id": team.pk}, format="json").status_code == 403
    response = admin.post(path, {"team_id": team.pk, "round_robin": True}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["team"] == {"id": team.pk, "name": "Support"}
    assert response.json()["assignee"]["id"] == alpha.agent.user.pk
    assert admin.post(path, {"team_id": 999_999}, format="json").status_code == 400


def test_status_resolves_and_snoozes_until_a_future_time(agent, phone):
    conversation = customer_writes(phone)
    path = f"{URL}{conversation.pk}/status/"

    assert agent.post(path, {"status": "resolved"}, format="json").json()["status"] == "resolved"
    assert agent.post(path, {"status": "snoozed"}, format="json").status_code == 400
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    assert agent.post(path, {"status": "snoozed", "snoozed_until": past}, format="json").status_code == 400
    assert agent.post(path, {"status": "closed"}, format="json").status_code == 400
    until = (timezone.now() + timedelta(hours=2)).replace(microsecond=0)
    snoozed = agent.post(path, {"status": "snoozed", "snoozed_until": until.isoformat()}, format="json").json()

    assert snoozed["status"] == "snoozed"
    assert _reload(conversation).snoozed_until == until
    assert _events(conversation) == ["resolved", "snoozed"]


def test_labels_are_added_and_removed_all_or_none(alpha, agent, phone):
    conversation = customer_writes(phone)
    vip, late = _label(alpha, "VIP"), _label(alpha, "Late")
    path = f"{URL}{conversation.pk}/labels/"

    added = agent.post(path, {"add": [vip.pk, late.pk]}, format="json")
    assert added.status_code == 200
    assert {label["name"] for label in added.json()["labels"]} == {"VIP", "Late"}
    removed = agent.post(path, {"remove": [late.pk]}, format="json").json()
    assert [label["id"] for label in removed["labels"]] == [vip.pk]

    refused = agent.post(path, {"add": [late.pk, 999_999]}, format="json")
    assert refused.status_code == 400 and refused.json()["detail"] == "There is no such label."
    with tenant_context(alpha.tenant):
        assert list(ConversationLabel.objects.values_list("label_id", flat=True)) == [vip.pk]
    assert _events(conversation) == ["labelled", "labelled", "unlabelled"]


def test_a_note_mentions_teammates(alpha, agent, phone):
    conversation = customer_writes(phone)

    response = agent.post(f"{URL}{conversation.pk}/notes/", {"body": "@admin can you refund this?"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "note" and body["body"] == "@admin can you refund this?"
    assert body["data"]["mentions"] == [{"id": alpha.admin.user.pk, "name": alpha.admin.user.get_full_name()}]
    with tenant_context(alpha.tenant):
        assert Mention.objects.get().user_id == alpha.admin.user.pk
    assert agent.post(f"{URL}{conversation.pk}/notes/", {"body": "  "}, format="json").status_code == 400


def test_a_note_finds_teammates_by_first_name_full_name_or_email(alpha):
    colleague = MembershipFactory(tenant=alpha.tenant, role="agent", user=UserFactory(full_name="Meera Shah"))
    with tenant_context(alpha.tenant):
        for text in ("@meera please look", "@Meera.Shah please look", f"@{colleague.user.email.split('@')[0]} hi"):
            assert mentioned_users(text) == [colleague.user], text
        assert mentioned_users("@shah please look") == []


def test_reading_clears_unread_and_sends_the_read_receipt(agent, phone, django_capture_on_commit_callbacks):
    customer_writes(phone, text="Hello", ago=timedelta(minutes=2))
    conversation = customer_writes(phone, text="Anyone?")
    assert conversation.unread_count == 2

    with django_capture_on_commit_callbacks(execute=True):
        response = agent.post(f"{URL}{conversation.pk}/read/")

    assert response.status_code == 204
    assert _reload(conversation).unread_count == 0
    (job,) = django_rq.get_queue("default").jobs
    assert job.func_name.endswith("mark_read_at_meta")


def test_a_viewer_reads_but_cannot_reply_or_act(alpha, api_client_for, phone):
    viewer = api_client_for(alpha.viewer)
    conversation = customer_writes(phone)

    assert viewer.get(f"{URL}{conversation.pk}/").status_code == 200
    assert viewer.get(f"{URL}{conversation.pk}/messages/").status_code == 200
    for action, body in [
        ("messages", {"text": "Hi"}),
        ("notes", {"body": "x"}),
        ("status", {"status": "resolved"}),
        ("labels", {"add": []}),
        ("read", {}),
        ("assign", {"assignee_id": alpha.viewer.user.pk}),
    ]:
        response = viewer.post(f"{URL}{conversation.pk}/{action}/", body, format="json")
        assert response.status_code == 403, action
    assert _outbound(alpha) == [] and _events(conversation) == []
    assert _reload(conversation).unread_count == 1


def test_the_schema_describes_the_inbox_routes_without_warnings():
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    schema = SchemaGenerator(patterns=None).get_schema(request=None, public=True)
    problems = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]

    assert {
        "/api/v1/conversations/",
        "/api/v1/conversations/unread/",
        "/api/v1/conversations/{conversation_id}/messages/",
        "/api/v1/inbox/quick-replies/{quick_reply_id}/",
    } <= set(schema["paths"])
    assert [problem for problem in problems if "inbox" in problem.lower() or "conversation" in problem.lower()] == []
