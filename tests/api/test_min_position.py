"""`Trail-Min-Position` cannot be turned against the API: a position beyond the head of the
log is 422 at once, a wait holds no pooled connection, and each caller may have only a few
requests waiting. The read models do not run in this module, so every position a command
answered stays unreached and each wait runs to its bound."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed

import httpx
import pytest

from commands.services import Commands
from tests.api.conftest import Client
from tests.api.server import api_process, projecting
from tests.api.test_fields import assert_invalid, assert_problem

WAITERS_PER_CALLER = 4


@pytest.fixture(scope="module")
def api_url(app: Commands, trail_env: dict[str, str], api_env: dict[str, str]) -> Iterator[str]:
    with api_process(api_env) as url:
        yield url


@pytest.fixture(scope="module")
def people(client: Client, trail_env: dict[str, str]) -> dict[str, str]:
    """Tokens of the first account (admin) and of six reporters, by name. The read models run
    only until they have read them: every later command's position stays unreached."""
    tokens = {}
    with projecting(trail_env):
        for name in ("admin", *(f"reporter{n}" for n in range(6))):
            client.register(f"User {name}", f"{name}@example.com")
            tokens[name] = client.login(f"{name}@example.com")
        caught_up = client.get("/projects", tokens["admin"])
        assert caught_up.status_code == 200, caught_up.text
    return tokens


def _get(url: str, token: str, position: int | str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if position is not None:
        headers["Trail-Min-Position"] = str(position)
    return httpx.get(f"{url}/projects", headers=headers, timeout=30)


def _head(client: Client, token: str) -> int:
    # A command's answer names the head of the log as it recorded.
    response = client.http.patch("/me/preferences", json={"email": "off"},
                                 headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return int(response.headers["trail-position"])


def test_a_position_beyond_the_head_is_422_at_once(
    api_url: str, client: Client, people: dict[str, str]
) -> None:
    head = _head(client, people["admin"])
    started = time.monotonic()
    response = _get(api_url, people["admin"], head + 1)
    assert time.monotonic() - started < 2
    assert_invalid(response, "Trail-Min-Position")
    assert_invalid(_get(api_url, people["admin"], 999_999_999), "Trail-Min-Position")


def test_a_position_within_the_head_waits_its_bound_then_503(
    api_url: str, client: Client, people: dict[str, str]
) -> None:
    head = _head(client, people["reporter0"])
    response = _get(api_url, people["reporter0"], head)
    assert_problem(response, 503)
    assert int(response.headers["retry-after"]) >= 1


def test_waiters_hold_no_pooled_connection_and_are_capped_per_caller(
    api_url: str, client: Client, people: dict[str, str]
) -> None:
    head = _head(client, people["admin"])
    reporters = [people[f"reporter{n}"] for n in range(5)]
    # 5 reporters with 4 waits each: more waiting requests than the API's pool (16) holds
    # connections; each reporter's fifth is refused at once.
    with ThreadPoolExecutor(len(reporters) * (WAITERS_PER_CALLER + 1)) as pool:
        waits = [pool.submit(_get, api_url, token, head)
                 for token in reporters for _ in range(WAITERS_PER_CALLER + 1)]
        # The refusals come first: the others wait for their bound.
        refused = list(itertools.islice(as_completed(waits), len(reporters)))
        assert all(r.result().status_code == 429 for r in refused)
        # Every wait is under way (the refusals came back): the admin reads meanwhile.
        admin = _get(api_url, people["admin"])
        assert admin.status_code == 200, admin.text
        assert not all(w.done() for w in waits), "the admin's read waited for the waiters"
        answers = [w.result() for w in waits]
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [429] * len(reporters) + [503] * (len(reporters) * WAITERS_PER_CALLER)
    for response in answers:
        if response.status_code == 429:
            assert_problem(response, 429)
            assert response.headers["retry-after"] == "1"

