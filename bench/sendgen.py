"""Load generator for one-off sends, each its own `POST /api/v1/messages` (run as its own process by
bench.dispatch, so its CPU is not the bench's and the bench's polling does not slow it).

Two ways to offer the load:
- `--rate R` (open loop, as bench.loadgen): request i is due at start + i / R whatever the server
  does; its latency counts from when it was due, so a server falling behind shows in the p99
  instead of slowing the load down. At most `--connections` requests are in flight.
- `--rate 0` (closed loop, "as fast as possible"): `--connections` clients each send the next
  request as soon as their previous one is answered; latency is each request's round trip.

Request i sends the approved template to the new recipient `+(first + i)` with its own
`Idempotency-Key`. With `--replay-every K`, every K-th accepted request is sent once more with the
same key right after its 202, as a client that lost the answer would: the second answer must name
the same message. The API token comes in the BENCH_API_TOKEN environment variable (not in argv,
where `ps` shows it). Prints one JSON object on stdout: per request [index, status, message id or
null, wall-clock time of the answer (s since the epoch, to compare with `sent_at`), latency (s)].
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadgen import Pool, run_client  # noqa: E402

TRANSPORT_ERRORS = (OSError, TimeoutError, IndexError, ValueError, asyncio.IncompleteReadError)


def build_request(args: argparse.Namespace, token: str, index: int) -> bytes:
    body = json.dumps(
        {"phone_number_id": args.phone_number_id, "to": f"+{args.first + index}", "template_id": args.template_id}
    ).encode()
    head = (
        f"POST /api/v1/messages HTTP/1.1\r\nHost: {args.host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nAuthorization: Bearer {token}\r\nX-Tenant: {args.tenant}\r\n"
        f"Idempotency-Key: {args.tag}-{index}\r\nX-Forwarded-Proto: https\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


def message_id(status: int, body: bytes) -> int | None:
    if status != 202:
        return None
    try:
        return int(json.loads(body)["id"])
    except (ValueError, KeyError, TypeError):
        return None


async def one(pool: Pool, args: argparse.Namespace, index: int, request: bytes, since: float, results: dict) -> None:
    try:
        status, body = await pool.exchange(request)
    except TRANSPORT_ERRORS as error:
        results["errors"][type(error).__name__] = results["errors"].get(type(error).__name__, 0) + 1
        return
    answered = time.time()
    first_id = message_id(status, body)
    results["answers"].append([index, status, first_id, answered, time.perf_counter() - since])
    if first_id is None or not args.replay_every or index % args.replay_every:
        return
    try:
        status, body = await pool.exchange(request)
    except TRANSPORT_ERRORS as error:
        kind = f"replay {type(error).__name__}"
        results["errors"][kind] = results["errors"].get(kind, 0) + 1
        return
    results["replays"].append([index, first_id, status, message_id(status, body)])


async def run(args: argparse.Namespace) -> dict:
    token = os.environ["BENCH_API_TOKEN"]
    requests = [build_request(args, token, index) for index in range(args.count)]
    results: dict = {"offered": args.count, "answers": [], "replays": [], "errors": {}}
    pool = Pool(args.host, args.port, args.connections)
    started_wall, start = time.time() + 0.2, time.perf_counter() + 0.2
    await asyncio.sleep(0.2)
    if args.rate > 0:
        tasks = []
        for index, request in enumerate(requests):
            due = start + index / args.rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(pool, args, index, request, due, results)))
        await asyncio.gather(*tasks)
    else:
        pending = iter(enumerate(requests))

        async def client() -> None:
            for index, request in pending:  # one shared iterator: each request is taken once
                await one(pool, args, index, request, time.perf_counter(), results)

        await asyncio.gather(*(client() for _ in range(args.connections)))
    results["started"] = started_wall
    results["elapsed"] = time.perf_counter() - start
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tenant", required=True, help="the workspace's slug (X-Tenant)")
    parser.add_argument("--phone-number-id", type=int, required=True)
    parser.add_argument("--template-id", type=int, required=True)
    parser.add_argument("--first", type=int, required=True, help="the first recipient's number, digits")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True, help="requests per second; 0: as fast as possible")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--tag", required=True, help="prefix of the idempotency keys (new per run)")
    parser.add_argument("--replay-every", type=int, default=0)
    args = parser.parse_args()
    json.dump(run_client(run(args)), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
