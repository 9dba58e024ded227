"""For random command sequences, the read models built live (in random small batches, interleaved
with the commands) equal the ones a rebuild produces, and both say what folding the aggregates
says."""

from __future__ import annotations

import contextlib
import statistics
from collections import Counter
from datetime import date
from typing import Any
from uuid import UUID

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.rows import DictRow

from commands.errors import CommandError
from commands.messages import (
    ArchiveProject,
    AssignTicket,
    ChangeUser,
    CommentOnTicket,
    CreateProject,
    CreateTeam,
    CreateTicket,
    EditComment,
    EditTicket,
    LinkTickets,
    ReviseProject,
    SetTeamMembers,
    UnlinkTickets,
)
from commands.permissions import Actor
from commands.services import Commands
from domain.errors import DomainError
from domain.links import LinkType
from domain.project import Project
from domain.team import Team
from domain.ticket import Ticket
from domain.user import User
from domain.values import DONE, UNRESOLVED, Priority, Role, Status, TicketType
from domain.visibility import Viewer
from projections.catalog import READ_MODELS
from projections.comments import list_comments
from projections.paging import Page
from projections.projects import get_project
from projections.rebuild import rebuild
from projections.stats import StatsFilters, stats
from projections.teams import get_team
from projections.tickets import Progress, get_ticket
from projections.users import get_user
from tests import log
from tests.projections.conftest import People, project_all, snapshot

Conn = psycopg.Connection[DictRow]

words = st.text(alphabet="ab xyz", min_size=0, max_size=8)
title = st.text(alphabet="abxyz", min_size=1, max_size=8)
pick = st.integers(min_value=0, max_value=1_000)
fields = st.fixed_dictionaries({}, optional={
    "title": title,
    "description": st.none() | words,
    "status": st.sampled_from(Status),
    "priority": st.sampled_from(Priority),
    "type": st.sampled_from(TicketType),
    "tags": st.lists(st.sampled_from(["a", "b", "c-1"]), max_size=3).map(tuple),
    "due_date": st.none() | st.dates(date(2030, 1, 1), date(2030, 1, 9)),
})
new_ticket = st.tuples(st.just("ticket"), pick, pick, fields)
edit = st.tuples(st.just("edit"), pick, pick, fields)
comment = st.tuples(st.just("comment"), pick, pick, title)
# Ticket work dominates, as in real use; project and user changes come now and then.
operations = st.one_of(
    new_ticket, new_ticket, edit, edit, edit, comment, comment,
    st.tuples(st.just("assign"), pick, st.lists(pick, max_size=3)),
    st.tuples(st.just("edit_comment"), pick, title),
    st.tuples(st.just("project"), pick),
    st.tuples(st.just("revise"), pick, words),
    st.tuples(st.just("archive"), pick),
    st.tuples(st.just("rename"), pick, words),
    st.tuples(st.just("link"), pick, pick, st.sampled_from(LinkType)),
    st.tuples(st.just("unlink"), pick, pick),
    st.tuples(st.just("parent"), pick, st.none() | pick),
    st.tuples(st.just("team"), pick),
    st.tuples(st.just("members"), pick, st.lists(pick, max_size=3)),
    st.tuples(st.just("ticket_team"), pick, st.none() | pick),
)


class World:
    """What the commands so far made, so operations can refer to it by index."""

    def __init__(self, app: Commands, people: People) -> None:
        self.app = app
        self.actors = [people.admin, people.dev, people.dev2, people.reporter]
        self.workers = [people.admin, people.dev, people.dev2]
        self.projects: list[UUID] = []
        self.tickets: list[UUID] = []
        self.comments: list[tuple[UUID, UUID, Actor]] = []
        self.teams: list[UUID] = []
        self.serial = 0
        self._project(0)
        self._ticket(0, 1, {})

    def run(self, op: tuple[Any, ...]) -> None:
        # Refused commands record nothing; an op on something not made yet does nothing.
        with contextlib.suppress(DomainError, CommandError, IndexError, ZeroDivisionError):
            getattr(self, f"_{op[0]}")(*op[1:])

    def _project(self, n: int) -> None:
        self.serial += 1
        name = f"Project {n} {self.serial} {self.app.store.current_position()}"
        self.projects.append(self.app.projects.create(self.actors[0], CreateProject(name=name)).id)

    def _ticket(self, p: int, a: int, f: dict[str, Any]) -> None:
        create = {k: v for k, v in f.items() if k != "status"}
        command = CreateTicket(project_id=self.projects[p % len(self.projects)],
                               **{"title": "t", **create})
        self.tickets.append(self.app.tickets.create(self.actors[a % 4], command).id)

    def _edit(self, t: int, a: int, f: dict[str, Any]) -> None:
        ticket_id = self.tickets[t % len(self.tickets)]
        self.app.tickets.edit(self.actors[a % 4], EditTicket(ticket_id=ticket_id, **f))

    def _assign(self, t: int, who: list[int]) -> None:
        users = tuple(self.workers[w % 3].id for w in who)
        ticket_id = self.tickets[t % len(self.tickets)]
        self.app.tickets.assign(self.actors[1], AssignTicket(ticket_id=ticket_id, user_ids=users))

    def _comment(self, t: int, a: int, body: str) -> None:
        ticket_id, actor = self.tickets[t % len(self.tickets)], self.actors[a % 4]
        outcome = self.app.tickets.comment(actor, CommentOnTicket(ticket_id=ticket_id, body=body))
        self.comments.append((ticket_id, outcome.id, actor))

    def _edit_comment(self, c: int, body: str) -> None:
        ticket_id, comment_id, actor = self.comments[c % len(self.comments)]
        self.app.tickets.edit_comment(actor, EditComment(ticket_id=ticket_id, comment_id=comment_id,
                                                 body=body))

    def _revise(self, p: int, name: str) -> None:
        project_id = self.projects[p % len(self.projects)]
        self.app.projects.revise(self.actors[0], ReviseProject(
            project_id=project_id, name=f"Renamed {name} {self.serial}", description=name or None))

    def _archive(self, p: int) -> None:
        # The first project stays open, so ticket work always has somewhere to happen.
        project_id = self.projects[1 + p % (len(self.projects) - 1)]
        self.app.projects.archive(self.actors[0], ArchiveProject(project_id=project_id))

    def _link(self, t: int, u: int, kind: LinkType) -> None:
        this, other = self.tickets[t % len(self.tickets)], self.tickets[u % len(self.tickets)]
        self.app.links.add(self.actors[1], LinkTickets(ticket_id=this, type=kind, other_id=other))

    def _unlink(self, t: int, n: int) -> None:
        ticket_id = self.tickets[t % len(self.tickets)]
        links = self.app.tickets.get(self.actors[0], ticket_id).links
        self.app.links.remove(self.actors[1], UnlinkTickets(ticket_id=ticket_id,
                                                            link_id=links[n % len(links)].id))

    def _parent(self, t: int, p: int | None) -> None:
        ticket_id = self.tickets[t % len(self.tickets)]
        parent_id = None if p is None else self.tickets[p % len(self.tickets)]
        self.app.tickets.edit(self.actors[1], EditTicket(ticket_id=ticket_id, parent_id=parent_id))

    def _team(self, lead: int) -> None:
        self.serial += 1
        name = f"Team {self.serial} {self.app.store.current_position()}"
        command = CreateTeam(name=name, lead_id=self.actors[lead % 4].id)
        self.teams.append(self.app.teams.create(self.actors[0], command).id)

    def _members(self, t: int, who: list[int]) -> None:
        team_id = self.teams[t % len(self.teams)]
        lead = self.app.teams.get(team_id).lead_id
        users = tuple(dict.fromkeys([*([lead] if lead else []), *(self.actors[w % 4].id
                                                                  for w in who)]))
        self.app.teams.set_members(self.actors[0], SetTeamMembers(team_id=team_id,
                                                                  user_ids=users))

    def _ticket_team(self, t: int, team: int | None) -> None:
        ticket_id = self.tickets[t % len(self.tickets)]
        team_id = None if team is None else self.teams[team % len(self.teams)]
        self.app.tickets.edit(self.actors[0], EditTicket(ticket_id=ticket_id, team_id=team_id))

    def _rename(self, u: int, name: str) -> None:
        actor = self.actors[u % 4]
        self.app.accounts.change_user(actor, ChangeUser(user_id=actor.id, name=f"Name {name}"))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(operations, st.booleans()), min_size=5, max_size=40),
       batch_size=st.integers(min_value=1, max_value=7))
def test_live_equals_rebuilt_equals_the_aggregates(
    app: Commands, people: People, conn: Conn, trail_env: dict[str, str],
    steps: list[tuple[tuple[Any, ...], bool]], batch_size: int,
) -> None:
    world = World(app, people)
    for op, project_now in steps:
        world.run(op)
        if project_now:
            project_all(trail_env, batch_size)
    project_all(trail_env, batch_size)
    live = snapshot(conn)
    for model in READ_MODELS:
        rebuild(model, trail_env, batch_size=batch_size * 3)
    assert snapshot(conn) == live
    assert_read_models_fold_the_aggregates(app, conn, people)


def ids_of(conn: Conn, event: type[Any]) -> list[UUID]:
    rows = conn.execute("SELECT originator_id FROM trail_events WHERE topic = %s", (event.TOPIC,))
    return [row["originator_id"] for row in rows]


def everything(fetch: Any) -> list[Any]:
    items: list[Any] = []
    page: Page[Any] = fetch(None)
    items += page.items
    while page.next_cursor:
        page = fetch(page.next_cursor)
        items += page.items
    return items


def assert_read_models_fold_the_aggregates(app: Commands, conn: Conn, people: People) -> None:
    tickets = [app.store.repository.get(i) for i in ids_of(conn, Ticket.Created)]
    for ticket in tickets:
        children = [t for t in tickets if t.parent_id == ticket.id]
        assert_ticket(app, conn, people, ticket, children)
    for user_id in ids_of(conn, User.Registered):
        user = app.store.repository.get(user_id)
        view = get_user(conn, user_id)
        assert view is not None
        assert (view.name, view.email, view.role, view.status, view.created_at) == (
            user.name, user.email, user.role, user.status, user.created_on)
    for project_id in ids_of(conn, Project.Created):
        project = app.store.repository.get(project_id)
        view = get_project(conn, project_id)
        open_count = sum(1 for t in tickets
                         if t.project_id == project_id and t.status in UNRESOLVED)
        assert view is not None
        assert (view.name, view.key, view.description, view.archived, view.open_tickets) == (
            project.name, project.key, project.description, project.archived, open_count)
    for team_id in ids_of(conn, Team.Formed):
        team = app.store.repository.get(team_id)
        team_view = get_team(conn, team_id)
        assert team_view is not None
        assert (team_view.name, team_view.lead_id, tuple(team_view.member_ids)) == (
            team.name, team.lead_id, team.member_ids)
    assert_stats(app, conn, tickets)


def assert_ticket(
    app: Commands, conn: Conn, people: People, ticket: Ticket, children: list[Ticket]
) -> None:
    view = get_ticket(conn, ticket.id, Viewer(id=people.admin.id, role=Role.ADMIN))
    assert view is not None
    assert (view.title, view.description, view.status, view.priority, view.type,
            tuple(view.tags), view.due_date, tuple(view.assignee_ids), view.version,
            view.created_at, view.updated_at, view.number, view.reporter_id) == (
        ticket.title, ticket.description, ticket.status, ticket.priority, ticket.type,
        ticket.tags, ticket.due_date, ticket.assignee_ids, ticket.version,
        ticket.created_at, ticket.updated_at, ticket.number, ticket.reporter_id)
    done = sum(1 for t in children if t.status in DONE)
    assert (view.parent_id, view.team_id, view.links, view.progress) == (
        ticket.parent_id, ticket.team_id, list(ticket.links),
        Progress(done, len(children)) if children else None)
    comments = everything(lambda c: list_comments(conn, ticket.id, 3, c))
    assert [(c.id, c.author_id, c.body, c.created_at, c.edited_at) for c in comments] == [
        (c.id, c.author_id, c.body, c.created_at, c.edited_at) for c in ticket.comments.values()]


def assert_stats(app: Commands, conn: Conn, tickets: list[Ticket]) -> None:
    result = stats(conn, StatsFilters())
    assert {k: v for k, v in result.by_status.items() if v} == dict(
        Counter(t.status.value for t in tickets))
    assert {k: v for k, v in result.by_type.items() if v} == dict(
        Counter(t.type.value for t in tickets))
    durations = []
    for ticket in tickets:
        for entry in log.history(app, ticket.id)[1:]:
            status = entry.changes.get("status")
            if status and status.to not in {s.value for s in UNRESOLVED}:
                durations.append((entry.at - ticket.created_at).total_seconds())
                break
    assert sum(d.count for d in result.resolved_per_day) == len(durations)
    per_assignee = {(a.user.id, a.open, a.resolved) for a in result.by_assignee}
    assignees = {u for t in tickets for u in t.assignee_ids}
    assert per_assignee == {
        (u, sum(1 for t in tickets if u in t.assignee_ids and t.status in UNRESOLVED),
         sum(1 for t in tickets if u in t.assignee_ids and t.status in DONE))
        for u in assignees
    }
    if durations:
        assert result.median_seconds_to_resolve is not None
        assert abs(result.median_seconds_to_resolve - statistics.median(durations)) < 1e-3
    else:
        assert result.median_seconds_to_resolve is None
