"""Background work: Dramatiq actors and what feeds them.

    notifier      the outbox follower and its relay, in one process
    relay         hands due outbox rows to the broker
    actors        `send_email`: renders and sends one command's outbox rows, idempotently
    worker        an in-process Dramatiq worker for the email queue
    render        jinja2 templates -> a MIME message; transports: SMTP or .eml files
    broker, config   the Redis broker and the delivery knobs
    schedule      jobs on a schedule, one run at a time across workers
    sweep         removes attachment bytes no attachment needs any more

It imports `projections/` (the outbox's rows and payloads, the attachments model), `eventlog/`
and `blobstore/`; never `commands/`, `api/` or `runtime/`.
"""
