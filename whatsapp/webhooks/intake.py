"""`/webhooks/meta/`: verify the subscription (GET) and take deliveries (POST) — store, enqueue, 200.

No parsing beyond a JSON check, no tenant lookup and no Graph call happen here: the request only
proves the body is Meta's (HMAC-SHA256 of the raw bytes with the app secret), writes one row (the
body encrypted) and answers. The web tier's intake (webhooks/asgi.py) stores concurrent deliveries
as one group with the same statement (`INSERT_EVENTS`); this view stores a group of one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Sequence

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from aerostic.core import crypto, queues
from aerostic.core.clientip import client_ip
from aerostic.core.tenant_context import platform_context
from whatsapp.models import WebhookEvent

logger = logging.getLogger(__name__)

REJECTED_COUNTER = "aerostic:webhooks:rejected_signatures"


def signature_is_valid(body: bytes, header: str) -> bool:
    if not header.startswith("sha256=") or not settings.META_APP_SECRET:
        return False
    expected = hmac.new(settings.META_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[7:].strip().lower())


def rate_key(ip: str | None) -> str:
    """Per client IP and minute: the requests that failed the signature check. Only those count,
    so junk POSTs from one address (or every address behind one proxy) never refuse Meta."""
    return f"aerostic:webhooks:rate:{ip}:{int(time.time() // 60)}"


def unsigned_answer(failures: int, rejected: int) -> tuple[int, dict[str, str]]:
    """The answer to a missing or wrong signature, given this address's failures this minute and
    the running total (0 and 1 when Redis is down: refused all the same, just not counted)."""
    if rejected % 100 == 1:  # one log line per hundred, not a flood
        logger.warning("webhook with a missing or wrong signature refused")
    if failures > settings.WEBHOOK_RATE_PER_MINUTE:
        return 429, {"error": "Too many requests."}
    return 401, {"error": "Invalid signature."}


def _refuse_unsigned(ip: str | None) -> JsonResponse:
    try:
        key = rate_key(ip)
        pipe = queues.redis_connection().pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, 120)
        pipe.incr(REJECTED_COUNTER)
        failures, _, rejected = pipe.execute()
    except Exception:
        failures, rejected = 0, 1
    status, answer = unsigned_answer(failures, rejected)
    return JsonResponse(answer, status=status)


def enqueue_processing(*event_ids: int) -> bool:
    """Hands committed events to processing (see webhooks/ready.py). Redis down → the rows stay
    pending and the sweeper hands them over later."""
    from whatsapp.webhooks.ready import mark_ready

    return mark_ready(event_ids)


def _fields(payload: object) -> list[str]:
    found: list[str] = []
    if isinstance(payload, dict):
        for entry in payload.get("entry") or []:
            if not isinstance(entry, dict):
                continue
            changes = entry.get("changes")
            for change in changes if isinstance(changes, list) else []:
                field = (change.get("field") if isinstance(change, dict) else None) or entry.get("field")
                # jsonb refuses NUL and lone surrogates: such a name would fail the whole INSERT, and
                # with it every delivery stored in the same group (webhooks/asgi.py), on each resend.
                if field and str(field).isprintable() and str(field) not in found:
                    found.append(str(field))
    return found


# (sealed body, status, fields, problem): what inspect_body() returns and one stored row needs.
Delivery = tuple[str, str, list[str], str]

# One statement stores a group of deliveries, whatever its size: four array parameters, so there is
# one statement text (no VALUES list per group size, no limit on parameters). Each delivery's id must
# map back to it (the intake answers each request for its own row and hands only pending ids to
# processing), and Postgres promises no order for the rows of a multi-row INSERT's RETURNING nor for
# the ids an INSERT ... SELECT draws. So the ids are drawn first, in a materialized CTE (computed
# once, read by both the INSERT and the final SELECT), next to each delivery's position (`ord`);
# the answer pairs positions with the ids the INSERT returned. Columns mirror WebhookEvent;
# test_webhooks checks the stored row. The sequence lookup is an init plan: once per statement.
INSERT_EVENTS = """
WITH delivery AS MATERIALIZED (
    SELECT nextval((SELECT pg_get_serial_sequence('whatsapp_webhookevent', 'id'))::regclass) AS id,
           given.body, given.status, given.fields, given.problem, given.ord
    FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[])
         WITH ORDINALITY AS given (body, status, fields, problem, ord)
), stored AS (
    INSERT INTO whatsapp_webhookevent
        (id, body, received_at, status, fields, attempts, last_error, outcome, tenant_id, processed_at)
    SELECT id, body, now(), status, fields::jsonb, 0, problem, '{}'::jsonb, NULL, NULL FROM delivery
    RETURNING id
)
SELECT delivery.ord, stored.id FROM delivery JOIN stored USING (id)
"""


def insert_events_params(deliveries: Sequence[Delivery]) -> list[list[str]]:
    """INSERT_EVENTS' parameters: one array per column, in delivery order."""
    return [
        [sealed for sealed, _, _, _ in deliveries],
        [status for _, status, _, _ in deliveries],
        [json.dumps(fields) for _, _, fields, _ in deliveries],
        [problem for _, _, _, problem in deliveries],
    ]


def inserted_ids(rows: Sequence[tuple[int, int]], count: int) -> list[int]:
    """INSERT_EVENTS' answer as the ids in delivery order. Anything but one id per delivery is a
    bug worth failing the group for: its transaction is then rolled back and every request 503s."""
    by_position = {int(position): int(event_id) for position, event_id in rows}
    if sorted(by_position) != list(range(1, count + 1)):
        raise RuntimeError(f"webhook group INSERT returned {len(rows)} ids for {count} deliveries")
    return [by_position[position] for position in range(1, count + 1)]


# The raw INSERT bypasses the field, so it seals the body itself, with the field's own context.
BODY_CONTEXT = WebhookEvent._meta.get_field("body").encryption_context


def inspect_body(body: bytes) -> Delivery:
    """(sealed body, status, fields, problem) for a signed body. The body comes back encrypted
    (AES-GCM, microseconds) ready for the INSERT: numbers and message text never reach the table
    in the clear. Signed but malformed bodies are kept as dead events for inspection and
    acknowledged, so Meta stops re-sending garbage for days; well-formed ones are stored pending
    and handed to processing."""
    try:
        text = body.decode("utf-8")
        payload = json.loads(text)
        problem = "" if isinstance(payload, dict) else "JSON is not an object"
    except (UnicodeDecodeError, ValueError) as error:
        text, payload, problem = body.decode("utf-8", errors="replace"), None, f"malformed body: {type(error).__name__}"
    status = WebhookEvent.Status.DEAD if problem else WebhookEvent.Status.PENDING
    return crypto.encrypt(text, context=BODY_CONTEXT), str(status), _fields(payload), problem


def store_events(deliveries: Sequence[Delivery]) -> list[int]:
    """One INSERT (the hottest statement of the product) for a group, ids in delivery order: the
    ORM's model machinery cost more than the database here."""
    with platform_context("store incoming webhooks"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(INSERT_EVENTS, insert_events_params(deliveries))
        return inserted_ids(cursor.fetchall(), len(deliveries))


def _store(sealed: str, status: str, fields: list[str], problem: str) -> int:
    """The sync view stores a group of one: it is not the production path (webhooks/asgi.py is)."""
    [event_id] = store_events([(sealed, status, fields, problem)])
    return event_id


@csrf_exempt
@transaction.non_atomic_requests
def meta_webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        mode = request.GET.get("hub.mode", "")
        token = request.GET.get("hub.verify_token", "")
        if (
            mode == "subscribe"
            and settings.META_WEBHOOK_VERIFY_TOKEN
            and hmac.compare_digest(token.encode(), settings.META_WEBHOOK_VERIFY_TOKEN.encode())
        ):
            return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
        return HttpResponse("Verification failed.", status=403, content_type="text/plain")
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})

    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > settings.WEBHOOK_MAX_BYTES:
        return JsonResponse({"error": "Body too large."}, status=413)
    body = request.body
    if len(body) > settings.WEBHOOK_MAX_BYTES:
        return JsonResponse({"error": "Body too large."}, status=413)
    if not signature_is_valid(body, request.headers.get("X-Hub-Signature-256", "")):
        return _refuse_unsigned(client_ip(request))

    sealed, status, fields, problem = inspect_body(body)
    try:
        event_id = _store(sealed, status, fields, problem)
    except DatabaseError:
        logger.exception("webhook not stored: database unavailable")
        return JsonResponse({"error": "Temporarily unavailable."}, status=503)
    if not problem:
        enqueue_processing(event_id)
    return JsonResponse({"received": True})
