"""API tokens on the write side, with a clock that moves only when told to: expiry, the
once-a-minute `last_used_at`, and the cap decided atomically."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from commands.errors import Unauthenticated
from commands.messages import IssueApiToken
from commands.services import Commands
from domain.api_tokens import TOKENS_PER_USER, TooManyTokens
from tests.commands.conftest import Clock, register


def test_a_token_expires_on_the_clock(new_trail: Callable[..., Commands]) -> None:
    clock = Clock()
    trail = new_trail(clock=clock)
    actor = trail.accounts.actor(register(trail))
    _, issued = trail.api_tokens.issue(actor, IssueApiToken(name="ci", expires_in_days=2))
    assert trail.api_tokens.holder(issued.token) == actor.id
    clock.advance(days=2, seconds=-1)
    assert trail.api_tokens.holder(issued.token) == actor.id
    clock.advance(seconds=1)
    with pytest.raises(Unauthenticated):
        trail.api_tokens.holder(issued.token)


def test_last_used_is_written_at_most_once_a_minute(new_trail: Callable[..., Commands]) -> None:
    clock = Clock()
    trail = new_trail(clock=clock)
    actor = trail.accounts.actor(register(trail))
    _, issued = trail.api_tokens.issue(actor, IssueApiToken(name="ci"))

    def last_used() -> object:
        return trail.api_tokens.listed(actor)[0].last_used_at

    assert last_used() is None
    first = clock()
    trail.api_tokens.holder(issued.token)
    assert last_used() == first
    clock.advance(seconds=59)
    trail.api_tokens.holder(issued.token)
    assert last_used() == first
    clock.advance(seconds=1)
    trail.api_tokens.holder(issued.token)
    assert last_used() == clock()


def test_expired_tokens_do_not_count_against_the_cap(new_trail: Callable[..., Commands]) -> None:
    clock = Clock()
    trail = new_trail(clock=clock)
    actor = trail.accounts.actor(register(trail))
    for n in range(TOKENS_PER_USER):
        trail.api_tokens.issue(actor, IssueApiToken(name=f"t{n}", expires_in_days=1))
    with pytest.raises(TooManyTokens):
        trail.api_tokens.issue(actor, IssueApiToken(name="one more"))
    clock.advance(days=1)
    trail.api_tokens.issue(actor, IssueApiToken(name="one more"))
    # Expired ones stay listed until revoked: their owner sees what existed.
    assert len(trail.api_tokens.listed(actor)) == TOKENS_PER_USER + 1


def test_concurrent_issues_never_pass_the_cap(app: Commands) -> None:
    actor = app.accounts.actor(register(app))
    for n in range(TOKENS_PER_USER - 2):
        app.api_tokens.issue(actor, IssueApiToken(name=f"t{n}"))
    outcomes: list[str] = []
    start = threading.Barrier(6)

    def issue() -> None:
        start.wait()
        try:
            app.api_tokens.issue(actor, IssueApiToken(name="racing"))
            outcomes.append("issued")
        except TooManyTokens:
            outcomes.append("refused")

    threads = [threading.Thread(target=issue) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["issued"] * 2 + ["refused"] * 4
    assert len(app.api_tokens.listed(actor)) == TOKENS_PER_USER
