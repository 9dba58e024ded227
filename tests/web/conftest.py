"""Fixtures for the web app's tests: the real server (the API process, which serves the web app
at `/`), its accounts, and a headless Chromium driven by Playwright.

The browser is Debian's Chromium (`/usr/bin/chromium`, which `.ci/run` installs); Playwright
never downloads one. Without it the browser tests are skipped on a developer's machine and fail
in CI, where its absence is a broken set-up.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.api.conftest import (  # noqa: F401  (fixtures, registered by importing them)
    PASSWORD,
    Accounts,
    Client,
    accounts,
    api_env,
    api_url,
    client,
    project,
)

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
# Playwright's own waits (expect, clicks) give up after this; a page of this app answers in
# milliseconds, so only a real failure takes that long.
TIMEOUT_MS = 10_000


def chromium_path() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("no Chromium: apt-get install -y chromium (.ci/run does)")
        pytest.skip("no Chromium installed (apt-get install -y chromium)")
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, headless=True,
                                              args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def new_context(browser: Browser, base_url: str, **options: Any) -> BrowserContext:
    # The pages' Content-Security-Policy allows no injected script, and the accessibility
    # check injects axe-core: the test's own script may pass (the pages' scripts are all
    # served files, which the policy allows either way).
    context = browser.new_context(base_url=base_url, bypass_csp=True, **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def sign_in(browser: Browser, base_url: str, email: str, *, width: int = 1280,
            start: str = "/t") -> Page:
    """A page signed in as `email` through the sign-in form, on `start`."""
    context = new_context(browser, base_url, viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(start)
    expect(page).to_have_url(re.compile(r"/signin\?next="))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(start) + "$"))
    return page


@pytest.fixture(scope="module")
def web_url(api_url: str) -> str:  # noqa: F811  (the fixture imported above)
    """The server's URL: the API process serves the web app at `/`."""
    return api_url
