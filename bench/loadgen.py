"""Open-loop load generator for signed webhook POSTs (run as its own process by bench.webhooks).

What a request carries comes from a body factory chosen by `--mode`: `inbound` (request i is one
new inbound message, wamid.<tag>.<i>) or `status` (request i is the next `--per-post` updates of
`status_schedule` for the messages the bench seeded, listed in the `--messages` file).

Requests start on a fixed schedule whatever the server does (no coordinated omission): latency is
measured from the moment a request was due to the moment its answer arrived, so a server that
falls behind shows it in p99 instead of slowing the load down. At most `--connections`
requests are in flight (a sender's connection pool), on kept-alive connections where the server
allows; requests waiting for a connection still count their wait. Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import sys
import time
from pathlib import Path
from typing import Any

# --- what each request carries (Meta's shapes, copied here: the bench reads no outside samples)

STATUS_WINDOW = 50  # messages whose statuses travel together; their reads come one window later
PRICING = {"billable": True, "pricing_model": "PMP", "type": "regular"}  # on `delivered`, as Meta sends it


def request_count(rate: float, duration: float) -> int:
    """Requests a stage offers (the bench sizes what it seeds by it)."""
    return int(rate * duration)


def wamid(tag: str, index: int) -> str:
    """The id of the stage's message `index` (inbound: request `index`; statuses: seeded message `index`)."""
    return f"wamid.{tag}.{index}"


def status_schedule(count: int) -> list[tuple[int, str]]:
    """The first `count` status updates Meta reports for messages 0, 1, 2…, in order: per window of
    STATUS_WINDOW messages, `sent` for every tenth (a state the send path already wrote), `delivered`
    for each, then the previous window's `read`s and a second `delivered` for every twentieth of
    them (Meta re-delivers). Reads lag one window, as a customer opens a message after it arrives."""
    updates: list[tuple[int, str]] = []
    window = 0
    while len(updates) < count:
        current = range(window * STATUS_WINDOW, (window + 1) * STATUS_WINDOW)
        previous = range(max(0, window - 1) * STATUS_WINDOW, window * STATUS_WINDOW)
        updates += [(m, "sent") for m in current if m % 10 == 0]
        updates += [(m, "delivered") for m in current]
        updates += [(m, "read") for m in previous]
        updates += [(m, "delivered") for m in previous if m % 20 == 7]
        window += 1
    return updates[:count]


def inbound_value(args: argparse.Namespace, index: int) -> dict[str, Any]:
    """Request `index`: one new inbound text message from one of 9,000 customers."""
    sender = f"1650555{index % 9000:04d}"
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100100", "phone_number_id": args.phone_id},
        "contacts": [{"profile": {"name": "Bench"}, "wa_id": sender}],
        "messages": [
            {
                "from": sender,
                "id": wamid(args.tag, index),
                "timestamp": str(int(time.time())),
                "type": "text",
                "text": {"body": "Is my order on its way?"},
            }
        ],
    }


def status_value(args: argparse.Namespace, index: int) -> dict[str, Any]:
    """Request `index`: the next `--per-post` updates of the schedule in one change's `statuses`
    array, as Meta batches them under load; each names a seeded message (its recipient's digits,
    the sender's `biz_opaque_callback_data` echoed) and `delivered` carries the pricing."""
    statuses = []
    for message, status in args.schedule[index * args.per_post : (index + 1) * args.per_post]:
        recipient, callback, category = args.messages[message]
        item: dict[str, Any] = {
            "id": wamid(args.tag, message),
            "status": status,
            "timestamp": str(int(time.time())),
            "recipient_id": recipient,
        }
        if callback:
            item["biz_opaque_callback_data"] = callback
        if status == "delivered":
            item["pricing"] = {**PRICING, "category": category}
        statuses.append(item)
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100100", "phone_number_id": args.phone_id},
        "statuses": statuses,
    }


BODIES = {"inbound": inbound_value, "status": status_value}


def signed_body(args: argparse.Namespace, index: int) -> tuple[bytes, str]:
    value = BODIES[args.mode](args, index)
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": args.waba_id, "changes": [{"field": "messages", "value": value}]}],
        }
    ).encode()
    signature = "sha256=" + hmac.new(args.secret.encode(), body, hashlib.sha256).hexdigest()
    return body, signature


class Pool:
    """At most `size` connections, reused while the server keeps them open (HTTP/1.1 keep-alive,
    as Meta's delivery does); a server that closes after each answer just costs a new one."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port = host, port
        self.slots = asyncio.Semaphore(size)
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        """The answer's status and body; status 0 when a new connection closed without one."""
        async with self.slots:
            while self.idle:
                # A kept-alive connection the server has meanwhile closed answers nothing: like
                # any HTTP client, send again on the next one (the request was never taken).
                answer = await self._send(*self.idle.pop(), request, reused=True)
                if answer is not None:
                    return answer
            connection = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), timeout=10)
            answer = await self._send(*connection, request, reused=False)
            return answer or (0, b"")

    async def _send(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes, *, reused: bool
    ) -> tuple[int, bytes] | None:
        try:
            writer.write(request)
            await writer.drain()
            status_line = await asyncio.wait_for(reader.readline(), timeout=10)
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.close()
            if reused:
                return None
            raise
        if not status_line:
            writer.close()
            return None if reused else (0, b"")
        try:
            length, keep, body = 0, True, b""
            while True:
                line = await asyncio.wait_for(reader.readline(), timeout=10)
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value.strip())
                elif name.lower() == "connection" and value.strip().lower() == "close":
                    keep = False
            if length:
                body = await asyncio.wait_for(reader.readexactly(length), timeout=10)
        except BaseException:
            writer.close()
            raise
        if keep:
            self.idle.append((reader, writer))
        else:
            writer.close()
        return int(status_line.split()[1]), body


async def one(pool: Pool, index: int, request: bytes, due: float, results: dict) -> None:
    try:
        code, _ = await pool.exchange(request)
    except (OSError, TimeoutError, IndexError, ValueError, asyncio.IncompleteReadError) as error:
        results["errors"][type(error).__name__] = results["errors"].get(type(error).__name__, 0) + 1
        return
    results["latencies"].append(time.perf_counter() - due)
    if code == 200:
        results["ok"] += 1
        results["acked"].append(index)
    else:
        results["errors"][f"HTTP {code}"] = results["errors"].get(f"HTTP {code}", 0) + 1


async def run(args: argparse.Namespace) -> dict:
    total = request_count(args.rate, args.duration)
    requests = []
    for index in range(total):
        body, signature = signed_body(args, index)
        head = (
            f"POST /webhooks/meta/ HTTP/1.1\r\nHost: {args.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nX-Hub-Signature-256: {signature}\r\n"
            "X-Forwarded-Proto: https\r\nConnection: keep-alive\r\n\r\n"
        )
        requests.append(head.encode() + body)
    results: dict = {"sent": total, "ok": 0, "acked": [], "errors": {}, "latencies": []}
    tasks = []
    pool = Pool(args.host, args.port, args.connections)
    start = time.perf_counter() + 0.2
    # Wall-clock time of the first request's due time and of the last answer: the bench compares
    # them with the database's timestamps (same machine, same clock).
    results["started_wall"] = time.time() + (start - time.perf_counter())
    for index, request in enumerate(requests):
        due = start + index / args.rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(pool, index, request, due, results)))
    await asyncio.gather(*tasks)
    results["elapsed"] = time.perf_counter() - start
    results["ended_wall"] = time.time()
    return results


def run_client(coroutine: Any) -> Any:
    """Runs a load generator on uvloop when it is there (the web tier's event loop: a cheaper
    client leaves more CPU to the server), else on asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def main() -> int:
    parser = argparse.ArgumentParser()
    for name in ("host", "secret", "phone_id", "waba_id", "tag"):
        parser.add_argument(f"--{name.replace('_', '-')}", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--connections", type=int, default=200, help="most requests in flight at once")
    parser.add_argument("--mode", choices=sorted(BODIES), default="inbound")
    parser.add_argument("--per-post", type=int, default=1, help="status updates per request (status mode)")
    parser.add_argument(
        "--messages", help="status mode: JSON file, per seeded message [recipient digits, callback data, category]"
    )
    args = parser.parse_args()
    if args.mode == "status":
        args.messages = json.loads(Path(args.messages).read_text())
        args.schedule = status_schedule(request_count(args.rate, args.duration) * args.per_post)
    json.dump(run_client(run(args)), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
