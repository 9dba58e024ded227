"""A password-reset token lives in the outbox only while its email may still be sent: once the
email is sent or has failed for good, neither the token nor the link that carries it is kept."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import psycopg
import pytest

from projections.outbox.rows import enqueue_password_reset
from tests.email.support import Mailbox

pytestmark = pytest.mark.usefixtures("notifier", "worker")

DB = psycopg.Connection[tuple[object, ...]]


def _wait(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _row(db: DB, email_id: uuid.UUID) -> tuple[object, ...]:
    row = db.execute("SELECT status, payload::text FROM outbox WHERE id = %s",
                     (email_id,)).fetchone()
    assert row is not None
    return row


@pytest.mark.parametrize("outcome", ["sent", "failed"])
def test_a_reset_token_is_not_kept_once_its_email_is_done(
    db: DB, mailbox: Mailbox, outcome: str
) -> None:
    address = f"reset-{outcome}-{uuid.uuid4().hex[:8]}@example.com"
    if outcome == "failed":
        # The server refuses the address for good: the email fails at once.
        mailbox.answers[address] = "550 no such mailbox"
    token = f"secret-{uuid.uuid4().hex}"
    email_id = enqueue_password_reset(db, uuid.uuid4(), address, "Reset Me", token,
                                      f"http://trail.test/password-reset/confirm?token={token}")
    _wait(lambda: _row(db, email_id)[0] == outcome)
    _, payload = _row(db, email_id)
    assert token not in str(payload)
