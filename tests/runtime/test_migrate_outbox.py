"""Migration 0030 on an outbox installed before it: the email preference and the digest's table
are added to the live outbox, and its public views show them; the outbox then works."""

from __future__ import annotations

import uuid

import psycopg

from projections.outbox import Outbox
from projections.rebuild import install
from runtime.embedded import postgres_env
from runtime.migrate import migrate
from tests.services import create_scratch_database

MIGRATION = "0030.outbox-digest"


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
