"""Operations: request ids and structured logs, /metrics, /livez and /readyz, CORS, security
headers, `Link` beside `next_cursor`, `ETag` and 304 on GET answers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from commands.services import Commands
from runtime.settings import SettingsError, load_settings
from tests.api.conftest import Accounts, Client, new_ticket
from tests.api.server import api_process, projecting

ORIGIN = "https://app.example.com"


@pytest.fixture(scope="module")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs") / "api.log"


@pytest.fixture(scope="module")
def api_url(app: Commands, trail_env: dict[str, str], api_env: dict[str, str], log_file: Path
            ) -> Iterator[str]:
    env = {**api_env, "TRAIL_LOG_FORMAT": "json", "TRAIL_CORS_ORIGINS": f"{ORIGIN}, "}
    with log_file.open("wb") as stderr, projecting(trail_env), \
            api_process(env, stderr=stderr) as url:
        yield url


def _log_lines(log_file: Path) -> list[dict[str, Any]]:
    lines = []
    for raw in log_file.read_text().splitlines():
        try:
            lines.append(json.loads(raw))
        except json.JSONDecodeError:
            continue
    return lines


def test_a_request_id_is_echoed_or_made(client: Client) -> None:
    sent = client.get("/health", headers={"X-Request-Id": "abc-123"})
    assert sent.headers["x-request-id"] == "abc-123"
    made = client.get("/health")
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    unusable = client.get("/health", headers={"X-Request-Id": "spaces and\ttabs"})
    assert unusable.headers["x-request-id"] != "spaces and\ttabs"
    assert re.fullmatch(r"[0-9a-f]{32}", client.get("/no/such/path").headers["x-request-id"])


def test_every_write_is_logged_as_json_with_its_request_id_and_command_id(
    client: Client, accounts: Accounts, project: dict[str, Any], log_file: Path
) -> None:
    response = client.post("/tickets", accounts.developer.token, headers={
        "X-Request-Id": "write-1"}, json={"project_id": project["id"], "title": "Logged"})
    assert response.status_code == 201
    events = client.get(f"/events?ticket_id={response.json()['id']}", accounts.admin.token)
    command_id = events.json()["items"][0]["data"]["command_id"]
    line = next(entry for entry in _log_lines(log_file) if entry.get("request_id") == "write-1")
    assert line["event"] == "request" and line["level"] == "info"
    assert line["status"] == 201 and line["method"] == "POST"
    assert line["route"] == "/tickets" and line["command_ids"] == [command_id]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT.*Z", line["timestamp"])


def test_security_headers_on_every_answer(client: Client, accounts: Accounts) -> None:
    for response in (client.get("/health"), client.get("/no/such/path"), client.get("/docs"),
                     client.get("/me", accounts.reporter.token), client.get("/me")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["referrer-policy"] == "no-referrer"
    assert client.get("/me", accounts.reporter.token).headers["cache-control"] == "no-store"
    assert "no-store" not in client.get("/health").headers.get("cache-control", "")


def test_cors_allows_the_configured_origins_only(client: Client) -> None:
    preflight = client.http.options("/tickets", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, idempotency-key"})
    assert preflight.status_code in (200, 204)
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "idempotency-key" in preflight.headers["access-control-allow-headers"].lower()
    answer = client.get("/health", headers={"Origin": ORIGIN})
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    assert "trail-position" in answer.headers["access-control-expose-headers"].lower()
    other = client.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_cors_is_off_by_default_and_origins_are_checked() -> None:
    assert load_settings({}).cors_origins == ()
    assert load_settings({"TRAIL_CORS_ORIGINS": "https://a.example, http://b.example:8080/"}
                         ).cors_origins == ("https://a.example", "http://b.example:8080")
    with pytest.raises(SettingsError):
        load_settings({"TRAIL_CORS_ORIGINS": "a.example"})
    with pytest.raises(SettingsError):
        load_settings({"TRAIL_LOG_FORMAT": "xml"})


def test_livez_and_readyz(client: Client, scratch_database_url: str) -> None:
    assert client.get("/livez").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"
    with psycopg.connect(scratch_database_url, autocommit=True) as conn:
        kept = conn.execute("SELECT * FROM _yoyo_migration WHERE migration_id = %s",
                            ("0041.webhook-secrets",)).fetchone()
        assert kept is not None
        conn.execute("DELETE FROM _yoyo_migration WHERE migration_id = '0041.webhook-secrets'")
        try:
            response = client.get("/readyz")
            assert response.status_code == 503
            assert "0041.webhook-secrets" in response.json()["detail"]
            assert client.get("/livez").status_code == 200
        finally:
            placeholders = ", ".join(["%s"] * len(kept))
            conn.execute(f"INSERT INTO _yoyo_migration VALUES ({placeholders})", kept)
    assert client.get("/readyz").status_code == 200


def _scrape(client: Client) -> dict[str, Any]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {family.name: family for family in text_string_to_metric_families(response.text)}


def test_metrics_count_requests_and_read_the_backlogs(
    client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    new_ticket(client, accounts.developer.token, project["id"])
    client.get("/tickets", accounts.developer.token)
    families = _scrape(client)
    requests = families["trail_http_requests"]
    listed = [s for s in requests.samples if s.labels.get("route") == "/tickets"
              and s.labels.get("method") == "GET" and s.labels.get("status") == "200"]
    assert listed and listed[0].value >= 1
    assert "trail_http_request_duration_seconds" in families
    lags = {s.labels["projection"] for s in families["trail_projection_lag_events"].samples}
    assert {"tickets", "users", "outbox"} <= lags
    for name in ("trail_outbox_pending", "trail_outbox_failed",
                 "trail_webhook_deliveries_pending", "trail_webhook_deliveries_failed"):
        assert name in families, name


def test_metrics_count_throttled_logins(client: Client) -> None:
    client.register("Throttled Person", "throttled@example.com")
    for _ in range(6):
        client.post("/auth/token", json={"email": "throttled@example.com", "password": "wrong"})
    refused = client.post("/auth/token", json={"email": "throttled@example.com",
                                               "password": "wrong"})
    assert refused.status_code == 429
    samples = _scrape(client)["trail_login_throttled"].samples
    assert next(s for s in samples if s.name == "trail_login_throttled_total").value >= 1


def test_lists_link_to_their_next_page(client: Client, accounts: Accounts) -> None:
    token = accounts.admin.token
    for n in range(3):
        client.post("/projects", token, json={"name": f"Linked {n}"})
    first = client.get("/projects?limit=2&q=Linked", token)
    body = first.json()
    assert body["next_cursor"]
    link = first.headers["link"]
    match = re.fullmatch(r'<(?P<url>[^>]+)>; rel="next"', link)
    assert match, link
    assert match["url"].startswith("/projects?") and "limit=2" in match["url"]
    second = client.get(match["url"], token)
    assert second.status_code == 200
    assert second.json()["items"][0]["id"] not in {p["id"] for p in body["items"]}
    assert second.json()["next_cursor"] is None and "link" not in second.headers


def test_get_answers_carry_an_etag_and_answer_304_when_it_matches(
    client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    token = accounts.admin.token
    path = f"/projects/{project['id']}"
    first = client.get(path, token)
    etag = first.headers["etag"]
    again = client.get(path, token, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert client.get(path, token, headers={"If-None-Match": f'W/{etag}, "x"'}
                      ).status_code == 304
    client.put(path, token, json={"name": project["name"], "description": "changed"})
    changed = client.get(path, token, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag

    ticket = new_ticket(client, token, project["id"])
    ticket_path = f"/tickets/{ticket['id']}"
    assert client.get(ticket_path, token, headers={"If-None-Match": '"1"'}).status_code == 304
    client.patch(ticket_path, token, json={"title": "Moved on"})
    assert client.get(ticket_path, token, headers={"If-None-Match": '"1"'}).status_code == 200
    listed = client.get("/tickets", token)
    assert client.get("/tickets", token, headers={"If-None-Match": listed.headers["etag"]}
                      ).status_code == 304


