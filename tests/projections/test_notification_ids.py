"""A notification's id follows from its command, ticket and user (read marks name it, and a
rebuild must give the same ids): the per-command shortcut makes exactly the same ones."""

from __future__ import annotations

from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from projections.notifications.ids import notification_id, notification_ids


@given(st.uuids(), st.uuids(), st.lists(st.uuids(), max_size=5))
def test_the_ids_of_one_commands_recipients_are_the_ids_of_each(
    command_id: UUID, ticket_id: UUID, users: list[UUID]
) -> None:
    id_of = notification_ids(command_id, ticket_id)
    assert [id_of(str(u)) for u in users] == [
        str(notification_id(command_id, ticket_id, u)) for u in users]
