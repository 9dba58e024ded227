"""Migrations of an outbox installed before them: 0030 adds the email preference and the
digest's table, 0050 the attempt columns and the 'sending' state; the public views show them and
the outbox then works."""

from __future__ import annotations

import uuid

import psycopg

from projections.outbox import Outbox
from projections.outbox.rows import enqueue_password_reset
from projections.rebuild import install
from runtime.embedded import postgres_env
from runtime.migrate import migrate
from tests.services import create_scratch_database

MIGRATION = "0030.outbox-digest"
ATTEMPTS = "0050.outbox-attempts"


def test_0030_upgrades_an_outbox_installed_before_it(database_url: str) -> None:
    url = create_scratch_database(database_url, f"t_migrate_outbox_{uuid.uuid4().hex[:8]}")
    migrate(url)
    install(Outbox, postgres_env(url))
    with psycopg.connect(url, autocommit=True) as conn:
        # The outbox as it was before 0030, and 0030 not applied yet.
        conn.execute("DROP VIEW outbox_digest_items, outbox_users")
        conn.execute("DROP TABLE rm_outbox_v1.outbox_digest_items")
        conn.execute("ALTER TABLE rm_outbox_v1.outbox_users DROP COLUMN email_preference")
        conn.execute("CREATE VIEW outbox_users AS SELECT * FROM rm_outbox_v1.outbox_users")
        conn.execute("DELETE FROM _yoyo_migration WHERE migration_id = %s", (MIGRATION,))

    assert migrate(url) == [MIGRATION]

    with psycopg.connect(url, autocommit=True) as conn:
        user_id = uuid.uuid4()
        conn.execute("INSERT INTO outbox_users (id, name, email, active) "
                     "VALUES (%s, 'Ann', 'ann@example.com', true)", (user_id,))
        preference = conn.execute("SELECT email_preference FROM outbox_users WHERE id = %s",
                                  (user_id,)).fetchone()
        assert preference == ("each_change",)
        assert conn.execute("SELECT count(*) FROM outbox_digest_items").fetchone() == (0,)
        indexes = conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = "
                               "'rm_outbox_v1' AND tablename = 'outbox_digest_items'").fetchall()
        assert ("outbox_digest_waiting",) in indexes


def test_0050_gives_an_installed_outbox_its_attempt_columns(database_url: str) -> None:
    url = create_scratch_database(database_url, f"t_migrate_outbox_{uuid.uuid4().hex[:8]}")
    migrate(url)
    install(Outbox, postgres_env(url))
    with psycopg.connect(url, autocommit=True) as conn:
        # The outbox as it was before 0050, and 0050 not applied yet.
        conn.execute("DROP VIEW outbox")
        conn.execute("DROP INDEX rm_outbox_v1.outbox_sending, "
                     "rm_outbox_v1.outbox_deferred_by_outage")
        conn.execute("ALTER TABLE rm_outbox_v1.outbox DROP COLUMN attempted_at, "
                     "DROP COLUMN outage, DROP COLUMN released, "
                     "DROP CONSTRAINT outbox_status_check")
        conn.execute("ALTER TABLE rm_outbox_v1.outbox ADD CONSTRAINT outbox_status_check "
                     "CHECK (status IN ('pending', 'queued', 'sent', 'failed'))")
        conn.execute("CREATE VIEW outbox AS SELECT * FROM rm_outbox_v1.outbox")
        email_id = enqueue_password_reset(conn, uuid.uuid4(), "old@example.com", "Old", "t",
                                          "http://trail.test/reset")
        conn.execute("DELETE FROM _yoyo_migration WHERE migration_id = %s", (ATTEMPTS,))

    assert migrate(url) == [ATTEMPTS]

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE outbox SET status = 'sending', attempted_at = now() WHERE id = %s",
                     (email_id,))
        row = conn.execute("SELECT status, outage, released FROM outbox WHERE id = %s",
                           (email_id,)).fetchone()
        assert row == ("sending", False, False)
        indexes = {name for (name,) in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'rm_outbox_v1' "
            "AND tablename = 'outbox'").fetchall()}
        assert {"outbox_sending", "outbox_deferred_by_outage"} <= indexes
