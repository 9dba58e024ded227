"""The ticket page's panels in a real browser: a reporter files a ticket with a screenshot (and
is told inline why an HTML file is refused), downloads it back; the assignee and the reporter
talk in the conversation, which an admin does not see; a developer links tickets and adds a
subtask whose progress the parent shows; anyone watches and stops watching. Every page state
passes the accessibility check."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Browser, expect

from tests.api.conftest import new_ticket
from tests.blobstore.samples import png
from tests.web.a11y import assert_accessible, assert_fits
from tests.web.conftest import Accounts, Client, sign_in


def test_a_reporter_files_a_ticket_with_a_screenshot(
    browser: Browser, web_url: str, accounts: Accounts, project: dict[str, Any]
) -> None:
    page = sign_in(browser, web_url, accounts.reporter.email, start="/t/new")
    page.get_by_label("Title").fill("The cart page is blank")
    # Triage fields are not offered to a reporter.
    expect(page.get_by_label("Parent ticket")).to_have_count(0)
    page.get_by_role("button", name="File ticket").click()
    expect(page).to_have_url(re.compile(r"/t/TC-\d+$"))
    key = page.url.rsplit("/", 1)[1]
    attachments = page.locator("#attachments")
    expect(attachments).to_contain_text("No attachments")
    # A page of HTML is not a file Trail keeps, whatever its name says: told under the input.
    page.get_by_label("Attach a file").set_input_files(
        {"name": "screenshot.png", "mimeType": "image/png", "buffer": b"<html><script>"})
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#upload-error")).to_contain_text("is not a type Trail keeps")
    expect(page.get_by_label("Attach a file")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    shot = png()
    page.get_by_label("Attach a file").set_input_files(
        {"name": "blank cart.png", "mimeType": "image/png", "buffer": shot})
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status").first).to_contain_text("File attached")
    link = attachments.get_by_role("link", name="blank cart.png")
    expect(link).to_be_visible()
    expect(attachments.locator("img")).to_have_count(1)
    expect(page.locator(".timeline")).to_contain_text("Attachments")
    assert_accessible(page)
    # The bytes come back as a download, exactly as sent.
    href = link.get_attribute("href")
    assert href is not None
    download = page.request.get(href)
    assert download.status == 200
    assert download.headers["content-type"] == "image/png"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.body() == shot
    # Another reporter gets the 404 page, for the file as for its ticket.
    other = sign_in(browser, web_url, accounts.other_reporter.email)
    response = other.goto(href)
    assert response is not None and response.status == 404
    expect(other.get_by_role("heading", name="Not found")).to_be_visible()
    # The uploader removes it; the history keeps it.
    page.get_by_role("button", name="Remove blank cart.png").click()
    expect(attachments).to_contain_text("No attachments")
    expect(page).to_have_url(re.compile(rf"/t/{key}#attachments$"))


def test_the_conversation_is_for_the_reporter_and_the_assignees(
    browser: Browser, web_url: str, client: Client, accounts: Accounts,
    project: dict[str, Any],
) -> None:
    ticket = new_ticket(client, accounts.reporter.token, project["id"], title="Refund twice")
    key = ticket["key"]
    answer = client.put(f"/tickets/{key}/assignees", accounts.admin.token,
                        json={"user_ids": [accounts.developer.id]})
    assert answer.status_code == 200
    developer = sign_in(browser, web_url, accounts.developer.email, start=f"/t/{key}")
    conversation = developer.get_by_role("region", name="Conversation")
    expect(conversation).to_contain_text("No messages yet")
    developer.get_by_label("Your message").fill("")
    developer.get_by_role("button", name="Send").click()
    expect(developer.locator("#message-error")).to_contain_text("Message")
    developer.get_by_label("Your message").fill("Which card did you pay with?")
    developer.get_by_role("button", name="Send").click()
    expect(conversation.locator(".message")).to_contain_text("Which card did you pay with?")
    assert_accessible(developer)
    reporter = sign_in(browser, web_url, accounts.reporter.email, start=f"/t/{key}",
                       width=375)
    reply = reporter.get_by_role("region", name="Conversation")
    expect(reply).to_contain_text("Which card did you pay with?")
    assert_fits(reporter)
    # An admin sees the ticket but takes no part in its conversation.
    admin = sign_in(browser, web_url, accounts.admin.email, start=f"/t/{key}")
    expect(admin.get_by_role("heading", name="Watchers")).to_be_visible()
    expect(admin.get_by_role("region", name="Conversation")).to_have_count(0)
    expect(admin.locator("body")).not_to_contain_text("Which card did you pay with?")


def test_links_subtasks_and_watching(
    browser: Browser, web_url: str, client: Client, accounts: Accounts,
    project: dict[str, Any],
) -> None:
    parent = new_ticket(client, accounts.admin.token, project["id"], title="Launch the shop")
    blocker = new_ticket(client, accounts.admin.token, project["id"], title="Payments")
    page = sign_in(browser, web_url, accounts.developer.email, start=f"/t/{parent['key']}")
    links = page.get_by_role("region", name="Links and subtasks")
    # A key that names nothing is an error under the input.
    page.get_by_label("Ticket key").fill("TC-9999")
    page.get_by_role("button", name="Link", exact=True).click()
    expect(page.locator("#link-error")).to_contain_text("is not the key of a ticket you can see")
    page.get_by_label("This ticket").select_option("blocked_by")
    page.get_by_label("Ticket key").fill(blocker["key"])
    page.get_by_role("button", name="Link", exact=True).click()
    expect(links).to_contain_text("Blocked by")
    expect(links.get_by_role("link", name=blocker["key"])).to_be_visible()
    # A subtask: the new-ticket form comes with the parent filled in.
    links.get_by_role("link", name="Add a subtask").click()
    expect(page.get_by_label("Parent ticket")).to_have_value(parent["key"])
    page.get_by_label("Title").fill("Write the launch email")
    page.get_by_role("button", name="File ticket").click()
    expect(page.locator("#links")).to_contain_text(f"Subtask of {parent['key']}")
    page.get_by_role("link", name=parent["key"]).first.click()
    expect(page.locator("#links")).to_contain_text("0 of 1 done")
    expect(page.locator("#links")).to_contain_text("Write the launch email")
    assert_accessible(page)
    # The other end shows the inverse link, and either end removes it.
    page.goto(f"/t/{blocker['key']}")
    expect(page.locator("#links")).to_contain_text("Blocks")
    page.get_by_role("button", name=f"Unlink {parent['key']}").click()
    expect(page.locator("#links")).not_to_contain_text(parent["key"])
    # Watching: a button, and the list of watchers.
    watchers = page.get_by_role("region", name="Watchers")
    expect(watchers).not_to_contain_text("Dev Eloper")
    watchers.get_by_role("button", name="Watch").click()
    expect(watchers).to_contain_text("Dev Eloper")
    watchers.get_by_role("button", name="Stop watching").click()
    expect(watchers.get_by_role("button", name="Watch")).to_be_visible()
    expect(watchers).not_to_contain_text("Dev Eloper")
