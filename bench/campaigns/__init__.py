"""`make bench-dispatch`: one campaign to 20,000 recipients through the batch engine, end to end.

Starts throwaway PostgreSQL + Redis (or uses DATABASE_URL / REDIS_URL) and the Graph API simulator
(`manage.py meta_simulator`, webhooks kept in its memory), migrates, creates one workspace connected
to the simulator's sandbox with an approved template taking two variables (first name, an order
attribute), then for each scenario: N new contacts in a new list, a draft campaign, K
`rqworker campaigns --with-scheduler` processes started and parked (RQ suspended), the launch
(checks + audience snapshot + batch jobs enqueued at commit; timed), RQ resumed, and a wait until
the campaign is completed. Scenarios:

- `unlimited`: SANDBOX_RATE_LIMITS off (the number's token bucket lifted): the engine's own speed
  (target ≥ 1,000 msg/s, Meta's ceiling for one number, with the simulator on the same cores);
- `bucket80`, `bucket250`: the number's bucket at 80 / 250 msg/s (`send_rate_limit`): the achieved
  rate must be within ±5 %;
- `snapshot`: only the launch of a campaign to N (default 100,000) contacts, then cancelled:
  the snapshot must take < 10 s.

    python -m bench.campaigns [--scenarios unlimited,bucket80,bucket250,snapshot]
                              [--recipients 20000] [--snapshot-recipients 100000] [--workers 2]

Columns: launch seconds (checks + snapshot + commit); seconds from resuming RQ until completed;
msg/s from the first to the last `sent_at` ((sent − 1) / span); p50 / p99 claim → sent in ms (the
Graph call in a chunk plus the bulk write after it); worker CPU ms per message (all workers' user +
system time / N); largest worker RSS at the end; duplicates (simulator sends beyond one per
recipient) and lost (recipients the simulator never got whose row is not failed or skipped).
"""
