"""Helpers for the attachment tests over HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import Client

MIB = 1024 * 1024


def upload(
    client: Client,
    token: str,
    ticket_id: str,
    content: bytes,
    filename: str = "file.bin",
    claimed_type: str = "application/octet-stream",
    **kwargs: Any,
) -> httpx.Response:
    """POST the file as the multipart part `file`, as a browser or curl -F sends it."""
    return client.post(f"/tickets/{ticket_id}/attachments", token,
                       files={"file": (filename, content, claimed_type)}, **kwargs)


def attached(client: Client, token: str, ticket_id: str, content: bytes,
             filename: str = "file.bin") -> dict[str, Any]:
    response = upload(client, token, ticket_id, content, filename)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def media_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0].strip()
