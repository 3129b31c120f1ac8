"""`make bench-inbox`: the team inbox's reads at a busy workspace's size, through the portal.

Starts throwaway PostgreSQL + Redis (or uses DATABASE_URL / REDIS_URL), migrates, and writes one
workspace with 100,000 conversations and 1,000,000 messages through the real models and the monthly
partitions (rows built as the message store builds them, inserted in bulk; one conversation holds
500 messages), with assignments, teams, labels and unread counts spread over them. Then gunicorn
serves the portal as production runs it (aerostic.asgi, production settings), an agent's session
signs the requests in, and each scenario is requested many times over HTTP:

- the list: each view (all, mine, unassigned, team), a state (resolved), each filter (number,
  label, team, unread, window open), and the next page by keyset cursor;
- search by full number (blind index), by a customer's name and by a word of message text;
- opening the conversation with 500 messages (its latest page of the timeline);
- the "changed since" poll every open page makes every 2 seconds (unchanged: no query).

    python -m bench.inbox [--conversations 100000] [--messages 1000000] [--requests 200] [--workers 2]

Columns: requests; p50 / p95 / max milliseconds over HTTP; rows on the page; SQL queries per
request (counted in this process through Django's test client against the same database, at page
sizes 10 and 50: the count must not grow with the page). Target: p95 < 50 ms for every scenario.
"""
