"""The webhooks admin page in a real browser: create one (its signing secret shown once),
pause and resume it, read its deliveries, delete it. Private addresses are allowed here so the
URL needs no outside network; nobody receives the deliveries, which stay pending."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.web.a11y import assert_accessible
from tests.web.conftest import Accounts, Client, sign_in


@pytest.fixture(scope="module")
def api_env(api_env: dict[str, str]) -> dict[str, str]:
    return {**api_env, "TRAIL_WEBHOOK_ALLOW_PRIVATE": "true"}


def test_admins_create_pause_read_and_delete_webhooks(
    browser: Browser, web_url: str, client: Client, accounts: Accounts,
    project: dict[str, Any],
) -> None:
    page = sign_in(browser, web_url, accounts.admin.email, start="/manage/webhooks")
    assert_accessible(page)
    page.get_by_label("URL").fill("ftp://example.com/hook")
    page.get_by_role("button", name="Create webhook").click()
    expect(page.locator("#e-url")).to_be_visible()
    expect(page.get_by_label("URL")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("URL").fill("http://127.0.0.1:9/trail")
    page.get_by_label("Event types").fill("Ticket.Created")
    page.get_by_role("button", name="Create webhook").click()
    secret = page.get_by_label("Signing secret").input_value()
    assert secret.startswith("whsec_")
    assert_accessible(page)
    listed = client.get("/webhooks", accounts.admin.token).json()["items"]
    assert [h["url"] for h in listed] == ["http://127.0.0.1:9/trail"]
    hook_id = listed[0]["id"]
    row = page.locator(f"#webhook-{hook_id}")
    expect(row).to_contain_text("Ticket.Created")
    row.get_by_role("button", name=re.compile("^Pause")).click()
    expect(page.locator(f"#webhook-{hook_id}")).to_contain_text("Paused")
    assert secret not in page.content()
    assert client.get(f"/webhooks/{hook_id}", accounts.admin.token).json()["active"] is False
    page.locator(f"#webhook-{hook_id}").get_by_role("button", name=re.compile("^Resume")).click()
    expect(page.locator(f"#webhook-{hook_id}")).to_contain_text("Active")
    # A matching event makes a delivery, listed on the webhook's page.
    created = client.post("/tickets", accounts.admin.token,
                          json={"project_id": project["id"], "title": "Hooked"})
    assert created.status_code == 201
    # The page reads the deliveries once they show this browser's writes, not the API's.
    waited = client.get(f"/webhooks/{hook_id}/deliveries", accounts.admin.token,
                        headers={"Trail-Min-Position": created.headers["Trail-Position"]})
    assert len(waited.json()["items"]) == 1
    page.get_by_role("link", name="http://127.0.0.1:9/trail").click()
    expect(page).to_have_url(re.compile(rf"/manage/webhooks/{hook_id}$"))
    rows = page.locator("tbody tr[id^=delivery-]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Ticket.Created")
    assert_accessible(page)
    page.goto("/manage/webhooks")
    page.locator(f"#webhook-{hook_id}").get_by_role("button", name=re.compile("^Delete")).click()
    expect(page.get_by_role("status").first).to_contain_text("Webhook deleted")
    expect(page.locator(f"#webhook-{hook_id}")).to_have_count(0)
    assert client.get(f"/webhooks/{hook_id}", accounts.admin.token).status_code == 404
    # Anyone else: no such page.
    developer = sign_in(browser, web_url, accounts.developer.email)
    response = developer.goto("/manage/webhooks")
    assert response is not None and response.status == 404
