"""The webhook follower's tables: the webhooks as the log has configured them, the tickets'
projects (for webhooks of one project), and the deliveries."""

from __future__ import annotations

# NOTIFYed when deliveries become due (written, or retried): wakes the deliverer at once.
CHANNEL = "trail_webhooks"

TABLES = {
    "webhook_targets": """
        CREATE TABLE webhook_targets (
            seq bigint GENERATED ALWAYS AS IDENTITY,
            id uuid PRIMARY KEY,
            url text NOT NULL,
            event_types text[] NOT NULL,
            project_id uuid,
            active boolean NOT NULL DEFAULT true,
            created_at timestamptz NOT NULL,
            -- The log position of its Created event: it receives what comes after.
            created_position bigint NOT NULL
        )""",
    "webhook_tickets": """
        CREATE TABLE webhook_tickets (id uuid PRIMARY KEY, project_id uuid NOT NULL)""",
    "webhook_deliveries": """
        CREATE TABLE webhook_deliveries (
            -- The order a webhook's deliveries are sent in.
            seq bigint GENERATED ALWAYS AS IDENTITY,
            -- The `webhook-id` header: the same for every attempt of this delivery.
            id uuid PRIMARY KEY,
            webhook_id uuid NOT NULL,
            position bigint NOT NULL,
            event_type text NOT NULL,
            status text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'delivered', 'failed')),
            attempts integer NOT NULL DEFAULT 0,
            last_status_code integer,
            last_error text,
            created_at timestamptz NOT NULL DEFAULT now(),
            next_attempt_at timestamptz NOT NULL DEFAULT now(),
            delivered_at timestamptz
        )""",
}
INDEXES = (
    # A webhook's next delivery: the first pending one in order.
    "CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook_id, seq) "
    "WHERE status = 'pending'",
    "CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, seq)",
    "CREATE INDEX webhook_deliveries_failed ON webhook_deliveries (webhook_id) "
    "WHERE status = 'failed'",
)
