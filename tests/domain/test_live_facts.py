"""Watching, messages, read marks and the email preference: given events, when a command, then
events or an error; and the watcher rule on its own."""

from __future__ import annotations

from uuid import UUID

from domain.conversation import Message, takes_part
from domain.errors import InvalidFields
from domain.reading import ReadMark, notification_mark_id
from domain.ticket import Ticket
from domain.user import User
from domain.values import MESSAGE_MAX, EmailPreference
from domain.visibility import TicketAudience, audience_after
from domain.watching import Involvement, Watch, chose, involved, is_watcher, watch_id
from tests.domain.given import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    PROJECT_ID,
    TICKET_ID,
    a_ticket,
    a_user,
    given,
    stamp,
    when,
)

TICKET = TicketAudience(project_id=PROJECT_ID, reporter_id=CAROL, assignee_ids=(ALICE,))
NOTIFICATION = UUID("00000000-0000-4000-8000-0000000e0e0e")


# --- the watcher rule --------------------------------------------------------------------------


def test_reporter_assignees_and_commenters_watch_without_asking() -> None:
    assert is_watcher(CAROL, TICKET, None)
    assert is_watcher(ALICE, TICKET, None)
    assert is_watcher(BOB, TICKET, Involvement(commented=True))
    assert not is_watcher(DAVE, TICKET, None)


def test_a_choice_overrides_involvement_both_ways() -> None:
    assert not is_watcher(CAROL, TICKET, chose(None, False))
    assert not is_watcher(BOB, TICKET, chose(Involvement(commented=True), False))
    assert is_watcher(DAVE, TICKET, chose(None, True))


def test_involvement_after_choosing_not_to_watch_counts_again() -> None:
    stopped = chose(Involvement(commented=True), False)
    assert is_watcher(BOB, TICKET, involved(stopped, commented=True))
    assert is_watcher(ALICE, TICKET, involved(chose(None, False)))


def test_involvement_keeps_a_choice_to_watch() -> None:
    assert involved(chose(None, True)).choice is True


# --- audiences ---------------------------------------------------------------------------------


def test_the_audience_follows_creation_and_assignment_only() -> None:
    stream = (
        a_ticket(actor_id=CAROL, assignee_ids=(ALICE,))
        .add(Ticket.TitleChanged, old_title="Fix the database", title="Fix it")
        .add(Ticket.AssigneesChanged, old_assignee_ids=(ALICE,), assignee_ids=(BOB,),
             added=(BOB,), removed=(ALICE,))
    )
    audiences = []
    audience = None
    for event in stream:
        audience = audience_after(audience, event)
        audiences.append(audience)
    assert audiences == [
        TicketAudience(PROJECT_ID, CAROL, (ALICE,)),
        TicketAudience(PROJECT_ID, CAROL, (ALICE,)),
        TicketAudience(PROJECT_ID, CAROL, (BOB,)),
    ]


# --- Watch -------------------------------------------------------------------------------------


def test_a_first_choice_creates_the_watch_of_that_ticket_and_user() -> None:
    (event,) = when(None, Watch.choose, ticket_id=TICKET_ID, watching=False,
                    stamp=stamp(CAROL)).then(
        (Watch.Chosen, {"ticket_id": TICKET_ID, "user_id": CAROL, "watching": False})
    )
    assert event.originator_id == watch_id(TICKET_ID, CAROL)


def test_changing_ones_mind_records_started_or_stopped_and_repeating_nothing() -> None:
    watch = when(None, Watch.choose, ticket_id=TICKET_ID, watching=True).subject
    when(watch, watch.change, True).then_nothing()
    when(watch, watch.change, False).then((Watch.Stopped, {"ticket_id": TICKET_ID,
                                                           "user_id": ALICE}))
    when(watch, watch.change, True).then(Watch.Started)
    assert watch.watching


# --- Message -----------------------------------------------------------------------------------


def test_a_message_is_trimmed_and_names_its_ticket_and_author() -> None:
    message_id = UUID("00000000-0000-4000-8000-0000000aaaaa")
    when(None, Message.post, message_id=message_id, ticket_id=TICKET_ID,
         body="  hello  ").then((Message.Posted, {"ticket_id": TICKET_ID, "body": "hello"}))


def test_a_message_is_1_to_4000_characters() -> None:
    for body in ("   ", "x" * (MESSAGE_MAX + 1)):
        when(None, Message.post, message_id=TICKET_ID, ticket_id=TICKET_ID,
             body=body).then_error(InvalidFields, fields=["body"])
    when(None, Message.post, message_id=TICKET_ID, ticket_id=TICKET_ID,
         body="x" * MESSAGE_MAX).then(Message.Posted)


def test_the_reporter_and_current_assignees_take_part_and_nobody_else() -> None:
    assert takes_part(CAROL, TICKET)
    assert takes_part(ALICE, TICKET)
    assert not takes_part(BOB, TICKET)


# --- ReadMark ----------------------------------------------------------------------------------


def test_reading_a_notification_has_one_mark_per_notification() -> None:
    (event,) = when(None, ReadMark.notification_read, NOTIFICATION).then(
        (ReadMark.NotificationRead, {"notification_id": NOTIFICATION, "actor_id": ALICE})
    )
    assert event.originator_id == notification_mark_id(NOTIFICATION)


def test_reading_all_is_a_mark_of_its_own_command() -> None:
    mark = stamp()
    (event,) = when(None, ReadMark.all_read, 42, stamp=mark).then(
        (ReadMark.AllRead, {"up_to_position": 42})
    )
    assert event.originator_id == mark.command_id


# --- email preference --------------------------------------------------------------------------


def test_a_user_starts_with_each_change_and_records_a_new_preference_only() -> None:
    user: User = given(a_user())
    assert user.email_preference is EmailPreference.EACH_CHANGE
    when(user, user.choose_email, EmailPreference.EACH_CHANGE).then_nothing()
    when(user, user.choose_email, EmailPreference.DAILY_DIGEST).then(
        (User.EmailPreferenceChanged, {"old_preference": EmailPreference.EACH_CHANGE,
                                       "preference": EmailPreference.DAILY_DIGEST})
    )
    assert user.email_preference is EmailPreference.DAILY_DIGEST
