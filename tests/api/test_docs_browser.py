"""/docs renders the endpoint list in a real headless Chromium, with no internet access needed:
every script and stylesheet comes from this server.

Needs a Chromium on PATH (Debian: `apt-get install -y chromium`); skipped without one.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.api.conftest import Client

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def _browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


@pytest.mark.skipif(_browser() is None, reason="no Chromium on PATH (apt-get install chromium)")
def test_docs_render_the_endpoint_list_in_chromium(client: Client, api_url: str) -> None:
    browser = _browser()
    assert browser is not None
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
