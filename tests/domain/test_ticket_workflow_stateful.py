"""Random command sequences against one Ticket, checked against a model kept apart from the domain.

Invariants after every step: the status is one of the four and the one the model expects, the
version equals the number of events recorded so far, and replaying those events from scratch (in
memory and through the JSON event mapper the event store uses) gives an equal aggregate. A
refused command (illegal transition, invalid field, someone else's comment) records nothing and
leaves the aggregate exactly as it was.
"""

from __future__ import annotations

import copy
import re
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)

from domain.errors import DomainError, InvalidFields, NotCommentAuthor, TransitionNotAllowed
from domain.ticket import Ticket
from domain.values import Priority, Status, TicketType
from eventlog.codec import JsonEventMapper
from tests.domain.given import AT, PROJECT_ID, TICKET_ID, edit, replay, stamp, state

USERS = [UUID(int=i) for i in range(1, 5)]
LEGAL = {
    ("open", "in_progress"), ("open", "closed"),
    ("in_progress", "open"), ("in_progress", "resolved"), ("in_progress", "closed"),
    ("resolved", "closed"), ("resolved", "in_progress"),
    ("closed", "open"),
}
TAG = re.compile(r"[a-z0-9-]{1,40}")

letters = st.text(alphabet="ab Z\t", max_size=6)
titles = st.one_of(
    letters,
    st.integers(195, 205).map(lambda n: " " + "t" * n + " "),
)
# Blank ones included: a blank description that is sent clears it, as `None` does.
descriptions = st.one_of(letters, st.just("d" * 20_001), st.just(" " + "d" * 20_000 + " "))
tag_lists = st.lists(
    st.one_of(
        st.sampled_from(["ui", "db", "api", " ui ", "a-1", "x" * 40]),
        st.sampled_from(["", "Bad", "a_b", "x" * 41, "two words"]),
    ),
    max_size=4,
) | st.lists(st.from_regex(TAG, fullmatch=True), min_size=19, max_size=23)
due_dates = st.one_of(st.none(), st.dates(date(2026, 1, 1), date(2026, 1, 5)))
bodies = st.one_of(letters, st.just("c" * 20_001))


def title_ok(title: str) -> bool:
    # One line: a tab inside is a control character (an outer one is trimmed away).
    return 1 <= len(title.strip()) <= 200 and "\t" not in title.strip()


def tags_ok(tags: list[str]) -> bool:
    clean = list(dict.fromkeys(t.strip() for t in tags))
    return len(clean) <= 20 and all(TAG.fullmatch(t) for t in clean)


class TicketWorkflow(RuleBasedStateMachine):
    comments = Bundle("comments")

    def __init__(self) -> None:
        super().__init__()
        self.events: list[Any] = []
        self.tick = 0
        self.mapper = JsonEventMapper()
        self.ticket: Ticket
        self.model: dict[str, Any] = {}

    def _stamp(self, actor: UUID) -> Any:
        self.tick += 1
        return stamp(actor, at=AT + timedelta(seconds=self.tick), command_id=UUID(int=self.tick))

    @initialize(reporter=st.sampled_from(USERS), title=st.text("abc ", min_size=1).filter(
        lambda t: t.strip()))
    def open_ticket(self, reporter: UUID, title: str) -> None:
        self.ticket = Ticket.open(
            self._stamp(reporter), ticket_id=TICKET_ID, project_id=PROJECT_ID, number=1,
            title=title,
        )
        self.events.extend(self.ticket.collect_events())
        self.model = {"status": "open", "title": title.strip(), "priority": Priority.MEDIUM,
                      "tags": (), "due_date": None, "comments": {}, "description": None,
                      "type": TicketType.BUG, "assignee_ids": ()}

    # --- running a command -----------------------------------------------------------------

    def run(self, actor: UUID, command: Any, *args: Any, refused: type[DomainError] | None = None,
            **kwargs: Any) -> list[Any]:
        before = copy.deepcopy(state(self.ticket))
        version = self.ticket.version
        the_stamp = self._stamp(actor)
        try:
            command(the_stamp, *args, **kwargs)
        except DomainError as error:
            assert refused is not None, f"refused unexpectedly: {error!r}"
            assert isinstance(error, refused), f"expected {refused.__name__}, got {error!r}"
            assert self.ticket.collect_events() == []
            assert state(self.ticket) == before, "a refused command changed the ticket"
            return []
        assert refused is None, f"expected {refused.__name__}, it was accepted"
        new = list(self.ticket.collect_events())
        for offset, event in enumerate(new, start=1):
            assert event.originator_version == version + offset
            assert (event.actor_id, event.command_id, event.timestamp) == (
                the_stamp.actor_id, the_stamp.command_id, the_stamp.at,
            )
        self.events.extend(new)
        return new

    # --- rules -----------------------------------------------------------------------------

    @rule(actor=st.sampled_from(USERS), to=st.sampled_from(Status))
    def change_status(self, actor: UUID, to: Status) -> None:
        legal = (self.model["status"], to.value) in LEGAL
        new = self.run(actor, edit(self.ticket), status=to,
                       refused=None if legal else TransitionNotAllowed)
        if legal:
            assert [type(e) for e in new] == [Ticket.StatusChanged]
            assert new[0].old_status.value == self.model["status"]
            self.model["status"] = to.value
        else:
            assert new == []

    @rule(actor=st.sampled_from(USERS), title=titles)
    def change_title(self, actor: UUID, title: str) -> None:
        ok = title_ok(title)
        new = self.run(actor, edit(self.ticket), title=title,
                       refused=None if ok else InvalidFields)
        changed = ok and title.strip() != self.model["title"]
        assert [type(e) for e in new] == ([Ticket.TitleChanged] if changed else [])
        if changed:
            self.model["title"] = title.strip()

    @rule(actor=st.sampled_from(USERS), description=descriptions)
    def change_description(self, actor: UUID, description: str) -> None:
        ok = len(description.strip()) <= 20_000
        new = self.run(actor, edit(self.ticket), description=description,
                       refused=None if ok else InvalidFields)
        if ok:
            clean = description.strip() or None
            changed = clean != self.model["description"]
            assert [type(e) for e in new] == ([Ticket.DescriptionChanged] if changed else [])
            self.model["description"] = clean

    @rule(actor=st.sampled_from(USERS))
    def clear_description(self, actor: UUID) -> None:
        new = self.run(actor, edit(self.ticket), description=None)
        changed = self.model["description"] is not None
        assert [type(e) for e in new] == ([Ticket.DescriptionChanged] if changed else [])
        self.model["description"] = None

    @rule(actor=st.sampled_from(USERS), priority=st.sampled_from(Priority))
    def change_priority(self, actor: UUID, priority: Priority) -> None:
        new = self.run(actor, edit(self.ticket), priority=priority)
        changed = priority is not self.model["priority"]
        assert [type(e) for e in new] == ([Ticket.PriorityChanged] if changed else [])
        self.model["priority"] = priority

    @rule(actor=st.sampled_from(USERS), kind=st.sampled_from(TicketType))
    def change_type(self, actor: UUID, kind: TicketType) -> None:
        new = self.run(actor, edit(self.ticket), type=kind)
        changed = kind is not self.model["type"]
        assert [type(e) for e in new] == ([Ticket.TypeChanged] if changed else [])
        self.model["type"] = kind

    @rule(actor=st.sampled_from(USERS), tags=tag_lists)
    def change_tags(self, actor: UUID, tags: list[str]) -> None:
        ok = tags_ok(tags)
        new = self.run(actor, edit(self.ticket), tags=tags, refused=None if ok else InvalidFields)
        if ok:
            clean = tuple(dict.fromkeys(t.strip() for t in tags))
            changed = clean != self.model["tags"]
            assert [type(e) for e in new] == ([Ticket.TagsChanged] if changed else [])
            self.model["tags"] = clean

    @rule(actor=st.sampled_from(USERS), due=due_dates)
    def change_due_date(self, actor: UUID, due: date | None) -> None:
        new = self.run(actor, edit(self.ticket), due_date=due)
        changed = due != self.model["due_date"]
        assert [type(e) for e in new] == ([Ticket.DueDateChanged] if changed else [])
        self.model["due_date"] = due

    @rule(actor=st.sampled_from(USERS), title=titles, to=st.sampled_from(Status),
          tags=tag_lists, priority=st.sampled_from(Priority))
    def change_many(self, actor: UUID, title: str, to: Status, tags: list[str],
                    priority: Priority) -> None:
        """One edit of several fields is all or nothing."""
        valid = title_ok(title) and tags_ok(tags)
        legal = (self.model["status"], to.value) in LEGAL
        refused: type[DomainError] | None = (
            InvalidFields if not valid else None if legal else TransitionNotAllowed
        )
        new = self.run(actor, edit(self.ticket), title=title, status=to, tags=tags,
                       priority=priority, refused=refused)
        if refused is None:
            assert Ticket.StatusChanged in [type(e) for e in new]
            assert len({e.command_id for e in new}) == 1
            self.model.update(status=to.value, title=title.strip(), priority=priority,
                              tags=tuple(dict.fromkeys(t.strip() for t in tags)))

    @rule(actor=st.sampled_from(USERS), assignees=st.lists(st.sampled_from(USERS), max_size=5))
    def assign(self, actor: UUID, assignees: list[UUID]) -> None:
        old = self.ticket.assignee_ids
        (event,) = self.run(actor, self.ticket.assign, assignees)
        wanted = tuple(dict.fromkeys(assignees))
        assert event.assignee_ids == wanted
        assert set(event.added) == set(wanted) - set(old)
        assert set(event.removed) == set(old) - set(wanted)
        self.model["assignee_ids"] = wanted

    @rule(target=comments, author=st.sampled_from(USERS), body=bodies, n=st.integers(0, 10**6))
    def comment(self, author: UUID, body: str, n: int) -> Any:
        ok = 1 <= len(body.strip()) <= 20_000
        comment_id = UUID(int=10**9 + self.tick * 10**7 + n)
        new = self.run(author, self.ticket.comment, comment_id, body,
                       refused=None if ok else InvalidFields)
        if not ok:
            return multiple()
        assert [type(e) for e in new] == [Ticket.Commented]
        self.model["comments"][comment_id] = (author, body.strip())
        return comment_id

    @rule(comment_id=comments, actor=st.sampled_from(USERS), body=bodies)
    def edit_comment(self, comment_id: UUID, actor: UUID, body: str) -> None:
        author, old_body = self.model["comments"][comment_id]
        ok = 1 <= len(body.strip()) <= 20_000
        refused: type[DomainError] | None = (
            NotCommentAuthor if actor != author else None if ok else InvalidFields
        )
        new = self.run(actor, self.ticket.edit_comment, comment_id, body, refused=refused)
        if refused is None:
            changed = body.strip() != old_body
            assert [type(e) for e in new] == ([Ticket.CommentEdited] if changed else [])
            self.model["comments"][comment_id] = (author, body.strip())

    @rule(comment_id=consumes(comments))
    def forget_comment(self, comment_id: UUID) -> None:
        """Keeps the bundle small; the comment stays on the ticket."""
        assert comment_id in self.ticket.comments

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def status_is_legal_and_as_modelled(self) -> None:
        assert self.ticket.status in set(Status)
        assert self.ticket.status.value == self.model["status"]
        assert self.ticket.title == self.model["title"]
        assert self.ticket.tags == self.model["tags"]
        assert self.ticket.due_date == self.model["due_date"]
        assert self.ticket.description == self.model["description"]
        assert self.ticket.priority is self.model["priority"]
        assert self.ticket.type is self.model["type"]
        assert self.ticket.assignee_ids == self.model["assignee_ids"]
        assert {c: (x.author_id, x.body) for c, x in self.ticket.comments.items()} == (
            self.model["comments"]
        )

    @invariant()
    def version_is_the_number_of_events(self) -> None:
        assert self.ticket.version == len(self.events)
        assert [e.originator_version for e in self.events] == list(
            range(1, len(self.events) + 1)
        )
        assert self.ticket.updated_at == (
            None if len(self.events) == 1 else self.events[-1].timestamp
        )

    @invariant()
    def replaying_the_events_gives_the_same_ticket(self) -> None:
        assert state(replay(self.events)) == state(self.ticket)

    @invariant()
    def replaying_stored_events_gives_the_same_ticket(self) -> None:
        stored = [self.mapper.to_stored_event(e) for e in self.events]
        assert state(replay(self.mapper.to_domain_event(s) for s in stored)) == state(self.ticket)


TicketWorkflow.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
test_ticket_workflow = TicketWorkflow.TestCase
