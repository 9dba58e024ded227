"""Background work: Dramatiq actors and what feeds them.

    notifier      the outbox follower and its relay, in one process
    relay         hands due outbox rows to the broker
    actors        `send_email`: renders and sends one outbox row, idempotently
    worker        an in-process Dramatiq worker for the email queue
    render        jinja2 templates -> a MIME message; transports: SMTP or .eml files
    broker, config   the Redis broker and the delivery knobs

It imports `projections/` (the outbox's rows and payloads) and `eventlog/`; never `commands/`,
`api/` or `runtime/`.
"""
