"""/docs renders the endpoint list in a real headless Chromium, with no internet access needed:
every script and stylesheet comes from this server.

The rendering test needs a Chromium on PATH (Debian: `apt-get install -y chromium`; `.ci/run`
installs it). The asset test needs nothing: it checks that the page loads nothing from elsewhere.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from tests.api.conftest import Client

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def _browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def test_every_asset_of_the_docs_page_is_served_by_this_server(client: Client) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets, "the page loads no scripts or styles"
    for asset in assets:
        assert asset.startswith("/"), f"{asset} is not served by this server"
        assert client.get(asset).status_code == 200, f"{asset} is not served"


def test_docs_render_the_endpoint_list_in_chromium(client: Client, api_url: str) -> None:
    browser = _browser()
    if browser is None:
        # CI installs Chromium, so there its absence is a failure; a developer's machine
        # without a browser still runs the asset test above.
        if os.environ.get("CI"):
            pytest.fail("no Chromium on PATH: apt-get install -y chromium (.ci/run does)")
        pytest.skip("no Chromium on PATH (apt-get install -y chromium)")
    result = subprocess.run(
        [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            # Anything not on loopback fails: the page must not need the internet.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=15000", "--dump-dom", f"{api_url}/docs",
        ],
        capture_output=True, text=True, timeout=90, check=False,
    )
    dom = result.stdout
    assert 'class="swagger-ui' in dom, result.stderr[-2000:]
    for path in ("/tickets/{ticket_id}", "/auth/token", "/events/stream", "/admin/emails"):
        assert f'data-path="{path}"' in dom, f"{path} is not listed"
    paths = client.get("/schema/openapi.json").json()["paths"]
    operations = sum(len(methods) for methods in paths.values())
    assert dom.count('class="opblock ') == operations
