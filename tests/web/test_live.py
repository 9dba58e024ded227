"""Live updates in the web app: a page opens `/ws` with its session cookie and shows what
someone else changes, without a reload (two browsers, one per person); the cookie is taken only
from Trail's own pages and only while the session lasts. Waits are Playwright's conditions and
bounded frame reads, never sleeps."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import Browser, expect
from websockets.sync.client import connect

from tests.api.conftest import new_ticket
from tests.api.live import Live, ws_url
from tests.web.conftest import Accounts, Client, sign_in
from tests.web.test_sessions import csrf_token, signed_in


def test_the_assignees_page_follows_changes_made_by_someone_else(
    browser: Browser, web_url: str, client: Client, accounts: Accounts,
    project: dict[str, Any],
) -> None:
    ticket = new_ticket(client, accounts.reporter.token, project["id"], title="Search is slow")
    key = ticket["key"]
    admin = sign_in(browser, web_url, accounts.admin.email, start=f"/t/{key}")
    developer = sign_in(browser, web_url, accounts.developer.email, start=f"/t/{key}")
    details = developer.get_by_role("complementary", name="Ticket details")
    expect(details).to_contain_text("Nobody")
    # The admin assigns the developer in its own browser: the developer's page shows it.
    admin.get_by_text("Change assignees").click()
    admin.get_by_role("checkbox", name="Dev Eloper").check()
    admin.get_by_role("button", name="Save assignees").click()
    expect(details).to_contain_text("Dev Eloper")
    expect(developer.locator(".timeline")).to_contain_text("changed the assignees")
    expect(developer.get_by_role("region", name="Conversation")).to_have_count(0)
    # A change from the API is no different.
    answer = client.patch(f"/tickets/{key}", accounts.admin.token,
                          json={"title": "Search takes ten seconds", "priority": "urgent"})
    assert answer.status_code == 200
    expect(developer.get_by_role("heading", level=1)).to_contain_text("Search takes ten seconds")
    expect(details).to_contain_text("Urgent")
    # Text being typed is not replaced: a notice offers the changes instead.
    developer.goto(f"/t/{key}")
    developer.get_by_text("Change assignees").click()
    developer.get_by_role("checkbox", name="Dev Eloper").uncheck()
    answer = client.patch(f"/tickets/{key}", accounts.admin.token, json={"priority": "low"})
    assert answer.status_code == 200
    notice = developer.locator("#live-notice")
    expect(notice).to_contain_text(f"{key} was changed")
    expect(developer.get_by_role("checkbox", name="Dev Eloper")).not_to_be_checked()
    notice.get_by_role("button", name="Show the changes").click()
    expect(details).to_contain_text("Low")
    expect(notice).to_have_count(0)
    # The reporter writes in the conversation; the assignee's page shows it.
    answer = client.post(f"/tickets/{key}/messages", accounts.reporter.token,
                         json={"body": "It got worse after the upgrade."})
    assert answer.status_code == 201
    expect(developer.locator("#messages")).to_contain_text("It got worse after the upgrade.")
    # A notification for a watched ticket raises the unread count in the header at once.
    unread = developer.locator("#unread-count")
    before = int(unread.get_attribute("data-count") or "0")
    answer = client.post(f"/tickets/{key}/comments", accounts.reporter.token,
                         json={"body": "Any news?"})
    assert answer.status_code == 201
    expect(unread).to_have_attribute("data-count", str(before + 1))
    expect(developer.locator("#comments")).to_contain_text("Any news?")


def _cookie_header(http: httpx.Client) -> str:
    return "; ".join(f"{name}={value}" for name, value in http.cookies.items())


def test_a_session_cookie_opens_the_stream_only_from_trails_pages_while_it_lasts(
    web_url: str, accounts: Accounts
) -> None:
    http = signed_in(web_url, accounts.developer.email)
    cookie = _cookie_header(http)
    host = re.sub(r"^http://", "", web_url)
    with connect(ws_url(web_url), open_timeout=30,
                 additional_headers={"Cookie": cookie, "Origin": web_url}) as connection:
        stream = Live(connection)
        ready = stream.recv()
        assert ready == {"type": "ready", "user_id": accounts.developer.id}
        assert stream.subscribe("notifications")["type"] == "subscribed"
    # Another site's page cannot use a visitor's cookie.
    with connect(ws_url(web_url), open_timeout=30,
                 additional_headers={"Cookie": cookie,
                                     "Origin": "http://evil.example"}) as connection:
        assert Live(connection).closed_with() == 4401
    # Signed out, the cookie opens nothing, copied or not.
    token = csrf_token(http, "/t")
    assert http.post("/signout", data={"_csrf": token}).status_code == 303
    with connect(ws_url(web_url), open_timeout=30,
                 additional_headers={"Cookie": cookie, "Origin": f"http://{host}"}) as connection:
        assert Live(connection).closed_with() == 4401
    http.close()
