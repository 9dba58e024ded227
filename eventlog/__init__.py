"""The event log: Trail's only source of truth, and everything about reading it.

    codec     how events are stored: plain JSON (msgspec), so analysts can read them with SQL
    topics    the registry of stored topics (every aggregate imported, so any event decodes)
    reading   the log in position order: the head, a batch after a position, one aggregate's
              events from a version
    audit     what auditors read straight from the log: a ticket's history, the ticket as it
              was at a version or a moment, the global log as `/events` shows it

Both sides use it: `commands/` writes through the codec, `projections/` and the API read
through `reading` and `audit`. It imports only `domain/`, eventsourcing and psycopg.
"""
