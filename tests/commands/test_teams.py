"""Teams through the write side, on PostgreSQL: membership recorded on the team and its users in
one save and known to authorization at once, unique names, the lead's powers."""

from __future__ import annotations

import uuid

import pytest

from commands.errors import Forbidden, NotFound
from commands.messages import (
    AssignTicket,
    ChangeTeam,
    CreateTeam,
    CreateTicket,
    EditTicket,
    SetTeamMembers,
)
from commands.permissions import Actor
from commands.services import Commands
from domain.errors import InvalidFields, NameTaken
from domain.values import Priority, Status
from tests import log
from tests.commands.conftest import developer, project, reporter, ticket


@pytest.fixture(scope="module")
def project_id(app: Commands, admin: Actor) -> uuid.UUID:
    return project(app, admin)


def team_name() -> str:
    return f"Team {uuid.uuid4().hex[:8]}"


def form(app: Commands, admin: Actor, lead: Actor | None = None, *members: Actor) -> uuid.UUID:
    team_id = app.teams.create(admin, CreateTeam(name=team_name(),
                                                 lead_id=lead.id if lead else None)).id
    if members:
        everyone = ([lead.id] if lead else []) + [m.id for m in members]
        app.teams.set_members(admin, SetTeamMembers(team_id=team_id, user_ids=tuple(everyone)))
    return team_id


def now(app: Commands, actor: Actor) -> Actor:
    """The actor as the next request would build it."""
    return app.accounts.actor(actor.id)


def test_forming_a_team_records_the_team_and_its_lead_in_one_command(
    app: Commands, admin: Actor
) -> None:
    lead = reporter(app, "Lena Lead")
    outcome = app.teams.create(admin, CreateTeam(name="  Payments Squad ", lead_id=lead.id))
    team = outcome.aggregate
    assert (team.name, team.lead_id, team.member_ids) == ("Payments Squad", lead.id, (lead.id,))
    entries = log.log(app, after=outcome.position - 3)
    assert {e.type for e in entries} >= {"Team.Formed", "User.TeamsChanged"}
    assert len({e.data["command_id"] for e in entries if e.type != "Claim.Taken"}) == 1
    assert now(app, lead).team_ids == now(app, lead).led_team_ids == {team.id}


def test_only_admins_form_and_change_teams(app: Commands, admin: Actor) -> None:
    dev = developer(app, admin, "Devon Teamless")
    with pytest.raises(Forbidden):
        app.teams.create(dev, CreateTeam(name=team_name()))
    lead = reporter(app, "Leo Lead")
    team_id = form(app, admin, lead)
    with pytest.raises(Forbidden):
        app.teams.change(now(app, lead), ChangeTeam(team_id=team_id, name=team_name()))


def test_team_names_are_unique_ignoring_case_and_a_rename_frees_the_old_one(
    app: Commands, admin: Actor
) -> None:
    name = team_name()
    team_id = app.teams.create(admin, CreateTeam(name=name)).id
    with pytest.raises(NameTaken):
        app.teams.create(admin, CreateTeam(name=name.upper()))
    app.teams.change(admin, ChangeTeam(team_id=team_id, name=name + " renamed"))
    app.teams.create(admin, CreateTeam(name=name.lower()))


def test_every_bad_field_of_a_new_team_is_named(app: Commands, admin: Actor) -> None:
    with pytest.raises(InvalidFields) as refused:
        app.teams.create(admin, CreateTeam(name="x", lead_id=uuid.uuid4()))
    assert sorted(e.field for e in refused.value.errors) == ["lead_id", "name"]


def test_the_lead_sets_the_members_and_must_stay_one(app: Commands, admin: Actor) -> None:
    lead, member, other = (reporter(app, n) for n in ("Lia Lead", "Mo Member", "Oz Other"))
    team_id = form(app, admin, lead)
    app.teams.set_members(now(app, lead), SetTeamMembers(team_id=team_id,
                                                         user_ids=(lead.id, member.id)))
    assert now(app, member).team_ids == {team_id}
    with pytest.raises(Forbidden):
        app.teams.set_members(now(app, member), SetTeamMembers(team_id=team_id,
                                                               user_ids=(lead.id,)))
    with pytest.raises(InvalidFields):
        app.teams.set_members(admin, SetTeamMembers(team_id=team_id, user_ids=(member.id,)))
    with pytest.raises(InvalidFields):
        app.teams.set_members(admin, SetTeamMembers(team_id=team_id,
                                                    user_ids=(lead.id, uuid.uuid4())))
    app.teams.set_members(admin, SetTeamMembers(team_id=team_id, user_ids=(lead.id, other.id)))
    assert now(app, member).team_ids == frozenset()
    assert now(app, other).team_ids == {team_id}


def test_a_new_lead_leads_at_once_and_the_old_one_stays_a_member(
    app: Commands, admin: Actor
) -> None:
    old, new = reporter(app, "Old Lead"), reporter(app, "New Lead")
    team_id = form(app, admin, old)
    app.teams.change(admin, ChangeTeam(team_id=team_id, lead_id=new.id))
    assert (now(app, new).team_ids, now(app, new).led_team_ids) == ({team_id}, {team_id})
    assert (now(app, old).team_ids, now(app, old).led_team_ids) == ({team_id}, frozenset())
    with pytest.raises(NotFound):
        app.teams.change(admin, ChangeTeam(team_id=uuid.uuid4(), lead_id=None))


def test_members_see_the_team_tickets_from_the_next_request_and_not_after_leaving(
    app: Commands, admin: Actor, project_id: uuid.UUID
) -> None:
    dev = developer(app, admin, "Dee Dev")
    member = reporter(app, "Meg Member")
    team_id = form(app, admin, None)
    ticket_id = ticket(app, dev, project_id, team_id=team_id)
    with pytest.raises(NotFound):
        app.tickets.get(now(app, member), ticket_id)
    app.teams.set_members(admin, SetTeamMembers(team_id=team_id, user_ids=(member.id,)))
    assert app.tickets.get(now(app, member), ticket_id).id == ticket_id
    app.teams.set_members(admin, SetTeamMembers(team_id=team_id, user_ids=()))
    with pytest.raises(NotFound):
        app.tickets.get(now(app, member), ticket_id)


def test_the_lead_works_the_team_tickets_as_a_developer_does(
    app: Commands, admin: Actor, project_id: uuid.UUID
) -> None:
    dev = developer(app, admin, "Dan Dev")
    lead = reporter(app, "Lou Lead")
    team_id = form(app, admin, lead)
    lead = now(app, lead)
    ticket_id = ticket(app, lead, project_id, team_id=team_id, assignee_ids=(dev.id,))
    app.tickets.edit(lead, EditTicket(ticket_id=ticket_id, status=Status.IN_PROGRESS,
                                      priority=Priority.HIGH))
    app.tickets.assign(lead, AssignTicket(ticket_id=ticket_id, user_ids=()))
    # Outside the team it is a reporter again.
    own = ticket(app, lead, project_id)
    with pytest.raises(Forbidden):
        app.tickets.edit(lead, EditTicket(ticket_id=own, status=Status.IN_PROGRESS))
    with pytest.raises(Forbidden):
        app.tickets.create(lead, CreateTicket(project_id=project_id, title="x",
                                              assignee_ids=(dev.id,)))
    app.tickets.edit(lead, EditTicket(ticket_id=own, team_id=team_id))
    app.tickets.edit(lead, EditTicket(ticket_id=ticket_id, team_id=None))


def test_only_developers_admins_and_the_lead_move_tickets_between_teams(
    app: Commands, admin: Actor, project_id: uuid.UUID
) -> None:
    lead, member = reporter(app, "Lex Lead"), reporter(app, "Max Member")
    team_id = form(app, admin, lead, member)
    other_team = form(app, admin, None)
    ticket_id = ticket(app, now(app, member), project_id, team_id=None)
    with pytest.raises(Forbidden):
        app.tickets.edit(now(app, member), EditTicket(ticket_id=ticket_id, team_id=team_id))
    with pytest.raises(Forbidden):
        app.tickets.create(now(app, member), CreateTicket(project_id=project_id, title="x",
                                                         team_id=team_id))
    with pytest.raises(NotFound):  # the lead does not see it yet
        app.tickets.edit(now(app, lead), EditTicket(ticket_id=ticket_id, team_id=team_id))
    app.tickets.edit(admin, EditTicket(ticket_id=ticket_id, team_id=team_id))
    with pytest.raises(Forbidden):
        app.tickets.edit(now(app, lead), EditTicket(ticket_id=ticket_id, team_id=other_team))
    with pytest.raises(InvalidFields) as refused:
        app.tickets.edit(admin, EditTicket(ticket_id=ticket_id, team_id=uuid.uuid4()))
    assert [e.field for e in refused.value.errors] == ["team_id"]
