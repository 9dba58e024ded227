"""Who the caller is, as the account is now: `Accounts.actor` keeps each caller's account
between requests, and a change made anywhere (here by a second Trail on the same store, as
another API process would) applies to the very next request."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from commands.base import Trail
from commands.errors import Unauthenticated
from commands.messages import ChangeUser
from commands.permissions import Actor
from commands.services import Commands, build_commands
from domain.values import Role, UserStatus
from tests.commands.conftest import email, project, register


@pytest.fixture
def elsewhere(trail_env: dict[str, str]) -> Iterator[Commands]:
    other = build_commands(Trail(trail_env))
    yield other
    other.close()


def test_a_kept_caller_sees_changes_made_elsewhere_at_once(
    app: Commands, elsewhere: Commands, admin: Actor
) -> None:
    user_id = register(app, "Kept Caller")
    assert app.accounts.actor(user_id).role is Role.REPORTER
    assert app.accounts.actor(user_id).role is Role.REPORTER  # now kept

    elsewhere.accounts.change_user(admin, ChangeUser(user_id=user_id, role=Role.DEVELOPER,
                                                     name="Renamed Caller"))
    caller = app.accounts.actor(user_id)
    assert (caller.role, caller.name) == (Role.DEVELOPER, "Renamed Caller")

    elsewhere.accounts.change_user(admin, ChangeUser(user_id=user_id,
                                                     status=UserStatus.DEACTIVATED))
    with pytest.raises(Unauthenticated):
        app.accounts.actor(user_id)

    elsewhere.accounts.change_user(admin, ChangeUser(user_id=user_id, status=UserStatus.ACTIVE))
    assert app.accounts.actor(user_id).role is Role.DEVELOPER


def test_a_password_change_elsewhere_voids_older_access_at_once(
    app: Commands, elsewhere: Commands
) -> None:
    address = email("kept")
    user_id = register(app, "Changing Password", address)
    issued = datetime.now(UTC)
    app.accounts.actor(user_id, issued)
    app.accounts.actor(user_id, issued)  # kept, and valid
    started = elsewhere.accounts.start_password_reset(address)
    assert started is not None
    elsewhere.accounts.finish_password_reset(started[1], "another horse 43")
    with pytest.raises(Unauthenticated):
        app.accounts.actor(user_id, issued)
    app.accounts.actor(user_id, datetime.now(UTC))


def test_ids_of_no_account_may_not_act(app: Commands, admin: Actor) -> None:
    for not_a_user in (uuid.uuid4(), project(app, admin)):
        with pytest.raises(Unauthenticated):
            app.accounts.actor(not_a_user)
