"""The notifications model's tables: the notifications themselves, and what the projector
remembers in log order to write them (tickets' keys, titles and audiences, who watches what,
and users' names, roles and status at that point of the log)."""

from __future__ import annotations

NOTIFICATIONS_DDL = """
CREATE TABLE notifications (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL,
    ticket_id uuid NOT NULL,
    ticket_key text NOT NULL,
    ticket_title text NOT NULL,
    actor_id uuid NOT NULL,
    summary text NOT NULL,
    changes jsonb NOT NULL,
    -- The command's last event on the ticket: orders the list and ties it to the log.
    position bigint NOT NULL,
    created_at timestamptz NOT NULL,
    read_at timestamptz
)
"""

TICKETS_DDL = """
CREATE TABLE notification_tickets (
    id uuid PRIMARY KEY,
    project_id uuid NOT NULL,
    key text NOT NULL,
    title text NOT NULL,
    reporter_id uuid NOT NULL,
    assignee_ids uuid[] NOT NULL,
    team_id uuid,
    -- The command of the last event applied: a command split by a batch boundary is
    -- notified once, when its first event is seen.
    last_command_id uuid NOT NULL
)
"""

WATCHERS_DDL = """
CREATE TABLE ticket_watchers (
    ticket_id uuid NOT NULL,
    user_id uuid NOT NULL,
    commented boolean NOT NULL,
    choice boolean,
    PRIMARY KEY (ticket_id, user_id)
)
"""

USERS_DDL = """
CREATE TABLE notification_users (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    role text NOT NULL,
    active boolean NOT NULL,
    team_ids uuid[] NOT NULL
)
"""

PROJECTS_DDL = "CREATE TABLE notification_projects (id uuid PRIMARY KEY, key text NOT NULL)"

TABLES = {
    "notifications": NOTIFICATIONS_DDL,
    "notification_tickets": TICKETS_DDL,
    "ticket_watchers": WATCHERS_DDL,
    "notification_users": USERS_DDL,
    "notification_projects": PROJECTS_DDL,
}

INDEXES = (
    "CREATE INDEX notifications_by_user ON notifications (user_id, position DESC, id DESC)",
    "CREATE INDEX notifications_unread ON notifications (user_id, position DESC, id DESC) "
    "WHERE read_at IS NULL",
    # The live streams read the notifications of a range of positions.
    "CREATE INDEX notifications_by_position ON notifications (position)",
)
