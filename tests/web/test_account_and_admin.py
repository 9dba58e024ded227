"""The account area and the admin pages added to the web app, in a real browser: the unread
count in the header and the notifications page, API tokens (the secret shown once, revoking
stops it), teams (a member sees the team's tickets), each page checked for accessibility."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Browser, expect

from tests.api.conftest import new_ticket
from tests.web.a11y import assert_accessible, assert_fits
from tests.web.conftest import Accounts, Client, sign_in


def test_notifications_show_their_count_in_the_header_and_are_marked_read(
    browser: Browser, web_url: str, client: Client, accounts: Accounts,
    project: dict[str, Any],
) -> None:
    ticket = new_ticket(client, accounts.reporter.token, project["id"], title="Login is slow")
    key = ticket["key"]
    for body in ("Looking into it.", "Found it: the session table."):
        answer = client.post(f"/tickets/{key}/comments", accounts.admin.token, json={"body": body})
        assert answer.status_code == 201
    expected = client.get("/notifications/unread-count", accounts.reporter.token,
                          headers={"Trail-Min-Position": answer.headers["Trail-Position"]})
    assert expected.json()["count"] == 2
    page = sign_in(browser, web_url, accounts.reporter.email)
    count = page.locator("#unread-count")
    expect(count).to_have_text(re.compile(r"^2"))
    page.get_by_role("link", name=re.compile("Notifications")).click()
    expect(page).to_have_url(re.compile(r"/inbox$"))
    items = page.locator(".notification.unread")
    expect(items).to_have_count(2)
    expect(page.locator(".notifications")).to_contain_text("Ada Admin")
    assert_accessible(page)
    items.first.get_by_role("button", name=re.compile("^Mark read")).click()
    expect(page.locator(".notification.unread")).to_have_count(1)
    expect(count).to_have_text(re.compile(r"^1"))
    # "Open" marks it read and goes to the ticket.
    page.get_by_role("button", name=f"Open {key}").click()
    expect(page).to_have_url(re.compile(rf"/t/{key}$"))
    expect(count).to_be_hidden()
    page.goto("/inbox?unread=1")
    expect(page.locator(".empty")).to_contain_text("Nothing unread")
    # A new notification appears on the open page, and in the header's count, as it comes.
    page.goto("/inbox")
    expect(page.locator(".notification")).to_have_count(2)
    answer = client.post(f"/tickets/{key}/comments", accounts.admin.token, json={"body": "Fixed."})
    assert answer.status_code == 201
    expect(page.locator(".notification.unread")).to_have_count(1)
    expect(count).to_have_text(re.compile(r"^1"))
    page.get_by_role("button", name="Mark all read").click()
    expect(page.locator(".notification.unread")).to_have_count(0)
    assert_fits(page)


def test_api_tokens_are_shown_once_and_revoked(
    browser: Browser, web_url: str, client: Client, accounts: Accounts
) -> None:
    page = sign_in(browser, web_url, accounts.developer.email, start="/account")
    page.get_by_role("link", name="Manage your API tokens").click()
    expect(page).to_have_url(re.compile(r"/account/tokens$"))
    assert_accessible(page)
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#e-name")).to_contain_text("must not be blank")
    page.get_by_label("Name").fill("CI deploys")
    page.get_by_label("Expires").select_option("30")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_label("Your new token").input_value()
    assert secret.startswith("trail_pat_")
    assert_accessible(page)
    me = client.get("/me", secret)
    assert me.status_code == 200 and me.json()["id"] == accounts.developer.id
    # Never shown again: the list names it, without the secret.
    page.goto("/account/tokens")
    expect(page.get_by_role("row", name=re.compile("CI deploys"))).to_be_visible()
    assert secret not in page.content()
    page.get_by_role("button", name="Revoke CI deploys").click()
    expect(page.get_by_role("status").first).to_contain_text("revoked")
    expect(page.locator("table")).to_have_count(0)
    assert client.get("/me", secret).status_code == 401


def test_admins_form_a_team_whose_members_see_its_tickets(
    browser: Browser, web_url: str, client: Client, accounts: Accounts,
    project: dict[str, Any],
) -> None:
    page = sign_in(browser, web_url, accounts.admin.email, start="/manage/teams")
    assert_accessible(page)
    page.get_by_label("Name").fill("Mobile")
    page.get_by_label("Lead").select_option(label="Dev Eloper")
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("status").first).to_contain_text("Team created")
    members = page.get_by_role("region", name=re.compile("Members"))
    expect(members.get_by_role("checkbox", name=re.compile("Dev Eloper"))).to_be_checked()
    assert_accessible(page)
    # A ticket of the team, reported by someone else: not Rita's to see, until she is a member.
    team_id = page.url.rsplit("/", 1)[1]
    theirs = new_ticket(client, accounts.other_reporter.token, project["id"],
                        title="The app crashes on launch")
    answer = client.patch(f"/tickets/{theirs['key']}", accounts.admin.token,
                          json={"team_id": team_id})
    assert answer.status_code == 200
    rita = sign_in(browser, web_url, accounts.reporter.email)
    response = rita.goto(f"/t/{theirs['key']}")
    assert response is not None and response.status == 404
    members.get_by_role("checkbox", name=re.compile("Rita Reporter")).check()
    page.get_by_role("button", name="Save members").click()
    expect(page.get_by_role("status").first).to_contain_text("Members saved")
    expect(members.get_by_role("checkbox", name=re.compile("Rita Reporter"))).to_be_checked()
    response = rita.goto(f"/t/{theirs['key']}")
    assert response is not None and response.status == 200
    expect(rita.get_by_role("heading", level=1)).to_contain_text("The app crashes on launch")
    # The list filters by team, and the teams table counts the members.
    rita.goto(f"/t?team={team_id}")
    expect(rita.locator(".ticket-list")).to_contain_text("The app crashes on launch")
    page.goto("/manage/teams")
    expect(page.locator(f"#team-{team_id}")).to_contain_text("2")
    # The dashboard counts the team's tickets as `/stats?team_id=` does.
    figures = client.get(f"/stats?team_id={team_id}", accounts.admin.token,
                         headers={"Trail-Min-Position": answer.headers["Trail-Position"]}).json()
    page.goto(f"/dashboard?team={team_id}")
    expect(page.get_by_label("Team", exact=True)).to_have_value(team_id)
    created = sum(d["count"] for d in figures["created_per_day"])
    assert created == 1
    expect(page.locator("[data-figure=created]")).to_have_text(str(created))
    assert_accessible(page)
    page.goto("/manage/teams")
    # A name taken already is an error under its input.
    page.get_by_label("Name").fill("mobile")
    page.get_by_role("button", name="Create team").click()
    expect(page.locator("#e-name")).to_contain_text("is already taken")
    # Not an admin: the page does not exist.
    response = rita.goto("/manage/teams")
    assert response is not None and response.status == 404
    response = rita.goto(f"/manage/teams/{team_id}")
    assert response is not None and response.status == 404
    # The team's lead, a developer, sets its members from its account.
    lead = sign_in(browser, web_url, accounts.developer.email, start="/account")
    lead.get_by_role("link", name=re.compile("set its members")).click()
    expect(lead).to_have_url(re.compile(rf"/manage/teams/{team_id}$"))
    expect(lead.get_by_role("navigation", name="Admin sections")).to_have_count(0)
    expect(lead.get_by_label("Name")).to_have_count(0)
    assert_accessible(lead)
    lead.get_by_role("checkbox", name=re.compile("Rita Reporter")).uncheck()
    lead.get_by_role("button", name="Save members").click()
    expect(lead.get_by_role("status").first).to_contain_text("Members saved")
    response = rita.goto(f"/t/{theirs['key']}")
    assert response is not None and response.status == 404


def test_paths_nothing_answers_are_a_page_for_browsers_and_a_problem_for_clients(
    browser: Browser, web_url: str, client: Client, accounts: Accounts,
    project: dict[str, Any],
) -> None:
    ticket = new_ticket(client, accounts.reporter.token, project["id"])
    page = sign_in(browser, web_url, accounts.reporter.email)
    for path in ("/nowhere", "/nowhere/at/all", "/t/NOPE-1", f"/t/{ticket['key']}?version=99",
                 "/manage/nowhere", "/account/nowhere"):
        response = page.goto(path)
        assert response is not None and response.status == 404, path
        assert response.headers["content-type"].startswith("text/html"), path
        expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        expect(page.get_by_role("link", name="Go to your tickets")).to_be_visible()
    assert_accessible(page)
    # Not allowed is a page too.
    response = page.goto("/dashboard")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    assert_accessible(page)
    # The API's clients get its problem documents, as before.
    answer = client.get("/nowhere", accounts.reporter.token)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert client.delete("/tickets", accounts.reporter.token).status_code == 405
