"""The inbox search's index: each word of a conversation's messages and each prefix of its
customer's name words, as a keyed hash (a signed 64-bit integer) in `inbox.SearchTerm`.

Under row-level security Postgres uses an index only for leakproof operators: full-text `@@` is
not one (a GIN index would only slow writes), `=` on a bigint is. The hashes are keyed like the
blind indexes (aerostic.core.crypto.blind_index: a subkey per purpose and workspace), so the table
says nothing readable about the texts and the same word hashes differently in another workspace.
Message words and name prefixes use two purposes: a message word never matches a name prefix.

Changing BLIND_INDEX_KEY changes every hash (blind indexes are not rotated like the encryption
keys, aerostic.core.crypto): the terms are then rebuilt from the stored messages and names by
`manage.py inbox_search_reindex` (inbox.search_reindex), as are any written before this index
existed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from django.utils import timezone

from aerostic.core.crypto import blind_index
from aerostic.core.sqlrows import bound_cursor
from inbox.models import Conversation

Kind = Literal["word", "name"]
_PURPOSES: dict[str, str] = {"word": "inbox-search-word", "name": "inbox-search-name-prefix"}
MIN_WORD = 2  # shorter words are neither indexed nor searched
MAX_PREFIX = 20  # name prefixes stop here; a longer searched word is matched on its first 20
MAX_WORDS = 200  # words indexed per message (or name)
BATCH_SIZE = 5000


def words_of(text: str) -> list[str]:
    """The words as the search sees them: lower-case runs of letters and digits, in order."""
    return "".join(ch if ch.isalnum() else " " for ch in text.lower()).split()


def _hash(value: str, *, tenant: int, kind: Kind) -> int:
    # The first 8 bytes of the keyed HMAC, read as a signed int64 (Postgres bigint).
    return int.from_bytes(bytes.fromhex(blind_index(value, purpose=_PURPOSES[kind], tenant=tenant)[:16]), signed=True)


def term_hashes(text: str, *, tenant: int, kind: Kind) -> set[int]:
    """The hashes a text is indexed under: for "word" each distinct word (exact), for "name" every
    prefix of at least MIN_WORD (up to MAX_PREFIX) characters of each word. At most MAX_WORDS
    distinct words of the text count; words shorter than MIN_WORD are skipped."""
    words = list(dict.fromkeys(word for word in words_of(text) if len(word) >= MIN_WORD))[:MAX_WORDS]
    if kind == "word":
        values: set[str] = set(words)
    else:
        values = {word[:end] for word in words for end in range(MIN_WORD, min(len(word), MAX_PREFIX) + 1)}
    return {_hash(value, tenant=tenant, kind=kind) for value in values}


def query_hashes(query: str, *, tenant: int, kind: Kind, limit: int = 8) -> set[int]:
    """What a search for `query` must find all of: one hash per searched word (a name word cut to
    MAX_PREFIX, as names are indexed), for its first `limit` words long enough to be indexed."""
    words = [word for word in words_of(query) if len(word) >= MIN_WORD][:limit]
    if kind == "name":
        words = [word[:MAX_PREFIX] for word in words]
    return {_hash(word, tenant=tenant, kind=kind) for word in words}


def message_text(message: Any) -> str:
    """What a stored message is found by: its text body, or its media's caption."""
    payload = message.payload if isinstance(message.payload, dict) else {}
    media = payload.get(str(message.type or ""))
    caption = media.get("caption", "") if isinstance(media, dict) else ""
    return " ".join(part for part in (message.body, caption) if isinstance(part, str) and part)


def message_pairs(messages: Iterable[Any]) -> list[tuple[int, int, int, datetime]]:
    """(tenant_id, conversation_id, term, seen_at) for the words of each message."""
    return [
        (message.tenant_id, message.conversation_id, term, message.created_at)
        for message in messages
        for term in term_hashes(message_text(message), tenant=message.tenant_id, kind="word")
    ]


def name_pairs(conversations: Iterable[Any], at: datetime) -> list[tuple[int, int, int, datetime]]:
    """(tenant_id, conversation_id, term, at) for the prefixes of each conversation's customer name."""
    return [
        (conversation.tenant_id, conversation.pk, term, at)
        for conversation in conversations
        for term in term_hashes(conversation.customer_name or "", tenant=conversation.tenant_id, kind="name")
    ]


_RECORD = (
    "INSERT INTO inbox_searchterm (tenant_id, conversation_id, term, seen_at)"
    " SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::timestamptz[])"
    " ON CONFLICT (conversation_id, term) DO UPDATE SET seen_at = GREATEST(inbox_searchterm.seen_at, EXCLUDED.seen_at)"
)


def search_terms_record(pairs: Iterable[tuple[int, int, int, datetime]]) -> int:
    """Writes the terms: one INSERT … ON CONFLICT per BATCH_SIZE distinct (conversation, term)
    pairs, each keeping its newest `seen_at` (an older message synced from the phone's history
    never moves it back). Returns how many pairs were written. Runs in the caller's transaction
    and tenant context; plain SQL, so data migrations write through it too."""
    newest: dict[tuple[int, int], tuple[int, datetime]] = {}
    for tenant_id, conversation_id, term, seen_at in pairs:
        key = (conversation_id, term)
        if key not in newest or newest[key][1] < seen_at:
            newest[key] = (tenant_id, seen_at)
    # Sorted: concurrent writers take the rows' locks in one order.
    rows = [
        (tenant_id, conversation_id, term, seen_at)
        for (conversation_id, term), (tenant_id, seen_at) in sorted(newest.items())
    ]
    with bound_cursor() as cursor:
        for start in range(0, len(rows), BATCH_SIZE):
            cursor.execute(_RECORD, [list(column) for column in zip(*rows[start : start + BATCH_SIZE], strict=True)])
    return len(rows)


_FORGET = (
    "DELETE FROM inbox_searchterm AS t USING unnest(%s::bigint[], %s::bigint[]) AS gone(conversation_id, term)"
    " WHERE t.conversation_id = gone.conversation_id AND t.term = gone.term"
)


def names_forget(renamed: Iterable[tuple[Any, str]]) -> None:
    """Deletes the prefixes of (conversation, former name) that its current name does not have,
    in one statement (name prefixes are their own hash domain: no message word goes with them)."""
    gone = [
        (conversation.pk, term)
        for conversation, old in renamed
        for term in term_hashes(old or "", tenant=conversation.tenant_id, kind="name")
        - term_hashes(conversation.customer_name or "", tenant=conversation.tenant_id, kind="name")
    ]
    if gone:
        with bound_cursor() as cursor:
            cursor.execute(_FORGET, [[pk for pk, _ in gone], [term for _, term in gone]])


# Message words last seen before the cutoff go; the conversations that lost terms are returned so
# their names (kept past the retention) are indexed again.
_EXPIRE = (
    "WITH gone AS (DELETE FROM inbox_searchterm WHERE tenant_id = %s AND seen_at < %s RETURNING conversation_id)"
    " SELECT DISTINCT conversation_id FROM gone"
)


def search_terms_expire(*, tenant_id: int, before: datetime) -> int:
    """Message retention: deletes the workspace's terms last seen before `before` in one statement,
    then indexes again the customer names of the conversations that lost some (BATCH_SIZE at a
    time). Returns how many conversations lost terms."""
    with bound_cursor() as cursor:
        cursor.execute(_EXPIRE, [tenant_id, before])
        touched = sorted(row[0] for row in cursor.fetchall())
    now = timezone.now()
    for start in range(0, len(touched), BATCH_SIZE):
        named = Conversation.objects.filter(pk__in=touched[start : start + BATCH_SIZE]).only(
            "id", "tenant_id", "customer_name"
        )
        search_terms_record(name_pairs(named, now))
    return len(touched)
