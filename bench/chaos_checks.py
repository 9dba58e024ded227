"""What bench/chaos.py checks once the system has settled: every accepted command is in the log,
every read model equals a replay of the log, every email arrived once or as a duplicate with the
same Message-ID. Each check returns its figures and the violations it found."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

import psycopg
from psycopg import sql

from projections.base import schema_name
from projections.catalog import READ_MODELS
from projections.rebuild import rebuild
from runtime.embedded import postgres_env


@dataclass
class Accepted:
    """A command the API answered 2xx: where it says its last event is, and on what."""

    position: int
    aggregate: UUID | None


@dataclass
class Report:
    figures: dict[str, object] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)


def accepted_are_in_the_log(database_url: str, accepted: list[Accepted]) -> Report:
    report = Report()
    with psycopg.connect(database_url) as conn:
        rows = dict(conn.execute(
            "SELECT notification_id, originator_id FROM trail_events "
            "WHERE notification_id = ANY(%s)", ([a.position for a in accepted],)).fetchall())
        head = conn.execute("SELECT coalesce(max(notification_id), 0) FROM trail_events"
                            ).fetchone()
    missing = [a for a in accepted if a.position not in rows]
    wrong = [a for a in accepted if a.position in rows and a.aggregate is not None
             and rows[a.position] != a.aggregate]
    report.figures.update(accepted=len(accepted), events=head[0] if head else 0,
                          events_lost=len(missing), wrong_aggregate=len(wrong))
    if missing:
        report.violations.append(f"{len(missing)} accepted commands are not in the log, e.g. "
                                 f"position {missing[0].position}")
    if wrong:
        report.violations.append(f"{len(wrong)} accepted positions hold another aggregate's "
                                 f"event, e.g. {wrong[0].position}")
    return report


def _snapshot(conn: psycopg.Connection[tuple[object, ...]], name: str,
              tables: list[str]) -> dict[str, list[str]]:
    row = conn.execute("SELECT version FROM projection_versions WHERE name = %s",
                       (name,)).fetchone()
    assert row is not None, f"read model {name} is not installed"
    schema = schema_name(name, int(str(row[0])))
    return {table: [r[0] for r in conn.execute(
        sql.SQL("SELECT t::text FROM {} AS t ORDER BY 1").format(sql.Identifier(schema, table))
    ).fetchall()] for table in tables}


def read_models_equal_a_replay(database_url: str) -> Report:
    """Each model as the live projector left it, against a new version built from position 0
    (the blue/green rebuild, which then goes live: the system is idle by now)."""
    report = Report()
    env = postgres_env(database_url)
    mismatched = []
    for model in READ_MODELS:
        tables = list(model.tables)
        with psycopg.connect(database_url, autocommit=True) as conn:
            live = _snapshot(conn, model.name, tables)
        rebuild(model, env)
        with psycopg.connect(database_url, autocommit=True) as conn:
            replayed = _snapshot(conn, model.name, tables)
        for table in tables:
            if live[table] != replayed[table]:
                extra = set(live[table]) - set(replayed[table])
                lacking = set(replayed[table]) - set(live[table])
                mismatched.append(f"{model.name}.{table}: {len(extra)} rows only live, "
                                  f"{len(lacking)} only in the replay")
    report.figures.update(read_models=len(READ_MODELS), read_model_mismatches=len(mismatched))
    report.violations.extend(f"read model differs from a replay: {m}" for m in mismatched)
    return report


def emails_arrived(database_url: str, record: Path) -> Report:
    """The SMTP sink's record (one `outbox_id message_id rcpt` line per accepted recipient)
    against the outbox: every row sent and received, copies only with the row's Message-ID."""
    report = Report()
    copies: dict[str, list[str]] = defaultdict(list)
    for line in record.read_text().splitlines():
        outbox_id, message_id, _ = line.split(" ", 2)
        copies[outbox_id].append(message_id)
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT id::text, status, attempts FROM outbox").fetchall()
    statuses: dict[str, int] = defaultdict(int)
    for _, status, _ in rows:
        statuses[str(status)] += 1
    ids = {str(r[0]) for r in rows}
    lost = [i for i, status, _ in rows if status == "sent" and i not in copies]
    unsent = [i for i, status, _ in rows if status != "sent"]
    foreign = [i for i in copies if i not in ids]
    other_ids = [i for i, ms in copies.items() if len(set(ms)) > 1]
    duplicates = sum(len(ms) - 1 for ms in copies.values())
    report.figures.update(outbox_rows=len(rows), emails_received=sum(map(len, copies.values())),
                          emails_lost=len(lost), emails_unsent=len(unsent),
                          duplicates_same_message_id=duplicates - len(other_ids),
                          duplicates_other_message_id=len(other_ids),
                          outbox_statuses=dict(statuses))
    if lost:
        report.violations.append(f"{len(lost)} emails marked sent never arrived, e.g. {lost[0]}")
    if unsent:
        report.violations.append(f"{len(unsent)} emails not sent after settling, e.g. "
                                 f"{unsent[0]}")
    if foreign:
        report.violations.append(f"{len(foreign)} emails arrived for no outbox row")
    if other_ids:
        report.violations.append(f"{len(other_ids)} emails arrived twice with different "
                                 "Message-IDs")
    return report
