"""Password reset: single-use, hashed, one-hour tokens in an ordinary table, never in events.
Expiry is tested with the application's injectable clock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from commands.base import Trail
from commands.credentials import digest
from commands.errors import InvalidResetToken, Unauthenticated
from commands.messages import ChangeUser
from commands.permissions import Actor
from commands.services import Commands, build_commands
from domain.errors import InvalidFields
from domain.values import UserStatus
from tests import log
from tests.commands.conftest import PASSWORD, Clock, email, register

NEW_PASSWORD = "brand new secret 7"


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def app(trail_env: dict[str, str], clock: Clock) -> Iterator[Commands]:
    """This module's write side runs on the injected clock."""
    trail = build_commands(Trail(trail_env), clock=clock)
    yield trail
    trail.close()


pytestmark = pytest.mark.usefixtures("admin")  # the first account, before any test's own


def someone(app: Commands) -> tuple[str, str]:
    """A fresh account's email and a reset token for it."""
    address = email("forgetful")
    register(app, "Forgetful Person", address)
    started = app.accounts.start_password_reset(address.upper())
    assert started is not None
    user, token = started
    assert user.email == address
    return address, token


def test_a_bogus_token_is_looked_up_before_any_password_is_hashed(app: Commands) -> None:
    credentials = app.accounts.credentials
    hashed: list[str] = []
    original = credentials._hasher

    class Counting(type(original)):  # type: ignore[misc]
        def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
            hashed.append("hash")
            return original.hash(password, salt=salt)

    credentials._hasher = Counting()
    try:
        for bogus in ("not a token", "x" * 43, ""):
            with pytest.raises(InvalidResetToken):
                app.accounts.finish_password_reset(bogus, NEW_PASSWORD)
        assert hashed == []
        _, token = someone(app)
        app.accounts.finish_password_reset(token, NEW_PASSWORD)
        assert hashed == ["hash", "hash"]  # the registration's, then the reset's
    finally:
        credentials._hasher = original


def test_a_token_sets_the_new_password_once(app: Commands) -> None:
    address, token = someone(app)
    user_id = app.accounts.finish_password_reset(token, NEW_PASSWORD).id
    assert app.accounts.authenticate(address, NEW_PASSWORD).id == user_id
    with pytest.raises(Unauthenticated):
        app.accounts.authenticate(address, PASSWORD)
    with pytest.raises(InvalidResetToken):
        app.accounts.finish_password_reset(token, "another secret 8")
    assert app.accounts.authenticate(address, NEW_PASSWORD).id == user_id


def test_a_token_expires_after_one_hour(app: Commands, clock: Clock) -> None:
    address, token = someone(app)
    clock.advance(minutes=59, seconds=59)
    _, fresh = someone(app)
    clock.advance(seconds=1)
    with pytest.raises(InvalidResetToken):
        app.accounts.finish_password_reset(token, NEW_PASSWORD)
    assert app.accounts.authenticate(address, PASSWORD).email == address
    # Issued a second before the hour of the first: still good for almost an hour.
    clock.advance(minutes=59, seconds=58)
    assert app.accounts.finish_password_reset(fresh, NEW_PASSWORD)


def test_an_unknown_token_is_refused(app: Commands) -> None:
    with pytest.raises(InvalidResetToken):
        app.accounts.finish_password_reset("not-a-token", NEW_PASSWORD)


def test_an_invalid_new_password_keeps_the_token(app: Commands) -> None:
    address, token = someone(app)
    with pytest.raises(InvalidFields) as refused:
        app.accounts.finish_password_reset(token, "short")
    assert [e.field for e in refused.value.errors] == ["new_password"]
    app.accounts.finish_password_reset(token, NEW_PASSWORD)
    assert app.accounts.authenticate(address, NEW_PASSWORD).email == address


def test_using_one_token_spends_every_other_token_of_that_user(app: Commands) -> None:
    address, first = someone(app)
    started = app.accounts.start_password_reset(address)
    assert started is not None
    second = started[1]
    assert second != first
    app.accounts.finish_password_reset(second, NEW_PASSWORD)
    with pytest.raises(InvalidResetToken):
        app.accounts.finish_password_reset(first, "yet another one 9")


def test_no_token_for_unknown_or_deactivated_accounts(app: Commands, admin: Actor) -> None:
    assert app.accounts.start_password_reset(email("nobody")) is None
    address = email("leaver")
    user_id = register(app, "Lee Leaver", address)
    app.accounts.change_user(admin, ChangeUser(user_id=user_id, status=UserStatus.DEACTIVATED))
    assert app.accounts.start_password_reset(address) is None


def test_tokens_are_stored_hashed_and_never_recorded_as_events(app: Commands) -> None:
    before = app.store.current_position()
    address, token = someone(app)
    registered = app.store.current_position()
    with app.store.datastore.transaction(commit=False) as curs:
        curs.execute("SELECT token_digest FROM password_reset_tokens")
        digests = {row["token_digest"] for row in curs.fetchall()}
        found = {}
        for needle in (token, address):
            curs.execute(
                "SELECT count(*) AS n FROM trail_events "
                "WHERE convert_from(state, 'UTF8') LIKE %s",
                (f"%{needle}%",),
            )
            row = curs.fetchone()
            assert row is not None
            found[needle] = row["n"]
    assert digest(token) in digests and token not in digests
    # The email is in the events (so the search works); the token is nowhere in them.
    assert found[token] == 0 and found[address] >= 1
    app.accounts.finish_password_reset(token, NEW_PASSWORD)
    # The reset records that the password changed (it voids older access), never the secret.
    [changed] = log.log(app, after=registered)
    assert changed.type == "User.PasswordChanged"
    assert token not in str(changed.data) and NEW_PASSWORD not in str(changed.data)
    assert registered > before


def test_a_token_redeemed_by_four_threads_at_once_works_once(app: Commands) -> None:
    address, token = someone(app)
    barrier = threading.Barrier(4)

    def redeem(n: int) -> str | None:
        barrier.wait()
        try:
            app.accounts.finish_password_reset(token, f"racing password {n}")
        except InvalidResetToken:
            return None
        return f"racing password {n}"

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(redeem, range(4)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1, results
    assert app.accounts.authenticate(address, winners[0]).email == address
