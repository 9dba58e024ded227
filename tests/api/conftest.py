"""Fixtures for the HTTP tests: a real API process on a scratch database, with projections
running, and a client that reads its own writes (it sends back each `Trail-Position`)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis

from commands.services import Commands
from tests.api.server import api_process, projecting

PASSWORD = "correct horse 9"


class Client:
    """httpx over the API; GETs wait for the last write this client saw (Trail-Min-Position)."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)
        self.position = 0

    def request(
        self,
        method: str,
        path: str,
        token: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if token is not None:
            sent.setdefault("Authorization", f"Bearer {token}")
        if method == "GET" and self.position:
            sent.setdefault("Trail-Min-Position", str(self.position))
        response = self.http.request(method, path, headers=sent, **kwargs)
        if "trail-position" in response.headers:
            self.position = max(self.position, int(response.headers["trail-position"]))
        return response

    def get(self, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, token, **kwargs)

    def post(self, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, token, **kwargs)

    def patch(self, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, token, **kwargs)

    def put(self, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, token, **kwargs)

    def delete(self, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, token, **kwargs)

    def register(self, name: str, email: str, password: str = PASSWORD) -> dict[str, Any]:
        response = self.post("/auth/register", json={"name": name, "email": email,
                                                     "password": password})
        assert response.status_code == 201, response.text
        user: dict[str, Any] = response.json()
        return user

    def login(self, email: str, password: str = PASSWORD) -> str:
        response = self.post("/auth/token", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    token: str


@dataclass(frozen=True)
class Accounts:
    admin: Account
    developer: Account
    reporter: Account
    other_reporter: Account


@pytest.fixture(scope="module")
def api_env(scratch_database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[dict[str, str]]:
    # Counters of its own (login failures, throttles): earlier modules, earlier runs and runs
    # in parallel on the same Redis never rate-limit this module's requests from 127.0.0.1.
    namespace = f"trail-test-{secrets.token_hex(8)}"
    yield {
        "DATABASE_URL": scratch_database_url,
        "REDIS_URL": redis_url,
        "TRAIL_SECRET_KEY": secrets.token_urlsafe(48),
        "TRAIL_DATA_DIR": str(tmp_path_factory.mktemp("trail-data")),
        "TRAIL_REGISTRATION": "open",
        "TRAIL_REDIS_NAMESPACE": namespace,
        # Every test registers its people from 127.0.0.1; test_throttling.py tests the limit.
        "TRAIL_REGISTRATIONS_PER_HOUR": "100000",
    }
    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(f"{namespace}:*"):
            client.delete(key)
    finally:
        client.close()


@pytest.fixture(scope="module")
def api_url(app: Commands, trail_env: dict[str, str], api_env: dict[str, str]) -> Iterator[str]:
    # `app` has created the event store's tables, so the projections can start at once.
    with projecting(trail_env), api_process(api_env) as url:
        yield url


@pytest.fixture(scope="module")
def client(api_url: str) -> Iterator[Client]:
    client = Client(api_url)
    yield client
    client.http.close()


@pytest.fixture(scope="module")
def accounts(client: Client) -> Accounts:
    """The first account (admin), a developer and two reporters."""
    admin = client.register("Ada Admin", "ada@example.com")
    developer = client.register("Dev Eloper", "dev@example.com")
    reporter = client.register("Rita Reporter", "rita@example.com")
    other = client.register("Otto Other", "otto@example.com")
    admin_token = client.login("ada@example.com")
    response = client.patch(f"/users/{developer['id']}", admin_token, json={"role": "developer"})
    assert response.status_code == 200, response.text
    return Accounts(
        admin=Account(admin["id"], admin["email"], admin_token),
        developer=Account(developer["id"], developer["email"], client.login(developer["email"])),
        reporter=Account(reporter["id"], reporter["email"], client.login(reporter["email"])),
        other_reporter=Account(other["id"], other["email"], client.login(other["email"])),
    )


@pytest.fixture(scope="module")
def project(client: Client, accounts: Accounts) -> dict[str, Any]:
    response = client.post("/projects", accounts.admin.token, json={"name": "Trail Core"})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def new_ticket(client: Client, token: str, project_id: str, **fields: Any) -> dict[str, Any]:
    response = client.post("/tickets", token, json={"project_id": project_id,
                                                     "title": "Something is wrong", **fields})
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()
    return ticket
