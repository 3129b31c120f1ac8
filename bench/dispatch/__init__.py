"""`make bench-sends`: one-off template sends, each its own `POST /api/v1/messages`, end to end.

Starts throwaway PostgreSQL + Redis (or uses DATABASE_URL / REDIS_URL), the Graph API simulator
(`manage.py meta_simulator`, webhooks kept in its memory), the web server as production runs it
(gunicorn + uvicorn workers, production settings: bench.stack) and K `rqworker sends
--with-scheduler` workers. It creates one workspace connected to the simulator's sandbox through the
real services, with a member whose JWT (from `POST /api/v1/auth/token/`, as an integrator gets one)
authenticates the sends. The load comes from a separate process (bench.sendgen): request i sends the
approved `hello_world` template (UTILITY) to a new recipient with its own `Idempotency-Key`; every
`--replay-every`-th accepted request is sent again with the same key (a client that lost the
answer), and the second 202 must name the same message. After the load, the bench waits until no
accepted message is queued or sending. `sweep_outbound` runs in this process every `--sweep-every`
s throughout (60, as production's cron runs it: a sweep also hands every message queued for over a
minute to the queue again, so a faster cadence floods a backlog with extra jobs). Scenarios:

- `burst`: N sends offered as fast as `--connections` clients can (closed loop): how many the API
  accepts per second and how fast the pipeline sends them. Limits lifted: the workspace's
  per-minute limit, the number at throughput level HIGH (Meta's 1,000 msg/s), TIER_UNLIMITED.
- `paced100`: 100 sends a second for 10 s on a fixed schedule (open loop, bench.loadgen's way):
  the time from each 202 to Meta's acceptance. The limits stay in force at what a customer sending
  at that rate has: HIGH, TIER_UNLIMITED (every recipient is new), and a per-minute limit of twice
  the offered rate (a UTC-minute window: the burst's sends in the same minute count too).

The web server's API throttles (API_USER_RATE, API_TENANT_RATE) are lifted for the whole run: they
would refuse the load long before the pipeline is tested. Everything else is production's own
configuration; `--web-workers` (gunicorn workers) and `--web-pool-size` (the web server's
DB_POOL_MAX_SIZE: its pooled database connections per process) change the web tier. The web
server logs to .data/logs/bench-sends-web.log and the workers to .data/logs/bench-sends-workers.log;
the last error in each is printed after the tables (the web server's when any answer was not a 202).

    python -m bench.dispatch [--scenarios burst,paced100] [--burst 5000] [--connections 50]
                             [--paced-rate 100] [--paced-seconds 10] [--workers 2] [--web-workers 2]
                             [--web-pool-size N] [--replay-every 100] [--timeout 300]

First table: requests offered, offering rate (`max`: closed loop), 202s and other answers (HTTP
status or connection error), seconds of offering (first request due → last answer), accepted/s
(202s / those seconds), API p50/p99 in ms (paced: from when each request was due, so a server
falling behind shows; burst: each request's round trip), seconds from the last answer until no
message was open, sent msg/s from the first to the last `sent_at` ((sent − 1) / span), p50/p99 from
the client's receipt of the 202 to the row's `sent_at` (the same machine's clock), duplicates
(simulator sends beyond one per recipient, plus replays answered with another message), lost
(accepted, not open, not failed or skipped, and never received by the simulator), stuck (still
queued or sending at `--timeout`).

Second table, per accepted message: CPU ms of all RQ workers, of the simulator and of the web server
(user + system time of each process tree over the scenario, from /proc), Postgres ms (the
statements' execution time from pg_stat_statements when installed; otherwise the server processes'
CPU time when this bench started Postgres) and transactions committed (pg_stat_database; both
include this process's polling and sweeping), the largest worker's RSS at the end, the sweeper's
requeues and the messages' final states.

Exits non-zero on duplicates, lost or stuck messages in every mode (and with `--smoke` on any
answer but 202), never on the speed targets, which are printed beside the figures.
"""
