"""While the database is down the API answers fast and truthfully: /health is 503 naming it,
a command or a query is 503 with Retry-After within seconds (not a 500 after the pool's 30 s),
and once the database is back the same process serves again by itself.

The database goes down for real as far as the API can tell: a proxy in front of PostgreSQL cuts
every connection and refuses new ones."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from litestar.testing import TestClient

from runtime import bootstrap
from runtime.settings import Settings
from tests.runtime.proxy import Proxy

PASSWORD = "correct horse 42"
# Well under the 30 s a request waited for the pool before; the bound itself is 2-3 s.
FAST = 15.0


@pytest.fixture
def proxy(scratch_database_url: str) -> Iterator[Proxy]:
    parts = urlsplit(scratch_database_url)
    proxy = Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    proxy.up()
    yield proxy
    proxy.down()


@pytest.fixture
def client(proxy: Proxy, scratch_database_url: str, redis_url: str,
           tmp_path: Path) -> Iterator[TestClient]:  # type: ignore[type-arg]
    parts = urlsplit(scratch_database_url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{proxy.port}"
    via_proxy = urlunsplit(parts._replace(
        netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))
    settings = Settings(data_dir=tmp_path, secret_key="outage-test-secret-key-0123456789")
    app = bootstrap.api_app(settings, via_proxy, redis_url)
    with TestClient(app) as test_client:
        yield test_client


def _sign_in_on_the_web(client: TestClient) -> None:  # type: ignore[type-arg]
    page = client.get("/signin")
    token = re.search(r'name="_csrf" value="([^"]+)"', page.text)
    assert token, "the sign-in page has no CSRF field"
    signed_in = client.post("/signin", data={"_csrf": token.group(1), "email": "ona@example.com",
                                             "password": PASSWORD, "next": "/t"},
                            follow_redirects=False)
    assert signed_in.status_code == 303, signed_in.text


def _timed(call: object) -> tuple[httpx.Response, float]:
    began = time.monotonic()
    assert callable(call)
    response = call()
    assert isinstance(response, httpx.Response)
    return response, time.monotonic() - began


def test_a_database_outage_is_503_with_retry_after_at_once_and_passes(
    client: TestClient, proxy: Proxy  # type: ignore[type-arg]
) -> None:
    registered = client.post("/auth/register", json={
        "name": "Ona Outage", "email": "ona@example.com", "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    token = client.post("/auth/token", json={"email": "ona@example.com",
                                             "password": PASSWORD}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/health").status_code == 200
    project = {"name": "Outage", "key": "OUT"}
    _sign_in_on_the_web(client)

    proxy.down()
    health, took = _timed(lambda: client.get("/health"))
    assert health.status_code == 503 and took < FAST
    assert health.json()["database"] == "down" and health.json()["status"] == "down"
    assert health.headers["Retry-After"]

    for call in (lambda: client.post("/projects", json=project, headers=auth),
                 lambda: client.get("/tickets", headers=auth),
                 lambda: client.get("/me", headers=auth)):
        answer, took = _timed(call)
        assert answer.status_code == 503, answer.text
        assert took < FAST
        assert answer.headers["Retry-After"]
        assert answer.headers["content-type"].startswith("application/problem+json")
    # A person in the web app gets a page saying so, not a 500.
    page, took = _timed(lambda: client.get("/t"))
    assert page.status_code == 503 and took < FAST
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["Retry-After"] and "Unavailable for a moment" in page.text

    proxy.up()
    # The pools find their connections dead and make new ones: no restart needed.
    deadline = time.monotonic() + 30
    while client.get("/health").status_code != 200:
        assert time.monotonic() < deadline, "the API never found the database again"
        time.sleep(0.2)
    created = client.post("/projects", json=project, headers=auth)
    while created.status_code == 503 and time.monotonic() < deadline:
        created = client.post("/projects", json=project, headers=auth)
    assert created.status_code == 201, created.text
