"""`WebhookRouter`: the follower that writes a delivery row for each webhook an event matches.

Webhooks are few (an admin's configuration) and are read once per batch; each event is matched
against them in memory, and the rows are written in bulk at the end of the batch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import DictRow

from domain.project import Project
from domain.ticket import Ticket
from domain.webhook import ALL_TYPES, Webhook
from eventlog.reading import EVENTS_TABLE, HOME_SCHEMA, Recorded
from eventlog.topics import WEBHOOK_TYPES, event_topic, event_type
from projections.base import ReadModel
from projections.webhooks.schema import CHANNEL, INDEXES, TABLES

Cur = Cursor[DictRow]


def delivery_id(webhook_id: UUID, position: int, replay: int | None = None) -> UUID:
    """Stable for one (webhook, event): the `webhook-id` every attempt of it carries. A replay's
    deliveries are new ones, told apart by the position of the replay's request."""
    key = f"{webhook_id}:{position}" + (f":replay:{replay}" if replay is not None else "")
    return UUID(hashlib.md5(key.encode(), usedforsecurity=False).hexdigest())


@dataclass
class Target:
    id: UUID
    event_types: tuple[str, ...]
    project_id: UUID | None

    def wants(self, type_name: str, project_id: UUID | None) -> bool:
        if type_name not in WEBHOOK_TYPES:
            return False
        if self.event_types != (ALL_TYPES,) and type_name not in self.event_types:
            return False
        return self.project_id is None or self.project_id == project_id

    def topics(self) -> list[str]:
        names = WEBHOOK_TYPES if self.event_types == (ALL_TYPES,) else self.event_types
        return [event_topic(name) for name in names if name in WEBHOOK_TYPES]


class WebhookRouter(ReadModel):
    name = "webhooks"
    revision = 1
    rebuildable = False
    # Every event: a webhook may take them all.
    topics = ()
    tables = TABLES
    indexes = INDEXES

    def apply(self, cur: Cur, events: Sequence[Recorded]) -> None:
        batch = _Batch(cur)
        for recorded in events:
            batch.route(recorded)
        batch.flush()


class _Batch:
    def __init__(self, cur: Cur) -> None:
        self.cur = cur
        self.targets = {
            row["id"]: Target(row["id"], tuple(row["event_types"]), row["project_id"])
            for row in cur.execute(
                "SELECT id, event_types, project_id FROM webhook_targets"
            ).fetchall()
        }
        self.projects: dict[UUID, UUID] = {}
        self.rows: list[tuple[Any, ...]] = []

    def route(self, recorded: Recorded) -> None:
        event = recorded.event
        if isinstance(event, Webhook.Event):
            self._configure(event, recorded.position)
        if isinstance(event, Ticket.Created):
            self.projects[event.originator_id] = event.project_id
            self.cur.execute(
                "INSERT INTO webhook_tickets (id, project_id) VALUES (%s, %s) "
                "ON CONFLICT DO NOTHING",
                (event.originator_id, event.project_id),
            )
        if not self.targets:
            return
        type_name = event_type(cast(Any, type(event)).TOPIC)
        project_id = self._project_of(event)
        for target in self.targets.values():
            if event.originator_id != target.id and target.wants(type_name, project_id):
                self.rows.append((delivery_id(target.id, recorded.position), target.id,
                                  recorded.position, type_name))

    def _project_of(self, event: Any) -> UUID | None:
        if isinstance(event, Project.Event):
            return UUID(str(event.originator_id))
        if not isinstance(event, Ticket.Event):
            return None
        ticket_id: UUID = event.originator_id
        if ticket_id not in self.projects:
            row = self.cur.execute(
                "SELECT project_id FROM webhook_tickets WHERE id = %s", (ticket_id,), prepare=True
            ).fetchone()
            if row is None:
                return None
            self.projects[ticket_id] = row["project_id"]
        return self.projects[ticket_id]

    def _configure(self, event: Webhook.Event, position: int) -> None:
        webhook_id: UUID = event.originator_id
        match event:
            case Webhook.Created():
                self.cur.execute(
                    "INSERT INTO webhook_targets (id, url, event_types, project_id, created_at, "
                    "created_position) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    (webhook_id, event.url, list(event.event_types), event.project_id,
                     event.timestamp, position),
                )
                self.targets[webhook_id] = Target(webhook_id, event.event_types, event.project_id)
            case Webhook.UrlChanged():
                self._update(webhook_id, "url", event.url)
            case Webhook.EventTypesChanged():
                self._update(webhook_id, "event_types", list(event.event_types))
                if webhook_id in self.targets:
                    self.targets[webhook_id].event_types = event.event_types
            case Webhook.Paused() | Webhook.Resumed():
                self._update(webhook_id, "active", isinstance(event, Webhook.Resumed))
            case Webhook.ReplayRequested():
                self._replay(webhook_id, event.after_position, position)
            case Webhook.Deleted():
                self.flush()
                self.targets.pop(webhook_id, None)
                self.cur.execute("DELETE FROM webhook_deliveries WHERE webhook_id = %s",
                                 (webhook_id,))
                self.cur.execute("DELETE FROM webhook_targets WHERE id = %s", (webhook_id,))

    def _update(self, webhook_id: UUID, column: str, value: Any) -> None:
        self.cur.execute(
            sql.SQL("UPDATE webhook_targets SET {} = %s WHERE id = %s").format(
                sql.Identifier(column)
            ),
            (value, webhook_id),
        )

    def _replay(self, webhook_id: UUID, after: int, upto: int) -> None:
        """New deliveries for the matching events in (after, upto), written after every row
        the webhook has so far: the rows of this batch first."""
        target = self.targets.get(webhook_id)
        if target is None:
            return
        self.flush()
        scope = sql.SQL("")
        params: dict[str, Any] = {"webhook": webhook_id, "after": after, "upto": upto,
                                  "topics": target.topics(), "prefix": f"{webhook_id}:"}
        if target.project_id is not None:
            scope = sql.SQL(
                " AND (e.originator_id = %(project)s OR e.originator_id IN "
                "(SELECT id FROM webhook_tickets WHERE project_id = %(project)s))"
            )
            params["project"] = target.project_id
        self.cur.execute(
            sql.SQL(
                "INSERT INTO webhook_deliveries (id, webhook_id, position, event_type) "
                "SELECT md5(%(prefix)s || e.notification_id || ':replay:' || %(upto)s)::uuid, "
                "%(webhook)s, e.notification_id, substr(e.topic, {prefix_length}) "
                "FROM {events} e WHERE e.notification_id > %(after)s "
                "AND e.notification_id < %(upto)s AND e.topic = ANY(%(topics)s) "
                "AND e.originator_id <> %(webhook)s{scope} "
                "ORDER BY e.notification_id ON CONFLICT DO NOTHING"
            ).format(
                prefix_length=sql.Literal(len(event_topic("")) + 1),
                events=sql.Identifier(HOME_SCHEMA, EVENTS_TABLE),
                scope=scope,
            ),
            params,
        )
        self.cur.execute("SELECT pg_notify(%s, '')", (CHANNEL,))

    def flush(self) -> None:
        if not self.rows:
            return
        self.cur.executemany(
            "INSERT INTO webhook_deliveries (id, webhook_id, position, event_type) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
            self.rows,
        )
        self.rows = []
        # Delivered at commit.
        self.cur.execute("SELECT pg_notify(%s, '')", (CHANNEL,))
