"""Screenshots of the web app's main pages for the README: `uv run python -m tests.web.screenshots`.

Starts Trail on a scratch database (the local PostgreSQL and Redis, or embedded ones), fills it
with a small, plausible project through the API, and saves PNGs under docs/screenshots/.
"""

from __future__ import annotations

import secrets
import struct
import tempfile
import zlib
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from commands.base import Trail
from commands.services import build_commands
from runtime.embedded import postgres_env
from runtime.migrate import migrate
from tests.api.server import api_process, projecting
from tests.services import create_scratch_database, test_database_url, test_redis_url
from tests.web.conftest import CHROMIUM_ARGS, chromium_path

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "correct horse 9"


def seed(url: str) -> str:
    """A project with a few tickets and a history worth travelling through; the key of the
    ticket to show."""
    http = httpx.Client(base_url=url, timeout=30)
    position = 0

    def call(method: str, path: str, token: str | None = None, **kwargs: object) -> httpx.Response:
        nonlocal position
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if method == "GET" and position:
            headers["Trail-Min-Position"] = str(position)
        answer = http.request(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]
        assert answer.status_code < 300, answer.text
        position = max(position, int(answer.headers.get("trail-position", 0)))
        return answer

    people = {}
    for name, email in (("Ada Admin", "ada@example.com"), ("Dev Eloper", "dev@example.com"),
                        ("Rita Reporter", "rita@example.com")):
        people[email] = call("POST", "/auth/register",
                             json={"name": name, "email": email, "password": PASSWORD}).json()
    token = call("POST", "/auth/token",
                 json={"email": "ada@example.com", "password": PASSWORD}).json()["access_token"]
    call("PATCH", f"/users/{people['dev@example.com']['id']}", token, json={"role": "developer"})
    dev = people["dev@example.com"]["id"]
    project = call("POST", "/projects", token,
                   json={"name": "Web Shop", "key": "WEB",
                         "description": "The public shop and its checkout"}).json()
    rita = call("POST", "/auth/token", json={"email": "rita@example.com",
                                             "password": PASSWORD}).json()["access_token"]
    samples = [
        ("Checkout button does nothing on Safari", "high", "bug", ["checkout", "safari"]),
        ("Add Apple Pay to the payment options", "medium", "feature", ["payments"]),
        ("Product images load slowly on mobile", "urgent", "bug", ["performance", "mobile"]),
        ("Update the privacy policy page", "low", "task", ["legal"]),
        ("Customer cannot reset their password", "high", "support", ["accounts"]),
    ]
    keys: list[str] = []
    ids: list[str] = []
    for n, (title, priority, kind, tags) in enumerate(samples):
        ticket = call("POST", "/tickets", rita if n == 0 else token, json={
            "project_id": project["id"], "title": title, "priority": "medium" if n == 0 else
            priority, "type": kind, "tags": tags,
            "description": "Steps to reproduce:\n1. Add an item to the cart\n2. Click Checkout"
                           "\n\nNothing happens, and the console shows no error."}).json()
        keys.append(ticket["key"])
        ids.append(ticket["id"])
    first = keys[0]
    call("PATCH", f"/tickets/{first}", token, json={"priority": "high"})
    call("PUT", f"/tickets/{first}/assignees", token, json={"user_ids": [dev]})
    call("PATCH", f"/tickets/{first}", token, json={"status": "in_progress"})
    call("POST", f"/tickets/{first}/comments", token,
         json={"body": "Reproduced on Safari 17: the click handler never fires."})
    call("PATCH", f"/tickets/{first}", token, json={
        "description": "Steps to reproduce:\n1. Add an item to the cart on Safari 17\n"
                       "2. Click Checkout\n\nNothing happens: the click handler is never "
                       "attached on Safari."})
    call("PATCH", f"/tickets/{first}", token, json={"tags": ["checkout", "safari", "ios"]})
    for key in keys[3:]:
        call("PATCH", f"/tickets/{key}", token, json={"status": "in_progress"})
        call("PATCH", f"/tickets/{key}", token, json={"status": "resolved"})
    # What the ticket page shows beside its fields: a screenshot, a link, subtasks, a chat.
    call("POST", f"/tickets/{first}/attachments", rita,
         files={"file": ("checkout-safari.png", screenshot_png(), "image/png")})
    call("POST", f"/tickets/{first}/attachments", token,
         files={"file": ("console.txt", b"[Log] checkout.js loaded\n[Log] no handler bound\n",
                         "text/plain")})
    call("POST", f"/tickets/{first}/links", token, json={"type": "relates_to",
                                                         "ticket_id": ids[1]})
    subtasks = [("Bind the click handler after the cart renders", "resolved"),
                ("Add a Safari run to the checkout tests", None)]
    for title, status in subtasks:
        sub = call("POST", "/tickets", token, json={
            "project_id": project["id"], "title": title, "type": "task",
            "parent_id": ids[0]}).json()
        if status:
            call("PATCH", f"/tickets/{sub['key']}", token, json={"status": "in_progress"})
            call("PATCH", f"/tickets/{sub['key']}", token, json={"status": status})
    dev_token = call("POST", "/auth/token", json={"email": "dev@example.com",
                                                  "password": PASSWORD}).json()["access_token"]
    call("POST", f"/tickets/{first}/messages", rita,
         json={"body": "It happens on my iPhone too. Should I send a screen recording?"})
    call("POST", f"/tickets/{first}/messages", dev_token,
         json={"body": "Yes please! And which iOS version is it?"})
    call("POST", f"/tickets/{first}/messages", rita, json={"body": "iOS 17.4, Safari."})
    call("POST", f"/tickets/{first}/comments", token,
         json={"body": "Found it: the handler is bound before the cart renders."})
    team = call("POST", "/teams", token, json={"name": "Checkout", "lead_id": dev}).json()
    call("PUT", f"/teams/{team['id']}/members", token,
         json={"user_ids": [dev, people["ada@example.com"]["id"]]})
    call("POST", "/teams", token, json={"name": "Platform"})
    return first


def screenshot_png() -> bytes:
    """A small, plausible screenshot: a page with a grey bar and a blue button, as a PNG."""
    width, height = 160, 100
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            if y < 16:
                pixel = (229, 231, 235)
            elif 60 <= y < 78 and 40 <= x < 120:
                pixel = (52, 81, 178)
            else:
                pixel = (255, 255, 255)
            row += bytes(pixel)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


def main() -> None:
    path = chromium_path()
    assert path, "no Chromium: apt-get install -y chromium"
    # One name, made afresh by each run: runs leave no database behind them but the last.
    database = create_scratch_database(test_database_url(), "t_screenshots")
    migrate(database)
    env = postgres_env(database)
    build_commands(Trail(env)).close()
    with tempfile.TemporaryDirectory() as data:
        api_env = {"DATABASE_URL": database, "REDIS_URL": test_redis_url(),
                   "TRAIL_SECRET_KEY": secrets.token_urlsafe(48), "TRAIL_DATA_DIR": data}
        with projecting(env), api_process(api_env) as url:
            key = seed(url)
            OUT.mkdir(parents=True, exist_ok=True)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
                context = browser.new_context(base_url=url,
                                              viewport={"width": 1280, "height": 860})
                page = context.new_page()
                page.goto("/signin")
                page.screenshot(path=OUT / "signin.png")
                page.get_by_label("Email").fill("ada@example.com")
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url("**/t")
                shots = [("tickets.png", "/t"),
                         ("time-travel.png", f"/t/{key}?version=6"),
                         ("dashboard.png", "/dashboard"), ("admin-users.png", "/manage/users"),
                         ("admin-teams.png", "/manage/teams"),
                         ("admin-webhooks.png", "/manage/webhooks"),
                         ("account-tokens.png", "/account/tokens")]
                for name, target in shots:
                    page.goto(target)
                    page.screenshot(path=OUT / name, full_page=True)
                # The assignee's view: the ticket with its conversation, and its inbox.
                assignee = browser.new_context(base_url=url,
                                               viewport={"width": 1280, "height": 860})
                dev = assignee.new_page()
                dev.goto("/signin")
                dev.get_by_label("Email").fill("dev@example.com")
                dev.get_by_label("Password").fill(PASSWORD)
                dev.get_by_role("button", name="Sign in").click()
                dev.wait_for_url("**/t")
                for name, target in (("ticket.png", f"/t/{key}"),
                                     ("notifications.png", "/inbox")):
                    dev.goto(target)
                    dev.screenshot(path=OUT / name, full_page=True)
                phone = browser.new_context(base_url=url, viewport={"width": 375, "height": 800},
                                            storage_state=assignee.storage_state())
                small = phone.new_page()
                small.goto(f"/t/{key}")
                small.screenshot(path=OUT / "phone-ticket.png", full_page=False)
                browser.close()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
