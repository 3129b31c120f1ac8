"""Inbox: conversations and the partitioned message store (the team inbox and AI auto-reply are
issues to come). whatsapp never imports it: the inbox registers itself as whatsapp's message store
and as a consumer of what the send path sent (whatsapp.fanout, from InboxConfig.ready()).

- `conversations.py`: one conversation per (number, customer), the 24-hour window;
- `inbound.py`: customers' messages, in bulk;
- `outbound.py`: what the business sent (the send path, echoes) and history syncs;
- `statuses.py`: statuses kept once and folded into their messages monotonically;
- `rows.py`: the wamid claim and the Message row shared by those writers;
- `payloads.py`, `partitions.py`, `reindexing.py`: what a row keeps, its partitions, index rewrites.
"""
