"""The conversation list at /inbox/: views with unread counts, states, filters and search, masked
numbers, type-aware previews, keyset "Load more", empty states, the navigation entry and its
badge, and a number of queries that does not grow with the page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aerostic.core.tenant_context import tenant_context
from inbox import badges, settings_selectors, teamwork
from inbox.models import Conversation, Label, Team, TeamMember
from inbox.selectors import Agent
from inbox.tests.portal_support import (
    ASHA,
    conversation_of,
    inbound,
    receive,
    text_of,
)

pytestmark = pytest.mark.django_db


def _customers(alpha, number, count: int, *, start: int = 0) -> list[Conversation]:
    """`count` customers who each wrote once, newest last."""
    now = timezone.now()
    messages = [
        inbound(f"9198100{n:05d}", f"wamid.list{n}", at=now - timedelta(minutes=count - n), text={"body": f"Order {n}"})
        for n in range(start, start + count)
    ]
    receive(alpha.tenant, number, *messages, name="")
    with tenant_context(alpha.tenant):
        return list(Conversation.objects.order_by("-last_message_at"))


def _rows(html: str) -> list[str]:
    return re.findall(r'data-conversation-row="(\d+)"', html)


def test_the_nav_entry_leads_to_the_inbox_and_the_coming_soon_page_is_gone(alpha, login_client, number):
    response = login_client(alpha.agent).get("/inbox/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'href="/inbox/"' in html and 'aria-current="page"' in html
    assert "Coming soon" not in html


def test_rows_show_name_or_masked_number_a_preview_and_never_the_full_number(alpha, login_client, number):
    now = timezone.now()
    receive(alpha.tenant, number, inbound(ASHA, "wamid.a1", at=now, text={"body": "Where is my *parcel*?"}))
    receive(
        alpha.tenant,
        number,
        inbound("919812345602", "wamid.b1", type="image", at=now, image={"id": "55", "mime_type": "image/jpeg"}),
        name="",
    )

    html = login_client(alpha.agent).get("/inbox/").content.decode()

    assert "Asha Rao" in html
    assert "Where is my *parcel*?" in text_of(html)
    assert "📷 Photo" in html
    assert "+91 98••••02" in html  # the nameless customer, masked
    assert "919812345602" not in html and "9812345602" not in html and ASHA not in html
    assert html.count('class="unread-badge"') == 2
    assert 'class="window-dot"' in html


def test_tabs_count_unread_conversations_per_view(alpha, login_client, number):
    conversations = _customers(alpha, number, 3)
    with tenant_context(alpha.tenant):
        teamwork.conversation_assign(conversations[0], assignee_id=alpha.agent.user_id, actor=alpha.admin.user)

    html = login_client(alpha.agent).get("/inbox/").content.decode()
    tabs = re.search(r'<nav class="inbox-tabs".*?</nav>', html, re.S).group(0)

    assert re.search(r"Mine <span class=\"tab-count\"[^>]*>1</span>", tabs)
    assert re.search(r"Unassigned <span class=\"tab-count\"[^>]*>2</span>", tabs)
    assert re.search(r"All <span class=\"tab-count\"[^>]*>3</span>", tabs)


def test_views_states_and_filters_narrow_the_list(alpha, login_client, number):
    conversations = _customers(alpha, number, 4)
    mine, resolved, labelled, teamed = conversations
    with tenant_context(alpha.tenant):
        teamwork.conversation_assign(mine, assignee_id=alpha.agent.user_id, actor=alpha.admin.user)
        teamwork.conversation_status(resolved, status="resolved", actor=alpha.admin.user)
        label = Label.objects.create(name="VIP", color="amber")
        teamwork.conversation_label(labelled, label_id=label.pk, actor=alpha.admin.user)
        team = Team.objects.create(name="Support")
        TeamMember.objects.create(team=team, user=alpha.agent.user)
        teamwork.conversation_team(teamed, team_id=team.pk, actor=alpha.admin.user)
        Conversation.objects.filter(pk=labelled.pk).update(unread_count=0)
    client = login_client(alpha.agent)

    def ids(query: str) -> set[int]:
        response = client.get(f"/inbox/?{query}")
        assert response.status_code == 200, response.content[:300]
        return {int(pk) for pk in _rows(response.content.decode())}

    assert ids("") == {mine.pk, labelled.pk, teamed.pk}  # open by default
    assert ids("view=mine") == {mine.pk}
    assert ids("state=resolved") == {resolved.pk}
    assert ids("state=any") == {c.pk for c in conversations}
    assert ids(f"label={label.pk}") == {labelled.pk}
    assert ids("view=team") == {teamed.pk}
    assert ids(f"team={team.pk}") == {teamed.pk}
    assert ids("unread=1") == {mine.pk, teamed.pk}
    assert ids("window=1") == {mine.pk, labelled.pk, teamed.pk}
    assert ids(f"phone={number.pk}&state=any") == {c.pk for c in conversations}


def test_search_finds_names_full_numbers_and_message_text(alpha, login_client, number):
    now = timezone.now()
    receive(alpha.tenant, number, inbound(ASHA, "wamid.s1", at=now, text={"body": "my refund please"}))
    receive(alpha.tenant, number, inbound("919812345602", "wamid.s2", at=now), name="Ravi Kumar")
    asha, ravi = conversation_of(alpha.tenant, number), conversation_of(alpha.tenant, number, "919812345602")
    client = login_client(alpha.agent)

    def ids(q: str) -> set[int]:
        return {int(pk) for pk in _rows(client.get("/inbox/", {"q": q}).content.decode())}

    assert ids("ravi") == {ravi.pk}
    assert ids("+91 98123 45601") == {asha.pk}
    assert ids("refund") == {asha.pk}
    assert ids("nobody-here") == set()
    assert "No conversations match" in client.get("/inbox/", {"q": "nobody-here"}).content.decode()


def test_load_more_walks_keyset_pages_without_repeating_a_row(alpha, login_client, number):
    conversations = _customers(alpha, number, 30)
    client = login_client(alpha.agent)

    first = client.get("/inbox/").content.decode()
    cursor = re.search(r'hx-get="/inbox/rows/\?cursor=([^"&]+)"', first).group(1)
    second = client.get("/inbox/rows/", {"cursor": cursor}, HTTP_HX_REQUEST="true")

    page_one, page_two = _rows(first), _rows(second.content.decode())
    assert len(page_one) == 25 and len(page_two) == 5
    assert [int(pk) for pk in page_one + page_two] == [c.pk for c in conversations]
    assert "Load more" not in second.content.decode()
    # Without JavaScript the same cursor is a link to the page.
    assert len(_rows(client.get("/inbox/", {"cursor": cursor}).content.decode())) == 5


def test_a_cursor_or_filter_that_is_not_ours_is_a_400_with_the_default_list(alpha, login_client, number):
    _customers(alpha, number, 2)
    client = login_client(alpha.agent)

    for query in ("cursor=not-a-cursor", "view=everything", "state=lost", "label=x"):
        response = client.get(f"/inbox/?{query}")
        assert response.status_code == 400
        assert 'class="alert alert-error"' in response.content.decode()
        assert len(_rows(response.content.decode())) == 2
    assert client.get("/inbox/rows/?cursor=bad").status_code == 400
    # The page size asked for is kept for the first page shown instead.
    assert len(_rows(client.get("/inbox/?cursor=not-a-cursor&limit=1").content.decode())) == 1


def test_the_list_page_reads_as_many_queries_for_25_rows_as_for_5(alpha, login_client, number):
    client = login_client(alpha.agent)
    _customers(alpha, number, 5)
    client.get("/inbox/")  # warm the session and caches
    with CaptureQueriesContext(connection) as five:
        assert len(_rows(client.get("/inbox/").content.decode())) == 5
    _customers(alpha, number, 20, start=5)
    with tenant_context(alpha.tenant):
        conversations = list(Conversation.objects.all())
        label = Label.objects.create(name="VIP")
        for conversation in conversations:
            teamwork.conversation_label(conversation, label_id=label.pk, actor=alpha.admin.user)
            teamwork.conversation_assign(conversation, assignee_id=alpha.agent.user_id, actor=alpha.admin.user)
    with CaptureQueriesContext(connection) as twenty_five:
        assert len(_rows(client.get("/inbox/").content.decode())) == 25
    assert len(twenty_five) == len(five), [q["sql"][:120] for q in twenty_five.captured_queries]


def test_empty_states_say_what_to_do(alpha, login_client):
    client = login_client(alpha.agent)
    html = client.get("/inbox/").content.decode()
    assert "No WhatsApp number connected" in html and 'href="/whatsapp/"' in html


def test_empty_list_with_a_number_says_where_conversations_come_from(alpha, login_client, number):
    html = login_client(alpha.agent).get("/inbox/?view=mine").content.decode()
    assert "Nothing assigned to you" in html and "?view=unassigned" in html


def test_the_nav_badge_counts_unread_conversations_and_unseen_mentions_in_one_query(
    alpha, login_client, number, django_assert_num_queries
):
    from inbox.badges import attention_count

    conversations = _customers(alpha, number, 3)
    with tenant_context(alpha.tenant):
        Conversation.objects.filter(pk=conversations[0].pk).update(unread_count=0)
        teamwork.note_add(conversations[0], body="@agent can you look?", actor=alpha.admin.user)
        teamwork.conversation_assign(conversations[1], assignee_id=alpha.admin.user_id, actor=alpha.admin.user)
        with django_assert_num_queries(1):
            assert attention_count(user_id=alpha.agent.user_id, role=alpha.agent.role) == 2  # one unread, one mention
        assert attention_count(user_id=alpha.admin.user_id, role=alpha.admin.role) == 2  # sees all: two unread

    html = login_client(alpha.agent).get("/contacts/").content.decode()
    badge = re.search(r'<span class="nav-badge" id="nav-badge-inbox-index"[^>]*>(.*?)</span>', html, re.S)
    assert badge and badge.group(1).startswith("2")


def test_an_inbox_page_reads_the_badge_with_the_tab_counts(alpha, login_client, number):
    """The list's one counting statement also gives the navigation badge: no second count."""
    conversations = _customers(alpha, number, 3)
    with tenant_context(alpha.tenant):
        teamwork.note_add(conversations[0], body="@agent can you look?", actor=alpha.admin.user)
        Conversation.objects.filter(pk=conversations[0].pk).update(unread_count=0)
        counts = badges.unread_counts(Agent.of(alpha.agent), attention=True)
        assert counts["attention"] == 3 and counts["all"] == 2
    client = login_client(alpha.agent)
    client.get("/inbox/")
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/inbox/").content.decode()
    badge = re.search(r'<span class="nav-badge" id="nav-badge-inbox-index"[^>]*>(.*?)</span>', html, re.S)
    assert badge and badge.group(1).startswith("3")
    counting = [q["sql"] for q in queries.captured_queries if "unread_count > 0" in q["sql"] or "COUNT(" in q["sql"]]
    assert len(counting) == 1, counting


def test_a_conversation_page_loads_the_list_beside_it_in_its_own_request(alpha, login_client, number):
    conversations = _customers(alpha, number, 3)
    chosen = conversations[1]
    client = login_client(alpha.agent)
    page = client.get(f"/inbox/{chosen.pk}/?view=all&state=any").content.decode()
    assert _rows(page) == []  # the conversation does not wait for the list
    pane_url = re.search(r'hx-get="(/inbox/list/\?[^"]+)" hx-trigger="intersect once"', page).group(1)
    assert "state=any" in pane_url and f"selected={chosen.pk}" in pane_url
    pane = client.get(pane_url.replace("&amp;", "&"))
    html = pane.content.decode()
    assert pane.status_code == 200
    assert _rows(html) == [str(c.pk) for c in conversations]
    assert f'data-conversation-row="{chosen.pk}"' in html and 'aria-current="page"' in html
    assert 'id="inbox-tabs"' in html and 'name="q"' in html  # tabs and the search come with it
    assert client.get("/inbox/list/?view=everything").status_code == 400


def test_the_filters_offer_numbers_labels_and_teams_in_one_statement(alpha, number):
    with tenant_context(alpha.tenant):
        Label.objects.create(name="vip")
        Label.objects.create(name="Billing")
        Team.objects.create(name="Support")
        with CaptureQueriesContext(connection) as queries:
            choices = settings_selectors.filter_choices()
    assert len([q for q in queries.captured_queries if q["sql"].startswith(("(SELECT", "SELECT"))]) == 1
    assert [choice.name for choice in choices.labels] == ["Billing", "vip"]
    assert [choice.name for choice in choices.teams] == ["Support"]
    assert [choice.pk for choice in choices.phones] == [number.pk]
