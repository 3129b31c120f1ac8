"""Open-loop load generator for signed webhook POSTs (run as its own process by bench.webhooks).

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
from typing import Any


def signed_body(args: argparse.Namespace, index: int) -> tuple[bytes, str]:
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": args.waba_id,
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {"display_phone_number": "15550100100", "phone_number_id": args.phone_id},
                                "contacts": [{"profile": {"name": "Bench"}, "wa_id": f"1650555{index % 9000:04d}"}],
                                "messages": [
                                    {
                                        "from": f"1650555{index % 9000:04d}",
                                        "id": f"wamid.{args.tag}.{index}",
                                        "timestamp": str(int(time.time())),
                                        "type": "text",
                                        "text": {"body": "Is my order on its way?"},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
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
    total = int(args.rate * args.duration)
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
    for index, request in enumerate(requests):
        due = start + index / args.rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(pool, index, request, due, results)))
    await asyncio.gather(*tasks)
    results["elapsed"] = time.perf_counter() - start
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
    args = parser.parse_args()
    json.dump(run_client(run(args)), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
