"""Two API processes and no load balancer: each follows the log itself, so clients connected to
either see the same events in the same order, whichever process took the commands."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.conftest import Accounts, Client, new_ticket
from tests.api.live import live
from tests.api.server import api_process

COMMANDS_PER_WRITER = 15


@pytest.fixture(scope="module")
def second_api(api_url: str, api_env: dict[str, str]) -> Iterator[str]:
    with api_process(api_env) as url:
        yield url


def test_clients_of_two_processes_see_the_same_ordered_events(
    api_url: str, second_api: str, client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    tickets = [new_ticket(client, accounts.developer.token, project["id"]) for _ in range(2)]
    positions: list[int] = []
    lock = threading.Lock()

    def write(url: str, ticket: dict[str, Any]) -> None:
        headers = {"Authorization": f"Bearer {accounts.developer.token}"}
        with httpx.Client(base_url=url, timeout=30, headers=headers) as http:
            for n in range(COMMANDS_PER_WRITER):
                response = http.patch(f"/tickets/{ticket['id']}", json={"title": f"take {n}"})
                assert response.status_code == 200, response.text
                with lock:
                    positions.append(int(response.headers["Trail-Position"]))

    with live(api_url, accounts.admin.token) as first, \
            live(second_api, accounts.reporter.token) as reporter_ws, \
            live(second_api, accounts.developer.token) as second:
        for ws in (first, second, reporter_ws):
            ws.subscribe(f"project:{project['id']}")
        writers = [threading.Thread(target=write, args=(url, ticket))
                   for url, ticket in zip((api_url, second_api), tickets, strict=True)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
        expected = sorted(positions)
        seen_first = [f["position"] for f in first.take(len(expected))]
        seen_second = [f["position"] for f in second.take(len(expected))]
        # The reporter reported neither ticket: in log order, its own comes first.
        own = new_ticket(client, accounts.reporter.token, project["id"])
        assert reporter_ws.recv()["ticket_id"] == own["id"]
    assert seen_first == seen_second == expected
    events = client.get("/events", accounts.admin.token,
                        params={"after": expected[0] - 1, "limit": 100}).json()["items"]
    assert [e["position"] for e in events if e["ticket_id"] in {t["id"] for t in tickets}
            ] == expected
