"""Registration, authentication and user changes through the Trail service, on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from uuid import UUID

import pytest

from commands.errors import AccountPending, Forbidden, Unauthenticated
from commands.messages import ChangeUser, RegisterUser
from commands.permissions import Actor
from commands.services import Commands
from domain.errors import InvalidFields, NameTaken
from domain.user import User
from domain.values import Role, UserStatus
from tests import log
from tests.commands.conftest import PASSWORD, email, register

NewTrail = Callable[..., Commands]


def test_the_first_account_is_an_active_admin_and_later_ones_reporters(
    new_trail: NewTrail,
) -> None:
    app = new_trail()
    first = app.accounts.user(register(app, "First One"))
    second = app.accounts.user(register(app, "Second One"))
    third = app.accounts.user(register(app, "Third One"))
    assert (first.role, first.status) == (Role.ADMIN, UserStatus.ACTIVE)
    assert (second.role, second.status) == (Role.REPORTER, UserStatus.ACTIVE)
    assert (third.role, third.status) == (Role.REPORTER, UserStatus.ACTIVE)
    assert log.log(app, types=["User.Registered"], limit=10)[0].data["role"] == "admin"


def test_concurrent_first_registrations_make_exactly_one_admin(new_trail: NewTrail) -> None:
    app = new_trail()
    barrier = threading.Barrier(4)

    def go(n: int) -> UUID:
        barrier.wait()
        return register(app, f"Racer {n}")

    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(go, range(4)))
    roles = sorted(app.accounts.user(i).role.value for i in ids)
    assert roles == ["admin", "reporter", "reporter", "reporter"]


def test_with_approval_later_accounts_wait_and_cannot_log_in_until_approved(
    new_trail: NewTrail,
) -> None:
    app = new_trail(registration="approval")
    admin = app.accounts.actor(register(app, "Ada Admin"))
    assert admin.role is Role.ADMIN
    address = email("waiting")
    waiting = register(app, "Wally Waiting", address)
    assert app.accounts.user(waiting).status is UserStatus.PENDING
    with pytest.raises(AccountPending):
        app.accounts.authenticate(address, PASSWORD)
    with pytest.raises(Unauthenticated):  # a wrong password learns nothing about the account
        app.accounts.authenticate(address, "wrong password 1")
    with pytest.raises(Unauthenticated):
        app.accounts.actor(waiting)

    outcome = app.accounts.change_user(admin, ChangeUser(user_id=waiting, status=UserStatus.ACTIVE))
    assert outcome.recorded == 1
    assert app.accounts.authenticate(address, PASSWORD).id == waiting
    assert app.accounts.actor(waiting).role is Role.REPORTER
    history = log.log(app, ticket_id=None, types=["User.Approved"])
    assert [e.actor_id for e in history] == [admin.id]


def test_authenticate_checks_the_password_and_ignores_email_case(
    app: Commands, admin: Actor
) -> None:
    address = email("Mixed.Case")
    user_id = register(app, "Casey Case", address.upper())
    assert app.accounts.user(user_id).email == address.lower()
    assert app.accounts.authenticate(f"  {address.title()} ", PASSWORD).id == user_id
    with pytest.raises(Unauthenticated):
        app.accounts.authenticate(address, PASSWORD + "x")
    with pytest.raises(Unauthenticated):
        app.accounts.authenticate(email("nobody"), PASSWORD)


def test_a_deactivated_account_cannot_log_in_or_act_until_reactivated(
    app: Commands, admin: Actor
) -> None:
    address = email("leaver")
    user_id = register(app, "Lee Leaver", address)
    app.accounts.actor(user_id)
    app.accounts.change_user(admin, ChangeUser(user_id=user_id, status=UserStatus.DEACTIVATED))
    with pytest.raises(Unauthenticated):
        app.accounts.authenticate(address, PASSWORD)
    with pytest.raises(Unauthenticated):
        app.accounts.actor(user_id)
    app.accounts.change_user(admin, ChangeUser(user_id=user_id, status=UserStatus.ACTIVE))
    assert app.accounts.authenticate(address, PASSWORD).id == user_id
    # Back to pending (API.md: an admin may set any status): no login, no acting, until active.
    app.accounts.change_user(admin, ChangeUser(user_id=user_id, status=UserStatus.PENDING))
    assert app.accounts.user(user_id).status is UserStatus.PENDING
    with pytest.raises(AccountPending):
        app.accounts.authenticate(address, PASSWORD)
    with pytest.raises(Unauthenticated):
        app.accounts.actor(user_id)
    app.accounts.change_user(admin, ChangeUser(user_id=user_id, status=UserStatus.ACTIVE))
    assert app.accounts.authenticate(address, PASSWORD).id == user_id


def test_an_email_is_unique_ignoring_case(app: Commands, admin: Actor) -> None:
    address = email("unique")
    first = register(app, "First Holder", address)
    with pytest.raises(NameTaken):
        register(app, "Second Holder", address.upper())
    with pytest.raises(NameTaken):
        register(app, "Third Holder", f" {address} ")
    assert app.accounts.authenticate(address, PASSWORD).id == first


def test_eight_threads_registering_one_email_make_exactly_one_account(
    app: Commands, admin: Actor
) -> None:
    address = email("race")
    barrier = threading.Barrier(8)

    def go(n: int) -> UUID | Exception:
        barrier.wait()
        try:
            return register(app, f"Racer {n}", address if n % 2 else address.upper(),
                            password=f"password {n}x")
        except NameTaken as error:
            return error

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(go, range(8)))
    winners = [r for r in results if isinstance(r, UUID)]
    assert len(winners) == 1, results
    assert all(isinstance(r, NameTaken) for r in results if r not in winners)
    (winner,) = winners
    n = results.index(winner)
    assert app.accounts.authenticate(address, f"password {n}x").id == winner
    registered = [
        e for e in log.log(app, types=["User.Registered"], limit=100)
        if e.data["email"] == address.lower()
    ]
    assert len(registered) == 1


def _password_hashes(app: Commands) -> int:
    with app.store.datastore.transaction(commit=False) as curs:
        curs.execute("SELECT count(*) AS n FROM credentials")
        row = curs.fetchone()
    assert row is not None
    return int(row["n"])


def test_a_duplicate_registration_leaves_no_password_hash(app: Commands, admin: Actor) -> None:
    address = email("orphan")
    register(app, "First Holder", address)
    before = _password_hashes(app)
    with pytest.raises(NameTaken):
        register(app, "Second Holder", address.upper())
    barrier = threading.Barrier(6)

    def go(n: int) -> UUID | None:
        barrier.wait()
        try:
            return register(app, f"Racer {n}", f"race-{address}")
        except NameTaken:
            return None

    with ThreadPoolExecutor(6) as pool:
        winners = [r for r in pool.map(go, range(6)) if r is not None]
    assert len(winners) == 1
    # One hash for the one account made; none for the seven registrations that lost.
    assert _password_hashes(app) == before + 1


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"name": "ab"}, ["name"]),
        ({"email": "not an email"}, ["email"]),
        ({"password": "short1"}, ["password"]),
        ({"password": "onlyletterslong"}, ["password"]),
        ({"password": "12345678901"}, ["password"]),
        ({"name": " ", "email": "x@", "password": "a" * 129}, ["name", "email", "password"]),
    ],
)
def test_register_refuses_invalid_fields_naming_each(
    app: Commands, admin: Actor, fields: dict[str, str], bad: list[str]
) -> None:
    before = app.store.current_position()
    command = {"name": "Valid Name", "email": email("bad"), "password": PASSWORD, **fields}
    with pytest.raises(InvalidFields) as refused:
        app.accounts.register(RegisterUser(**command))
    assert sorted(e.field for e in refused.value.errors) == sorted(bad)
    assert app.store.current_position() == before


def test_users_rename_themselves_and_only_admins_change_roles_and_status(
    app: Commands, admin: Actor
) -> None:
    rita = app.accounts.actor(register(app, "Rita Reporter"))
    other = register(app, "Otto Other")

    outcome = app.accounts.change_user(rita, ChangeUser(user_id=rita.id, name="  Rita R.  "))
    assert (outcome.recorded, app.accounts.user(rita.id).name) == (1, "Rita R.")
    with pytest.raises(Forbidden):
        app.accounts.change_user(rita, ChangeUser(user_id=other, name="Hacked"))
    with pytest.raises(Forbidden):
        app.accounts.change_user(rita, ChangeUser(user_id=rita.id, role=Role.ADMIN))
    with pytest.raises(Forbidden):
        app.accounts.change_user(rita, ChangeUser(user_id=rita.id, status=UserStatus.DEACTIVATED))
    assert app.accounts.user(rita.id).role is Role.REPORTER

    outcome = app.accounts.change_user(admin, ChangeUser(user_id=other, role=Role.DEVELOPER))
    user: User = app.accounts.user(other)
    assert (outcome.recorded, outcome.version, user.role) == (1, 2, Role.DEVELOPER)
    # The role an actor has is the one it has now, not when it logged in.
    assert app.accounts.actor(other).role is Role.DEVELOPER


@pytest.mark.parametrize(
    "change",
    [{"role": Role.DEVELOPER}, {"role": Role.REPORTER}, {"status": UserStatus.DEACTIVATED}],
)
def test_an_admin_cannot_lock_itself_out(
    app: Commands, admin: Actor, change: dict[str, object]
) -> None:
    with pytest.raises(Forbidden):
        app.accounts.change_user(admin, ChangeUser(user_id=admin.id, **change))  # type: ignore[arg-type]
    assert app.accounts.actor(admin.id).role is Role.ADMIN
    # Restating what it already is changes nothing and is not refused.
    same = app.accounts.change_user(admin, ChangeUser(user_id=admin.id, role=Role.ADMIN))
    assert same.recorded == 0


def test_tokens_issued_before_a_password_reset_no_longer_act(app: Commands) -> None:
    user_id = register(app, "Pat Reset")
    issued = app.accounts.clock()
    started = app.accounts.start_password_reset(app.accounts.user(user_id).email)
    assert started is not None
    app.accounts.finish_password_reset(started[1], "a new password 9")
    changed = app.accounts.user(user_id).password_changed_at
    assert changed is not None and changed >= issued
    # Compared exactly: access granted a microsecond before the change, in its very second,
    # dies with it.
    with pytest.raises(Unauthenticated):
        app.accounts.actor(user_id, changed - timedelta(microseconds=1))
    with pytest.raises(Unauthenticated):
        app.accounts.actor(user_id, changed.replace(microsecond=0) - timedelta(seconds=1))
    assert app.accounts.actor(user_id, changed).id == user_id
