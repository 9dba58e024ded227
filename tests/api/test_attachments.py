"""Attachments over HTTP against a real server whose upload limit is 1 MiB: what is taken, what is
refused and how, and what comes back."""

from __future__ import annotations

import hashlib
import socket
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.api.attachments import MIB, attached, media_type, upload
from tests.api.conftest import Accounts, Client, new_ticket
from tests.blobstore import samples

HTML = b"<!DOCTYPE html>\n<html><body><script>alert(document.cookie)</script></body></html>\n"


@pytest.fixture(scope="module")
def api_env(api_env: dict[str, str]) -> dict[str, str]:
    return {**api_env, "TRAIL_MAX_UPLOAD_MB": "1"}


@pytest.fixture
def ticket(client: Client, accounts: Accounts, project: dict[str, Any]) -> dict[str, Any]:
    """A ticket the reporter filed, assigned to the developer."""
    created = new_ticket(client, accounts.reporter.token, project["id"])
    response = client.put(f"/tickets/{created['id']}/assignees", accounts.admin.token,
                          json={"user_ids": [accounts.developer.id]})
    assert response.status_code == 200, response.text
    return created


def attachments_of(client: Client, token: str, ticket_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/tickets/{ticket_id}/attachments", token)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


@pytest.mark.parametrize("content_type", sorted(samples.ALLOWED))
def test_every_allowed_type_is_taken_and_comes_back_byte_for_byte(
    client: Client, accounts: Accounts, ticket: dict[str, Any], content_type: str
) -> None:
    body = samples.ALLOWED[content_type]()
    # Name and claimed type say nothing true: the type comes from the bytes.
    response = upload(client, accounts.reporter.token, ticket["id"], body, "upload.bin",
                      "application/x-whatever")

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["content_type"] == content_type
    assert created["size"] == len(body)
    assert created["sha256"] == hashlib.sha256(body).hexdigest()
    assert created["filename"] == "upload.bin"
    assert created["ticket_id"] == ticket["id"]
    assert created["uploaded_by"] == accounts.reporter.id
    assert created["uploader"] == {"id": accounts.reporter.id, "name": "Rita Reporter"}
    assert created["created_at"].endswith("Z")
    assert response.headers["location"] == f"/attachments/{created['id']}"
    assert int(response.headers["trail-position"]) > 0

    download = client.get(response.headers["location"], accounts.developer.token)
    assert download.status_code == 200
    assert download.content == body
    assert media_type(download) == content_type
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''upload.bin" in download.headers["content-disposition"]
    assert download.headers["etag"] == f'"{created["sha256"]}"'
    assert download.headers["accept-ranges"] == "bytes"


def test_html_named_and_claimed_as_a_png_is_refused(
    client: Client, accounts: Accounts, ticket: dict[str, Any]
) -> None:
    response = upload(client, accounts.reporter.token, ticket["id"], HTML, "screenshot.png",
                      "image/png")

    assert response.status_code == 415, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert attachments_of(client, accounts.reporter.token, ticket["id"]) == []


def test_exactly_the_limit_is_taken_and_one_byte_more_is_refused(
    client: Client, accounts: Accounts, ticket: dict[str, Any]
) -> None:
    exactly = upload(client, accounts.developer.token, ticket["id"], b"a" * MIB, "big.txt")
    over = upload(client, accounts.developer.token, ticket["id"], b"b" * (MIB + 1), "big.txt")

    assert exactly.status_code == 201, exactly.text
    assert exactly.json()["size"] == MIB
    assert over.status_code == 413, over.text
    assert over.json()["status"] == 413
    listed = attachments_of(client, accounts.developer.token, ticket["id"])
    assert [a["id"] for a in listed] == [exactly.json()["id"]]


def test_a_body_announced_too_large_is_refused_before_it_is_sent(
    api_url: str, accounts: Accounts, ticket: dict[str, Any]
) -> None:
    url = urlsplit(api_url)
    head = (
        f"POST /tickets/{ticket['id']}/attachments HTTP/1.1\r\n"
        f"Host: {url.netloc}\r\n"
        f"Authorization: Bearer {accounts.reporter.token}\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\n"
        f"Content-Length: {50 * MIB}\r\n\r\n"
    )
    with socket.create_connection((url.hostname, url.port), timeout=30) as connection:
        connection.sendall(head.encode())
        # Not a byte of the body is sent: the answer must come all the same.
        answer = connection.recv(65536)

    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]


def test_a_form_without_a_file_part_is_invalid_naming_file(
    client: Client, accounts: Accounts, ticket: dict[str, Any]
) -> None:
    response = client.post(f"/tickets/{ticket['id']}/attachments", accounts.reporter.token,
                           files={"attachment": ("notes.txt", b"hello\n", "text/plain")})

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["file"]


@pytest.mark.parametrize(
    ("headers", "content"),
    [
        ({"Content-Type": "application/json"}, b'{"file": "aGVsbG8="}'),
        ({"Content-Type": "image/png"}, samples.png()),
        ({}, b""),
    ],
)
def test_a_body_that_is_not_a_form_is_refused_as_its_type(
    client: Client, accounts: Accounts, ticket: dict[str, Any], headers: dict[str, str],
    content: bytes,
) -> None:
    response = client.post(f"/tickets/{ticket['id']}/attachments", accounts.reporter.token,
                           headers=headers, content=content)

    assert response.status_code == 415, response.text


@pytest.mark.parametrize(
    "body",
    [b"no boundary in sight", b"--x\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nab",
     b"--x\r\nBroken header line\r\n\r\ndata\r\n--x--\r\n"],
)
def test_a_malformed_form_is_a_bad_request_and_stores_nothing(
    client: Client, accounts: Accounts, ticket: dict[str, Any], body: bytes
) -> None:
    response = client.post(f"/tickets/{ticket['id']}/attachments", accounts.reporter.token,
                           headers={"Content-Type": "multipart/form-data; boundary=x"},
                           content=body)

    assert response.status_code == 400, response.text
    assert attachments_of(client, accounts.reporter.token, ticket["id"]) == []


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\rita\\Desktop\\crash log.txt", "crash log.txt"),
        ("r\u00e9sum\u00e9 \u2014 notes.txt", "r\u00e9sum\u00e9 \u2014 notes.txt"),
        ("..hidden", "hidden"),
        ("", "file"),
    ],
)
def test_the_stored_filename_has_no_path(
    client: Client, accounts: Accounts, ticket: dict[str, Any], sent: str, stored: str
) -> None:
    created = attached(client, accounts.reporter.token, ticket["id"], b"a line\n", sent)

    assert created["filename"] == stored
    download = client.get(f"/attachments/{created['id']}", accounts.reporter.token)
    assert download.headers["content-disposition"].startswith('attachment; filename="')


def test_a_filename_over_255_characters_is_invalid_naming_file(
    client: Client, accounts: Accounts, ticket: dict[str, Any]
) -> None:
    taken = upload(client, accounts.reporter.token, ticket["id"], b"x\n", "n" * 251 + ".txt")
    refused = upload(client, accounts.reporter.token, ticket["id"], b"x\n", "n" * 252 + ".txt")

    assert taken.status_code == 201, taken.text
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["file"]


def test_an_archived_projects_ticket_takes_no_attachment(
    client: Client, accounts: Accounts
) -> None:
    project = client.post("/projects", accounts.admin.token, json={"name": "Old Things"}).json()
    ticket = new_ticket(client, accounts.admin.token, project["id"])
    assert client.delete(f"/projects/{project['id']}", accounts.admin.token).status_code == 204

    response = upload(client, accounts.admin.token, ticket["id"], b"too late\n", "late.txt")

    assert response.status_code == 409, response.text


def test_a_stale_if_match_is_refused_before_the_file_is_taken(
    client: Client, accounts: Accounts, ticket: dict[str, Any]
) -> None:
    stale = f'"{ticket["version"]}"'  # the assignment moved it on
    response = upload(client, accounts.developer.token, ticket["id"], b"x\n", "x.txt",
                      headers={"If-Match": stale})

    assert response.status_code == 412, response.text
    assert attachments_of(client, accounts.developer.token, ticket["id"]) == []


def test_a_retried_upload_with_its_idempotency_key_adds_one_attachment(
    client: Client, accounts: Accounts, ticket: dict[str, Any]
) -> None:
    headers = {"Idempotency-Key": f"upload-{ticket['id']}"}
    first = upload(client, accounts.reporter.token, ticket["id"], samples.png(), "a.png",
                   headers=headers)
    again = upload(client, accounts.reporter.token, ticket["id"], samples.png(), "a.png",
                   headers=headers)

    assert first.status_code == 201, first.text
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len(attachments_of(client, accounts.reporter.token, ticket["id"])) == 1
