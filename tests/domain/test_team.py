"""Team, and a user's teams: given events, when a command, then events or an error; and what
teams change in who may see a ticket."""

from __future__ import annotations

import pytest

from domain.errors import InvalidFields
from domain.team import Team
from domain.user import User
from domain.values import Role
from domain.visibility import Viewer, may_see
from tests.domain.given import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    TEAM_ID,
    a_team,
    a_ticket,
    a_user,
    given,
    when,
)

OTHER_TEAM = BOB  # any id that is not TEAM_ID


def test_forming_a_team_makes_its_lead_a_member() -> None:
    (formed,) = when(None, Team.form, team_id=TEAM_ID, name="  Platform ", lead_id=ALICE).then(
        (Team.Formed, {"name": "Platform", "lead_id": ALICE, "member_ids": (ALICE,)})
    )
    team = formed.mutate(None)
    assert (team.lead_id, team.member_ids, team.updated_at) == (ALICE, (ALICE,), None)


def test_a_team_may_start_without_a_lead() -> None:
    when(None, Team.form, team_id=TEAM_ID, name="Support", lead_id=None).then(
        (Team.Formed, {"lead_id": None, "member_ids": ()})
    )


@pytest.mark.parametrize(
    "name", ["", "ab", "  ab  ", "x" * 101, "nul\x00here", "two\nlines", "tab\there", "\x1b[31mred",
             "fs\x1chere", "ls\u2028here", "\u200b\u200c\u200d\u200e"]
)
def test_a_team_name_follows_the_project_name_rules(name: str) -> None:
    when(None, Team.form, team_id=TEAM_ID, name=name, lead_id=None).then_error(
        InvalidFields, fields=["name"])


def test_renaming_records_old_and_new_and_the_same_name_nothing() -> None:
    team = given(a_team())
    when(team, team.rename, "Platform").then_nothing()
    when(team, team.rename, " Core ").then((Team.Renamed, {"old_name": "Platform",
                                                          "name": "Core"}))


def test_a_new_lead_who_was_not_a_member_becomes_one() -> None:
    team = given(a_team(lead_id=ALICE, member_ids=(ALICE, BOB)))
    when(team, team.change_lead, CAROL).then(
        (Team.LeadChanged, {"old_lead_id": ALICE, "lead_id": CAROL}),
        (Team.MembersChanged, {"old_member_ids": (ALICE, BOB), "member_ids": (ALICE, BOB, CAROL)}),
    )


def test_a_member_made_lead_stays_where_it_is_in_the_list() -> None:
    team = given(a_team(lead_id=ALICE, member_ids=(ALICE, BOB)))
    when(team, team.change_lead, BOB).then((Team.LeadChanged, {"lead_id": BOB}))
    assert team.member_ids == (ALICE, BOB)


def test_the_lead_can_be_removed_and_stays_a_member() -> None:
    team = given(a_team(lead_id=ALICE, member_ids=(ALICE,)))
    when(team, team.change_lead, None).then((Team.LeadChanged, {"lead_id": None}))
    when(team, team.change_lead, None).then_nothing()
    assert team.member_ids == (ALICE,)


def test_members_are_set_whole_and_must_keep_the_lead() -> None:
    team = given(a_team(lead_id=ALICE, member_ids=(ALICE,)))
    when(team, team.set_members, [BOB, CAROL]).then_error(InvalidFields, fields=["user_ids"])
    when(team, team.set_members, [BOB, ALICE, BOB]).then(
        (Team.MembersChanged, {"old_member_ids": (ALICE,), "member_ids": (BOB, ALICE)}))
    when(team, team.set_members, [BOB, ALICE]).then_nothing()


def test_a_team_without_a_lead_may_be_emptied() -> None:
    team = given(a_team(member_ids=(BOB,)))
    when(team, team.set_members, []).then((Team.MembersChanged, {"member_ids": ()}))


# --- the user's side ---------------------------------------------------------------------------


def test_a_user_records_joining_leading_and_leaving_a_team() -> None:
    user = given(a_user())
    when(user, user.reflect_team, TEAM_ID, member=True, lead=False).then(
        (User.TeamsChanged, {"old_team_ids": (), "team_ids": (TEAM_ID,),
                             "old_led_team_ids": (), "led_team_ids": ()}))
    when(user, user.reflect_team, TEAM_ID, member=True, lead=True).then(
        (User.TeamsChanged, {"team_ids": (TEAM_ID,), "led_team_ids": (TEAM_ID,)}))
    when(user, user.reflect_team, TEAM_ID, member=True, lead=True).then_nothing()
    when(user, user.reflect_team, TEAM_ID, member=False, lead=False).then(
        (User.TeamsChanged, {"team_ids": (), "led_team_ids": ()}))


def test_a_user_keeps_its_other_teams() -> None:
    user = given(a_user().add(User.TeamsChanged, old_team_ids=(), team_ids=(OTHER_TEAM,),
                              old_led_team_ids=(), led_team_ids=(OTHER_TEAM,)))
    when(user, user.reflect_team, TEAM_ID, member=True, lead=False).then(
        (User.TeamsChanged, {"team_ids": (OTHER_TEAM, TEAM_ID), "led_team_ids": (OTHER_TEAM,)}))


# --- who sees a team's tickets -----------------------------------------------------------------


def test_members_of_a_team_see_its_tickets_whatever_their_role() -> None:
    ticket = given(a_ticket(actor_id=ALICE, team_id=TEAM_ID))
    member = Viewer(id=DAVE, role=Role.REPORTER, team_ids=frozenset({TEAM_ID}))
    lead = Viewer(id=DAVE, role=Role.REPORTER, team_ids=frozenset({TEAM_ID}),
                  led_team_ids=frozenset({TEAM_ID}))
    outsider = Viewer(id=DAVE, role=Role.REPORTER, team_ids=frozenset({OTHER_TEAM}))
    assert may_see(member, ticket)
    assert may_see(lead, ticket)
    assert not may_see(outsider, ticket)
    assert may_see(Viewer(id=DAVE, role=Role.DEVELOPER), ticket)


def test_a_ticket_without_a_team_is_seen_by_no_team() -> None:
    ticket = given(a_ticket(actor_id=ALICE))
    assert not may_see(Viewer(id=DAVE, role=Role.REPORTER, team_ids=frozenset({TEAM_ID})),
                       ticket)
