"""The relay's messages: the emails of one command travel together (their attempts and outcomes
are then recorded at once), an email of no command alone, and no message grows past
`EMAILS_PER_MESSAGE`."""

from __future__ import annotations

import uuid

from workers.relay import EMAILS_PER_MESSAGE, by_command


def test_one_message_per_command_and_one_per_email_of_no_command() -> None:
    a, b, c, d, e, f = (uuid.uuid4() for _ in range(6))
    due = [(a, 7), (b, 7), (c, None), (d, None), (e, 9), (f, 7)]
    assert by_command(due) == [[str(a), str(b)], [str(c)], [str(d)], [str(e)], [str(f)]]


def test_a_command_with_many_emails_is_cut_into_messages_of_the_most_allowed() -> None:
    ids = [uuid.uuid4() for _ in range(2 * EMAILS_PER_MESSAGE + 1)]
    messages = by_command([(i, 12) for i in ids])
    assert [len(m) for m in messages] == [EMAILS_PER_MESSAGE, EMAILS_PER_MESSAGE, 1]
    assert [i for m in messages for i in m] == [str(i) for i in ids]


def test_nothing_due_is_no_message() -> None:
    assert by_command([]) == []
