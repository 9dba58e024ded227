"""The web app in a real browser (headless Chromium through Playwright): each role signs in and
does its work, the time-travel control shows old values, the dashboard agrees with `/stats`,
a reporter cannot reach what it may not see, and every page passes an accessibility check and
fits a phone's width. Waits are Playwright's conditions (`expect`), never sleeps."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.api.conftest import new_ticket
from tests.web.a11y import assert_accessible, assert_fits
from tests.web.conftest import Accounts, Client, sign_in

LABELS = {"open": "Open", "in_progress": "In progress", "resolved": "Resolved",
          "closed": "Closed", "low": "Low", "medium": "Medium", "high": "High",
          "urgent": "Urgent", "bug": "Bug", "feature": "Feature", "task": "Task",
          "support": "Support"}


def test_a_developer_files_a_ticket_assigns_it_and_comments(
    browser: Browser, web_url: str, accounts: Accounts, project: dict[str, Any]
) -> None:
    page = sign_in(browser, web_url, accounts.developer.email)
    page.get_by_role("link", name="New ticket").click()
    expect(page.get_by_role("heading", name="New ticket")).to_be_visible()
    assert_accessible(page)
    # Field errors show next to their input, and nothing is filed.
    page.get_by_role("button", name="File ticket").click()
    expect(page.locator("#e-title")).to_contain_text("must not be blank")
    expect(page.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Title").fill("Checkout fails on Safari")
    page.get_by_label("Description").fill("Click Checkout: nothing happens.")
    page.get_by_label("Priority").select_option("high")
    page.get_by_label("Tags").fill("checkout, safari")
    page.get_by_role("checkbox", name="Dev Eloper").check()
    page.get_by_role("button", name="File ticket").click()
    expect(page).to_have_url(re.compile(r"/t/TC-\d+$"))
    expect(page.get_by_role("status").first).to_contain_text("created")
    details = page.get_by_role("complementary", name="Ticket details")
    expect(details).to_contain_text("High")
    expect(details).to_contain_text("Dev Eloper")
    assert_accessible(page)
    page.get_by_role("button", name="Start progress").click()
    expect(details.locator(".status-in_progress")).to_be_visible()
    page.get_by_label("Your comment").fill("On it.")
    page.get_by_role("button", name="Comment", exact=True).click()
    expect(page.locator(".comments")).to_contain_text("On it.")
    expect(page.locator(".timeline")).to_contain_text("changed the status")


def test_a_reporter_sees_only_its_own_and_no_admin_or_triage(
    browser: Browser, web_url: str, client: Client, accounts: Accounts,
    project: dict[str, Any],
) -> None:
    mine = new_ticket(client, accounts.reporter.token, project["id"], title="My printer jams")
    theirs = new_ticket(client, accounts.other_reporter.token, project["id"],
                        title="Someone else's secret")
    page = sign_in(browser, web_url, accounts.reporter.email)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Tickets")).to_be_visible()
    expect(nav.get_by_role("link", name="Admin")).to_have_count(0)
    expect(nav.get_by_role("link", name="Dashboard")).to_have_count(0)
    expect(page.locator(".ticket-list")).to_contain_text("My printer jams")
    expect(page.locator(".ticket-list")).not_to_contain_text("Someone else's secret")
    assert_accessible(page)
    # Another reporter's ticket is "not found", as if it did not exist.
    response = page.goto(f"/t/{theirs['key']}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Someone else's secret")
    for path in ("/manage/users", "/manage/projects", "/manage/emails"):
        response = page.goto(path)
        assert response is not None and response.status == 404, path
    response = page.goto("/dashboard")
    assert response is not None and response.status == 403
    # On its own ticket: no status buttons, no assignees editor, and an edit form without them.
    page.goto(f"/t/{mine['key']}")
    expect(page.get_by_role("button", name="Start progress")).to_have_count(0)
    expect(page.get_by_text("Change assignees")).to_have_count(0)
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Title")).to_have_value("My printer jams")
    expect(page.get_by_label("Priority")).to_have_count(0)
    page.get_by_label("Title").fill("My printer jams on page 2")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("My printer jams on page 2")


def test_the_time_travel_control_shows_the_ticket_as_it_was(
    browser: Browser, web_url: str, client: Client, accounts: Accounts,
    project: dict[str, Any],
) -> None:
    admin = accounts.admin.token
    ticket = new_ticket(client, admin, project["id"], title="Slow search",
                        description="Search takes ten seconds.", priority="low")
    key = ticket["key"]
    assert client.patch(f"/tickets/{key}", admin, json={"priority": "urgent"}).status_code == 200
    assert client.patch(f"/tickets/{key}", admin,
                        json={"title": "Search is slow",
                              "description": "Search takes twenty seconds."}).status_code == 200
    assert client.put(f"/tickets/{key}/assignees", admin,
                      json={"user_ids": [accounts.developer.id]}).status_code == 200
    # Versions: 1 created, 2 priority, 3 title, 4 description, 5 assignees.
    page = sign_in(browser, web_url, accounts.admin.email, start=f"/t/{key}")
    slider = page.get_by_label("Event to show the ticket after")
    expect(slider).to_have_value("5")
    details = page.get_by_role("complementary", name="Ticket details")
    expect(details).to_contain_text("Dev Eloper")
    # Keyboard only: focus the slider and step back two events.
    slider.focus()
    page.keyboard.press("ArrowLeft")
    expect(page).to_have_url(re.compile(rf"/t/{key}\?version=4$"))
    expect(page.locator(".past-banner")).to_contain_text("event 4 of 5")
    expect(details).to_contain_text("Nobody")
    page.get_by_label("Event to show the ticket after").press("ArrowLeft")
    expect(page).to_have_url(re.compile(r"version=3$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Search is slow")
    expect(page.locator("#description-heading + .prose")).to_contain_text("ten seconds")
    # A shared link to the moment after event 2: the old title, priority already urgent, and
    # the priority highlighted as what that event changed.
    page.goto(f"/t/{key}?version=2")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Slow search")
    changed = details.locator(".changed")
    expect(changed).to_contain_text("Urgent")
    expect(page.locator(".what-changed")).to_contain_text("Low → Urgent")
    assert_accessible(page)
    # The description's words that event 4 changed, as a diff.
    page.goto(f"/t/{key}?version=4")
    expect(page.locator(".prose.diff del")).to_have_text("ten")
    expect(page.locator(".prose.diff ins")).to_have_text("twenty")
    page.get_by_role("link", name="Back to now").first.click()
    expect(page).to_have_url(re.compile(rf"/t/{key}$"))
    expect(page.locator(".past-banner")).to_have_count(0)
    response = page.goto(f"/t/{key}?version=9")
    assert response is not None and response.status == 404


def test_the_dashboard_shows_what_stats_answers(
    browser: Browser, web_url: str, client: Client, accounts: Accounts,
    project: dict[str, Any],
) -> None:
    admin = accounts.admin.token
    for priority, kind in (("high", "bug"), ("urgent", "feature"), ("low", "task")):
        new_ticket(client, admin, project["id"], priority=priority, type=kind)
    resolved = new_ticket(client, admin, project["id"], title="Quick fix")
    for status in ("in_progress", "resolved"):
        answer = client.patch(f"/tickets/{resolved['id']}", admin, json={"status": status})
        assert answer.status_code == 200
    today = datetime.now(UTC).date()
    first = today - timedelta(days=6)
    query = f"project_id={project['id']}&from={first}&to={today}"
    stats = client.get(f"/stats?{query}", admin).json()
    page = sign_in(browser, web_url, accounts.developer.email,
                   start=f"/dashboard?project={project['key']}&from={first}&to={today}")
    created = sum(d["count"] for d in stats["created_per_day"])
    done = sum(d["count"] for d in stats["resolved_per_day"])
    expect(page.locator("[data-figure=created]")).to_have_text(str(created))
    expect(page.locator("[data-figure=resolved]")).to_have_text(str(done))
    median = page.locator("[data-figure=median]").get_attribute("data-seconds")
    assert median and float(median) == stats["median_seconds_to_resolve"]
    for dimension in ("status", "priority", "type"):
        rows = page.locator(f"[data-dimension={dimension}] tbody tr")
        # The figures sit in a closed <details>: read their text, not what is rendered.
        shown = {(rows.nth(n).locator("th").text_content() or "").strip():
                 int(rows.nth(n).locator("td").text_content() or "")
                 for n in range(rows.count())}
        assert shown == {LABELS[k]: v for k, v in stats[f"by_{dimension}"].items()}, dimension
    # Open at the end of today: the tickets neither resolved nor closed.
    open_now = stats["by_status"]["open"] + stats["by_status"]["in_progress"]
    expect(page.locator("[data-figure=open]")).to_have_text(str(open_now))
    assert page.locator("svg[role=img]").count() == 5
    assert_accessible(page)


def test_admins_approve_and_manage_people(
    browser: Browser, web_url: str, client: Client, accounts: Accounts
) -> None:
    newcomer = client.register("Nora Newcomer", "nora@example.com")
    page = sign_in(browser, web_url, accounts.admin.email, start="/manage/users")
    assert_accessible(page)
    row = page.locator(f"#user-{newcomer['id']}")
    row.get_by_label("Role of Nora Newcomer").select_option("developer")
    row.get_by_role("button", name="Set role of Nora Newcomer").click()
    expect(page.get_by_role("status").first).to_contain_text("User updated")
    expect(page.locator(f"#user-{newcomer['id']}").get_by_label("Role of Nora Newcomer")
           ).to_have_value("developer")
    page.locator(f"#user-{newcomer['id']}").get_by_role(
        "button", name="Deactivate Nora Newcomer").click()
    expect(page.locator(f"#user-{newcomer['id']}")).to_contain_text("Deactivated")
    # An admin is offered no way to demote or deactivate itself.
    me = page.locator(f"#user-{accounts.admin.id}")
    expect(me.get_by_role("button")).to_have_count(0)
    for path in ("/manage/projects", "/manage/emails"):
        page.goto(path)
        assert_accessible(page)


def test_every_page_fits_a_phone_and_passes_the_accessibility_check(
    browser: Browser, web_url: str, client: Client, accounts: Accounts,
    project: dict[str, Any],
) -> None:
    ticket = new_ticket(client, accounts.admin.token, project["id"],
                        title="A rather long title that has to wrap on a small phone screen",
                        tags=["mobile", "layout"])
    page = sign_in(browser, web_url, accounts.admin.email, width=375)
    for path in ("/t", "/t/new", f"/t/{ticket['key']}", f"/t/{ticket['key']}/edit",
                 "/dashboard", "/manage/users", "/manage/projects", "/manage/emails",
                 "/manage/teams", "/manage/webhooks", "/account", "/account/tokens",
                 "/inbox"):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        assert_fits(page)
        assert_accessible(page)
    anonymous = browser.new_context(base_url=web_url, bypass_csp=True,
                                    viewport={"width": 375, "height": 800}).new_page()
    for path in ("/signin", "/register", "/password-reset", "/password-reset/confirm?token=x"):
        anonymous.goto(path)
        assert_fits(anonymous)
        assert_accessible(anonymous)


def _keyboard_reaches(page: Page, name: str) -> bool:
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate("() => document.activeElement?.textContent")
        if focused and name in focused:
            return True
    return False


def test_the_keyboard_reaches_the_main_actions_with_a_visible_focus(
    browser: Browser, web_url: str, accounts: Accounts
) -> None:
    page = sign_in(browser, web_url, accounts.developer.email)
    assert _keyboard_reaches(page, "New ticket")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/t/new$"))
