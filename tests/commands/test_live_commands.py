"""Watching, conversations, read marks and preferences on the write side (real PostgreSQL)."""

from __future__ import annotations

import uuid

import pytest

from commands.errors import NotFound
from commands.messages import (
    AssignTicket,
    ChoosePreferences,
    MarkAllNotificationsRead,
    MarkNotificationRead,
    PostMessage,
    WatchTicket,
)
from commands.permissions import Actor
from commands.services import Commands
from domain.conversation import Message
from domain.errors import InvalidFields
from domain.reading import ReadMark
from domain.values import EmailPreference
from domain.watching import Watch, watch_id
from eventlog.reading import aggregate_events
from eventlog.topics import EVENT_TYPES, WEBHOOK_TYPES
from tests.commands.conftest import developer, project, reporter, ticket


@pytest.fixture(scope="module")
def people(app: Commands, admin: Actor) -> dict[str, Actor]:
    return {
        "admin": admin,
        "dev": developer(app, admin, "Dev One"),
        "dev2": developer(app, admin, "Dev Two"),
        "rita": reporter(app, "Rita Reporter"),
        "otto": reporter(app, "Otto Other"),
    }


@pytest.fixture(scope="module")
def project_id(app: Commands, people: dict[str, Actor]) -> uuid.UUID:
    return project(app, people["admin"])


def watch_events(app: Commands, ticket_id: uuid.UUID, user: Actor) -> list[str]:
    with app.store.datastore.get_connection() as conn:
        recorded = aggregate_events(conn, watch_id(ticket_id, user.id))  # type: ignore[arg-type]
    return [type(r.event).__name__ for r in recorded]


def test_watching_records_only_changes_and_never_touches_the_ticket(
    app: Commands, people: dict[str, Actor], project_id: uuid.UUID
) -> None:
    ticket_id = ticket(app, people["rita"], project_id)
    rita = people["rita"]
    for watching in (False, False, True, True, False):
        outcome = app.watching.choose(rita, WatchTicket(ticket_id=ticket_id, watching=watching))
        assert isinstance(outcome.aggregate, Watch)
    assert watch_events(app, ticket_id, rita) == ["Chosen", "Started", "Stopped"]
    assert app.tickets.get(rita, ticket_id).version == 1


def test_watching_a_ticket_one_may_not_see_is_not_found(
    app: Commands, people: dict[str, Actor], project_id: uuid.UUID
) -> None:
    ticket_id = ticket(app, people["rita"], project_id)
    with pytest.raises(NotFound):
        app.watching.choose(people["otto"], WatchTicket(ticket_id=ticket_id, watching=True))
    with pytest.raises(NotFound):
        app.watching.choose(people["otto"], WatchTicket(ticket_id=uuid.uuid4(), watching=True))


def test_only_the_reporter_and_current_assignees_post_messages(
    app: Commands, people: dict[str, Actor], project_id: uuid.UUID
) -> None:
    ticket_id = ticket(app, people["rita"], project_id)
    app.tickets.assign(people["admin"], AssignTicket(ticket_id=ticket_id,
                                                     user_ids=(people["dev"].id,)))
    for who in ("rita", "dev"):
        outcome = app.conversations.post(people[who], PostMessage(ticket_id=ticket_id,
                                                                  body=f"from {who}"))
        assert isinstance(outcome.aggregate, Message)
        assert outcome.aggregate.ticket_id == ticket_id
    for outsider in ("admin", "dev2", "otto"):
        with pytest.raises(NotFound):
            app.conversations.post(people[outsider], PostMessage(ticket_id=ticket_id, body="hi"))
    app.tickets.assign(people["admin"], AssignTicket(ticket_id=ticket_id,
                                                     user_ids=(people["dev2"].id,)))
    with pytest.raises(NotFound):
        app.conversations.post(people["dev"], PostMessage(ticket_id=ticket_id, body="still?"))
    assert app.tickets.get(people["rita"], ticket_id).version == 3


def test_a_message_too_long_is_refused(
    app: Commands, people: dict[str, Actor], project_id: uuid.UUID
) -> None:
    ticket_id = ticket(app, people["rita"], project_id)
    with pytest.raises(InvalidFields):
        app.conversations.post(people["rita"], PostMessage(ticket_id=ticket_id, body="x" * 4001))


def test_marking_a_notification_twice_records_one_mark(
    app: Commands, people: dict[str, Actor]
) -> None:
    notification_id = uuid.uuid4()
    head = app.store.current_position()
    first = app.read_marks.mark_read(people["dev"], MarkNotificationRead(
        notification_id=notification_id))
    again = app.read_marks.mark_read(people["dev"], MarkNotificationRead(
        notification_id=notification_id))
    assert first == head + 1
    assert again == first


def test_marking_all_read_beyond_the_head_is_invalid(
    app: Commands, people: dict[str, Actor]
) -> None:
    head = app.store.current_position()
    outcome = app.read_marks.mark_all_read(people["dev"], MarkAllNotificationsRead(
        up_to_position=head))
    assert isinstance(outcome.aggregate, ReadMark)
    with pytest.raises(InvalidFields) as refused:
        app.read_marks.mark_all_read(people["dev"], MarkAllNotificationsRead(
            up_to_position=outcome.position + 1))
    assert refused.value.errors[0].field == "up_to_position"


def test_the_email_preference_is_a_user_event(app: Commands, people: dict[str, Actor]) -> None:
    dev = people["dev2"]
    before = app.accounts.user(dev.id).version
    app.accounts.choose_preferences(dev, ChoosePreferences(email=EmailPreference.OFF))
    app.accounts.choose_preferences(dev, ChoosePreferences(email=EmailPreference.OFF))
    user = app.accounts.user(dev.id)
    assert user.email_preference is EmailPreference.OFF
    assert user.version == before + 1


def test_messages_never_go_to_a_webhook_and_the_other_facts_may() -> None:
    assert "Message.Posted" in EVENT_TYPES
    assert "Message.Posted" not in WEBHOOK_TYPES
    assert {"Watch.Chosen", "ReadMark.AllRead", "User.EmailPreferenceChanged"} <= WEBHOOK_TYPES
