"""`make bench-webhooks`: webhook intake and processing under load, end to end, in three modes.

Starts throwaway PostgreSQL + Redis (or uses DATABASE_URL / REDIS_URL), migrates, loads the rate
cards (`seed_pricing`, as `make run` does), creates one workspace with one connected number, then
runs gunicorn (uvicorn workers, aerostic.asgi) with production settings and, before any load, the
RQ workers that process webhooks on the same cores: as many as `make run` and the Procfile start
(one `rqworker --with-scheduler`; it runs the drainer jobs, at most WEBHOOK_DRAINERS at once). Each
stage is one mode at one offered rate: a separate process (bench.loadgen) fires signed POSTs on a
fixed schedule for `--duration` seconds, then the bench waits until every stored event is
processed and checks what the database holds. Modes (`--modes`):

- `inbound`: each POST carries one new inbound text message (rates: `--rates`, POSTs/s);
- `status1`: each POST carries one status update (rates: `--rates`);
- `status100`: each POST carries 100 status updates in one change's `statuses` array, as Meta
  batches them under load (rates: `--batch-rates`, POSTs/s).

Statuses are for outbound messages seeded before the load (bench/statuses.py: half a campaign's
recipients, half one-off API sends, written by the send path's own writes and the inbox's
`outbound_store_many`). Per message: `delivered` (with Meta's `pricing` object), then `read`; a
`sent` for every tenth and a second `delivered` for every twentieth (bench.loadgen.status_schedule).
Each names its `recipient_id`, `timestamp` and the send's `biz_opaque_callback_data`.

    python -m bench.webhooks [--modes inbound,status1,status100] [--rates 100,500,1000,2000]
                             [--batch-rates 10,40] [--duration 10] [--web-workers N] [--rq-workers N]
                             [--drain-after] [--drain-timeout 600] [--smoke]

Columns, one row per stage:
- offered/s, answered/s: requests offered per second; 200 answers per second over the schedule's
  length (requests / rate), or from the first request's due time to the last answer when that
  took longer;
- p50 / p95 / p99 ms: ACK latency from when each request was due (a server falling behind shows);
- errors: answers other than 200 and failed connections;
- updates: updates offered (inbound messages or statuses: requests × per POST, re-deliveries
  included); offered upd/s: the same per second;
- processed/s: updates carried by the stage's events that processing finished (status processed
  or ignored), divided by the seconds from the first request's due time to the last of those
  events' `processed_at`. Processing runs during the load, on the intake's cores: a stage offered
  faster than processing goes shows processing's sustained rate, a slower one its offered rate;
- drain s: from the last answer to the last `processed_at` (the backlog the load left behind);
- lost: inbound: acknowledged requests whose event or message was not stored; statuses:
  acknowledged (wamid, status) pairs with no MessageStatusEvent row, plus messages (inbox row or
  campaign recipient) short of the furthest status acknowledged for them (every message whose
  `read` was acknowledged must end `read`);
- dup: inbound: events stored twice and messages beyond one per wamid; statuses: MessageStatusEvent
  rows beyond one per (wamid, status) and billing charges beyond one per message;
- notes: error kinds, dead events, messages billed out of those whose `delivered` was acknowledged.

Then the targets, each with its measured value and whether it is met:
- status updates processed ≥ 3,300/s sustained: the best processed/s of the status stages (one
  offered below 3,300/s cannot show it);
- inbound messages processed ≥ 1,000/s: the best processed/s of the inbound stages;
- the backlog after a 60 s burst drains within 10 s: the longest drain of the stages offered no
  more than those rates; shorter stages are named as such (`--duration 60` tests the target);
- intake ACK p99 < 50 ms at 1,000 req/s while processing runs: the worst such stage;
- ≥ 2,000 req/s answered with 0 errors at 2,000 offered: the worst such stage (answered/s within
  1 % of the offered rate counts: the last answer always lands just after the schedule ends);
- 0 lost, 0 duplicated in every row.

Exits non-zero on anything lost or duplicated, a dead event or a drain past `--drain-timeout` (with
`--smoke` also on any error), never on a speed target; stops with the reason when the web server,
a worker or Redis stopped before or during a stage (its figures would mean nothing).
`--drain-after` starts the workers only after each stage's load (the web tier alone, as when the
workers run on other machines).
"""
