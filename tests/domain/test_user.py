"""User and Claim: given events, when a command, then events or an error."""

from __future__ import annotations

from typing import Any

import pytest

from domain.claim import Claim, claim_id
from domain.errors import InvalidFields, NameTaken
from domain.user import User
from domain.values import Role, UserStatus
from tests.domain.given import ALICE, BOB, CAROL, USER_ID, Stream, a_user, given, stamp, when

ACTIVE, PENDING, DEACTIVATED = UserStatus.ACTIVE, UserStatus.PENDING, UserStatus.DEACTIVATED


def register(**fields: Any) -> Any:
    values: dict[str, Any] = {
        "user_id": USER_ID, "name": "Max Mustermann", "email": "max@example.com",
        "role": Role.REPORTER, "status": ACTIVE,
    }
    values.update(fields)
    return when(None, User.register, stamp=stamp(USER_ID), **values)


def user_in(status: UserStatus, role: Role = Role.DEVELOPER) -> User:
    user: User = given(a_user(status=status, role=role))
    assert user.status is status
    return user


# --- registered --------------------------------------------------------------------------------


def test_register_records_registered_with_a_trimmed_name() -> None:
    (event,) = register(name="  Max  ", status=PENDING).then(
        (User.Registered, {"name": "Max", "email": "max@example.com", "role": Role.REPORTER,
                           "status": PENDING, "actor_id": USER_ID})
    )
    user = event.mutate(None)
    assert (user.id, user.name, user.is_active, user.can_be_assigned) == (
        USER_ID, "Max", False, False,
    )


@pytest.mark.parametrize(
    "name", ["", "  ab  ", "n" * 101, "Max\r\nBcc: x@y.test", "Max\x1cMin", "Max\u2028Min",
             "\u200b\u200b\u200b", "Ma\x85x"]
)
def test_register_refuses_a_bad_name(name: str) -> None:
    register(name=name).then_error(InvalidFields, fields=["name"])


# --- status: approved, deactivated, reactivated --------------------------------------------------


def test_approving_a_pending_user_records_approved() -> None:
    user = user_in(PENDING)
    when(user, user.change_status, ACTIVE).then(User.Approved)
    assert user.is_active


def test_deactivating_records_the_status_it_left() -> None:
    user = user_in(ACTIVE)
    when(user, user.change_status, DEACTIVATED).then(
        (User.Deactivated, {"old_status": ACTIVE})
    )
    assert user.status is DEACTIVATED
    assert not user.is_active and not user.can_be_assigned


def test_a_pending_user_can_be_turned_away() -> None:
    user = user_in(PENDING)
    when(user, user.change_status, DEACTIVATED).then(
        (User.Deactivated, {"old_status": PENDING})
    )


def test_reactivating_records_reactivated() -> None:
    user = given(a_user().add(User.Deactivated, old_status=ACTIVE))
    when(user, user.change_status, ACTIVE).then(User.Reactivated)
    assert user.is_active


def test_activating_an_account_turned_away_while_pending_records_its_approval() -> None:
    user = given(a_user(status=PENDING).add(User.Deactivated, old_status=PENDING))
    when(user, user.change_status, ACTIVE).then(User.Approved)
    assert user.is_active


@pytest.mark.parametrize("status", [ACTIVE, DEACTIVATED])
def test_an_admin_may_set_an_account_back_to_pending(status: UserStatus) -> None:
    user = user_in(status)
    when(user, user.change_status, PENDING).then((User.MadePending, {"old_status": status}))
    assert user.status is PENDING
    assert not user.is_active and not user.can_be_assigned


def test_an_approved_account_set_pending_then_active_is_reactivated() -> None:
    user = given(a_user().add(User.MadePending, old_status=ACTIVE))
    when(user, user.change_status, ACTIVE).then(User.Reactivated)
    assert user.is_active


@pytest.mark.parametrize("status", list(UserStatus))
def test_the_current_status_records_nothing(status: UserStatus) -> None:
    user = user_in(status)
    when(user, user.change_status, status).then_nothing()


# --- role and name ------------------------------------------------------------------------------


def test_role_changed_records_old_and_new() -> None:
    user = user_in(ACTIVE, Role.REPORTER)
    assert not user.can_be_assigned
    when(user, user.change_role, Role.DEVELOPER, stamp=stamp(ALICE)).then(
        (User.RoleChanged, {"old_role": Role.REPORTER, "role": Role.DEVELOPER,
                            "actor_id": ALICE})
    )
    assert user.can_be_assigned


def test_the_same_role_records_nothing() -> None:
    user = user_in(ACTIVE, Role.ADMIN)
    when(user, user.change_role, Role.ADMIN).then_nothing()


def test_renamed_records_old_and_new() -> None:
    user = given(a_user(name="Max"))
    when(user, user.rename, "  Maximilian ").then(
        (User.Renamed, {"old_name": "Max", "name": "Maximilian"})
    )


def test_rename_to_the_same_name_records_nothing_and_a_bad_name_is_refused() -> None:
    user = given(a_user(name="Max"))
    when(user, user.rename, " Max ").then_nothing()
    when(user, user.rename, "Mx").then_error(InvalidFields, fields=["name"])
    when(user, user.rename, "Max\r\nTo: x@y.test").then_error(InvalidFields, fields=["name"])


# --- claims: unique names --------------------------------------------------------------------


def test_a_claim_id_is_a_stable_function_of_kind_and_key() -> None:
    assert claim_id("email", "a@b.c") == claim_id("email", "a@b.c")
    assert claim_id("email", "a@b.c") != claim_id("project-name", "a@b.c")
    assert claim_id("email", "a@b.c") != claim_id("email", "b@b.c")


def test_take_new_records_taken_under_the_claim_id() -> None:
    (event,) = when(None, Claim.take_new, kind="email", key="a@b.c", owner_id=BOB).then(
        (Claim.Taken, {"kind": "email", "key": "a@b.c", "owner_id": BOB})
    )
    assert event.originator_id == claim_id("email", "a@b.c")


def held_by(owner: Any) -> Claim:
    claim: Claim = given(
        Stream(Claim, claim_id("email", "a@b.c")).add(
            Claim.Taken, kind="email", key="a@b.c", owner_id=owner
        )
    )
    return claim


def test_a_held_claim_is_refused_to_anyone_else() -> None:
    claim = held_by(BOB)
    when(claim, claim.take, CAROL).then_error(NameTaken, match="a@b.c")
    assert claim.owner_id == BOB


def test_taking_ones_own_claim_again_records_nothing() -> None:
    claim = held_by(BOB)
    when(claim, claim.take, BOB).then_nothing()


def test_a_released_claim_is_retaken() -> None:
    claim = held_by(BOB)
    when(claim, claim.release).then(Claim.Released)
    assert claim.owner_id is None
    when(claim, claim.release).then_nothing()
    when(claim, claim.take, CAROL).then((Claim.Retaken, {"owner_id": CAROL}))
    assert claim.owner_id == CAROL
    when(claim, claim.take, BOB).then_error(NameTaken)
