"""The outbox's tables: the emails, and the little the projector remembers of users, projects
and tickets to write them (names, keys, titles, assignees) in log order."""

from __future__ import annotations

# NOTIFYed when rows become due (written, or re-queued): wakes the relay without polling.
CHANNEL = "trail_outbox"

# A live outbox got `attempted_at`, `outage`, `released`, the 'sending' state and their indexes
# from runtime/migrations/0050.outbox-attempts.sql: change both together.
TABLES = {
    "outbox": """
        CREATE TABLE outbox (
            seq bigint GENERATED ALWAYS AS IDENTITY,
            id uuid PRIMARY KEY,
            command_id uuid NOT NULL,
            recipient_id uuid NOT NULL,
            kind text NOT NULL,
            ticket_id uuid,
            -- The command's last event: correlates an email with the log (and the benchmark).
            position bigint,
            recipient_email text NOT NULL,
            subject text NOT NULL,
            payload jsonb NOT NULL,
            status text NOT NULL DEFAULT 'pending'
                CONSTRAINT outbox_status_check
                CHECK (status IN ('pending', 'queued', 'sending', 'sent', 'failed')),
            attempts integer NOT NULL DEFAULT 0,
            last_error text,
            created_at timestamptz NOT NULL DEFAULT now(),
            -- The row's own schedule: when its next try is due.
            next_attempt_at timestamptz NOT NULL DEFAULT now(),
            queued_at timestamptz,
            -- When the attempt under way (status 'sending') or the last one began: recorded and
            -- committed before the email goes to the server.
            attempted_at timestamptz,
            -- The last failure was the server being unreachable, not a refusal of this email.
            outage boolean NOT NULL DEFAULT false,
            -- Handed over before its own time: a send that worked, or the relay's probe, says
            -- the outage that deferred it may be over.
            released boolean NOT NULL DEFAULT false,
            sent_at timestamptz,
            CONSTRAINT outbox_command_recipient UNIQUE (command_id, recipient_id)
        )""",
    "outbox_users": """
        CREATE TABLE outbox_users (
            id uuid PRIMARY KEY,
            name text NOT NULL,
            email text NOT NULL,
            active boolean NOT NULL,
            email_preference text NOT NULL DEFAULT 'each_change'
        )""",
    "outbox_projects": "CREATE TABLE outbox_projects (id uuid PRIMARY KEY, key text NOT NULL)",
    "outbox_tickets": """
        CREATE TABLE outbox_tickets (
            id uuid PRIMARY KEY,
            project_id uuid NOT NULL,
            number integer NOT NULL,
            title text NOT NULL,
            assignee_ids uuid[] NOT NULL,
            -- The command of the last event applied: tells the first event of a command from
            -- the rest, in the same transaction, even when a batch boundary split the command.
            last_command_id uuid NOT NULL
        )""",
    # Changes held for the daily digest of the users who chose it. A live outbox got it from
    # runtime/migrations/0030.outbox-digest.sql: change both together.
    "outbox_digest_items": """
        CREATE TABLE outbox_digest_items (
            seq bigint GENERATED ALWAYS AS IDENTITY,
            -- The id the change's email would have had: (command, recipient).
            id uuid PRIMARY KEY,
            recipient_id uuid NOT NULL,
            ticket_id uuid NOT NULL,
            -- When the change happened: the day whose digest lists it.
            at timestamptz NOT NULL,
            -- The change as its email would have told it (a TicketEmail).
            payload jsonb NOT NULL,
            -- The digest email that listed it; NULL while it waits.
            digest_id uuid
        )""",
}

INDEXES = (
    "CREATE INDEX outbox_digest_waiting ON outbox_digest_items (at) WHERE digest_id IS NULL",
    "CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending'",
    "CREATE INDEX outbox_in_flight ON outbox (queued_at) WHERE status = 'queued'",
    "CREATE INDEX outbox_sending ON outbox (attempted_at) WHERE status = 'sending'",
    "CREATE INDEX outbox_deferred_by_outage ON outbox (seq) WHERE status = 'pending' AND outage",
    "CREATE INDEX outbox_by_status ON outbox (status, seq)",
    "CREATE INDEX outbox_by_ticket ON outbox (ticket_id, seq)",
)
