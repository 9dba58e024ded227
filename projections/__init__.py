"""The read side: read models and other followers of the event log, and the queries the API
answers from.

Each read model is one module (or package) holding its tables, its projector and its queries:
`tickets`, `comments`, `attachments`, `users`, `projects`, `stats`; the email `outbox` is a follower
of its own (never rebuilt). Queries take a psycopg `Connection` with `row_factory=dict_row` and
read the stable public views (`tickets`, `comments`, `attachments`, `users`, `projects`,
`ticket_facts`, `outbox`). Lists return `paging.Page[T]` (`items`, `next_cursor`) and raise
`errors.InvalidQuery(field, message)` for a bad `limit`, `sort` or `cursor` (422 naming it).
Each model's views are also built from aggregates (`view_of`), so a command answers with the
same shape as a query.

The machinery: `base` (what a read model is), `runner` (`trail projector`: one runner per model,
exactly once, resumable), `rebuild` and `versions` (blue/green rebuilds), `positions`
(`Trail-Min-Position` and lag), `bulk` (set-based writes), `paging` (keyset cursors).

It imports `domain/` and `eventlog/`; never `commands/` (read models derive from the log, not
from the write service), nor HTTP.
"""
