"""The one send path: every WhatsApp message any part of Aerostic sends goes through here.

- `rules.py`: the ordered rules over a list of send requests (a single send is a list of one):
  kill-switches → the number connected and active → `can_send` + the 24-hour window → the template
  sendable → limits (the number's bucket, the workspace's quota, the 6-second pair limit, the
  portfolio's messaging limit) → the claim.
- `limits.py`: those limits in Redis, one round trip per limit for a whole chunk (the Redis
  machinery and its fail-closed error are whatsapp/ratelimits.py's).
- `chain.py`: a number's stream, chunk by chunk, over a `Source` of rows; one lock per stream, one
  re-enqueue protocol.
- `sender.py`: each chunk's steps (`NumberSender`): the gate before every chunk, tokens, rules and
  claim in one transaction committed before Meta is called, concurrent Graph calls on one
  keep-alive session, outcomes written in bulk while the next chunk is on the wire (and what was
  sent handed to whatsapp.fanout's `on_sent` consumers, the inbox's message store, in the same
  transaction).
- `ledger.py`: the state tables of sends and the only code that moves their states (the claim, the
  outcome writes, `unknown` after a lost worker, the settle from a status) — and why a campaign's
  audience keeps its own table.
- `failures.py`: what Meta's errors mean (the one classification) and what they set off.

Senders are sources of rows: one-off sends (whatsapp/dispatch.py: API, inbox replies, keyword
confirmations, and AI replies and automations next) and campaign batches (campaigns/engine/).
"""
