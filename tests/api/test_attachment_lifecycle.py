"""Attachments after the upload: downloads (ranges, revalidation), who may see and remove them,
removal (410), and the ticket's own record of them (attachment_ids, history, as_of, /events)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from tests.api.attachments import attached, media_type, upload
from tests.api.conftest import Accounts, Client, new_ticket
from tests.blobstore import samples

DIGITS = b"".join(b"%d" % (n % 10) for n in range(100))  # 100 bytes: 0123456789…


@pytest.fixture
def ticket(client: Client, accounts: Accounts, project: dict[str, Any]) -> dict[str, Any]:
    return new_ticket(client, accounts.reporter.token, project["id"])


@pytest.fixture
def digits(client: Client, accounts: Accounts, ticket: dict[str, Any]) -> dict[str, Any]:
    return attached(client, accounts.reporter.token, ticket["id"], DIGITS, "digits.txt")


@pytest.mark.parametrize(
    ("asked", "content_range", "body"),
    [
        ("bytes=10-19", "bytes 10-19/100", DIGITS[10:20]),
        ("bytes=95-", "bytes 95-99/100", DIGITS[95:]),
        ("bytes=-3", "bytes 97-99/100", DIGITS[97:]),
        ("bytes=90-1000", "bytes 90-99/100", DIGITS[90:]),
        ("bytes=0-0, 50-59", "bytes 0-0/100", DIGITS[:1]),
    ],
)
def test_a_range_is_answered_with_its_bytes(
    client: Client, accounts: Accounts, digits: dict[str, Any], asked: str, content_range: str,
    body: bytes,
) -> None:
    response = client.get(f"/attachments/{digits['id']}", accounts.reporter.token,
                          headers={"Range": asked})

    assert response.status_code == 206
    assert response.headers["content-range"] == content_range
    assert response.headers["content-length"] == str(len(body))
    assert response.content == body
    assert media_type(response) == "text/plain"


@pytest.mark.parametrize("asked", ["bytes=100-", "bytes=-0", "bytes=200-300, 400-"])
def test_a_range_past_the_end_is_not_satisfiable(
    client: Client, accounts: Accounts, digits: dict[str, Any], asked: str
) -> None:
    response = client.get(f"/attachments/{digits['id']}", accounts.reporter.token,
                          headers={"Range": asked})

    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */100"


@pytest.mark.parametrize("asked", ["bytes=5-2", "lines=1-2", "bytes=abc", "bytes=1-2,x"])
def test_a_range_that_does_not_parse_is_ignored(
    client: Client, accounts: Accounts, digits: dict[str, Any], asked: str
) -> None:
    response = client.get(f"/attachments/{digits['id']}", accounts.reporter.token,
                          headers={"Range": asked})

    assert response.status_code == 200
    assert response.content == DIGITS


def test_if_range_for_other_bytes_gets_the_whole_file(
    client: Client, accounts: Accounts, digits: dict[str, Any]
) -> None:
    etag = f'"{digits["sha256"]}"'
    path = f"/attachments/{digits['id']}"
    token = accounts.reporter.token

    same = client.get(path, token, headers={"Range": "bytes=0-1", "If-Range": etag})
    other = client.get(path, token, headers={"Range": "bytes=0-1", "If-Range": '"other"'})

    assert (same.status_code, same.content) == (206, DIGITS[:2])
    assert (other.status_code, other.content) == (200, DIGITS)


@pytest.mark.parametrize("tag", ['"{sha}"', 'W/"{sha}"', '"nope", "{sha}"', "*"])
def test_if_none_match_naming_the_bytes_is_not_modified(
    client: Client, accounts: Accounts, digits: dict[str, Any], tag: str
) -> None:
    response = client.get(f"/attachments/{digits['id']}", accounts.reporter.token,
                          headers={"If-None-Match": tag.format(sha=digits["sha256"])})

    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == f'"{digits["sha256"]}"'


def test_if_none_match_naming_other_bytes_gets_them(
    client: Client, accounts: Accounts, digits: dict[str, Any]
) -> None:
    response = client.get(f"/attachments/{digits['id']}", accounts.reporter.token,
                          headers={"If-None-Match": '"0000"'})

    assert (response.status_code, response.content) == (200, DIGITS)


def test_a_removed_attachment_is_gone(
    client: Client, accounts: Accounts, ticket: dict[str, Any], digits: dict[str, Any]
) -> None:
    kept = attached(client, accounts.reporter.token, ticket["id"], samples.png(), "kept.png")

    removed = client.delete(f"/attachments/{digits['id']}", accounts.reporter.token)

    assert removed.status_code == 204
    assert int(removed.headers["trail-position"]) > 0
    assert client.get(f"/attachments/{digits['id']}", accounts.reporter.token).status_code == 410
    again = client.delete(f"/attachments/{digits['id']}", accounts.reporter.token)
    assert again.status_code == 410
    listed = client.get(f"/tickets/{ticket['id']}/attachments", accounts.reporter.token).json()
    assert [a["id"] for a in listed["items"]] == [kept["id"]]
    now = client.get(f"/tickets/{ticket['id']}", accounts.reporter.token).json()
    assert now["attachment_ids"] == [kept["id"]]
    assert now["version"] == 4


def test_a_reporter_who_may_not_see_the_ticket_finds_nothing(
    client: Client, accounts: Accounts, ticket: dict[str, Any], digits: dict[str, Any]
) -> None:
    stranger = accounts.other_reporter.token
    path = f"/attachments/{digits['id']}"

    assert client.get(path, stranger).status_code == 404
    assert client.get(path, stranger, headers={"Range": "bytes=0-1"}).status_code == 404
    assert client.delete(path, stranger).status_code == 404
    assert client.get(f"/tickets/{ticket['id']}/attachments", stranger).status_code == 404
    refused = upload(client, stranger, ticket["id"], b"let me in\n", "x.txt")
    assert refused.status_code == 404
    assert client.get(path, accounts.reporter.token).status_code == 200


@pytest.mark.parametrize("attachment_id", [str(uuid4()), "not-an-id", "1"])
def test_an_unknown_attachment_is_not_found(
    client: Client, accounts: Accounts, attachment_id: str
) -> None:
    for method in ("GET", "DELETE"):
        response = client.request(method, f"/attachments/{attachment_id}", accounts.admin.token)
        assert response.status_code == 404, (method, response.text)


def test_only_its_uploader_or_an_admin_removes_an_attachment(
    client: Client, accounts: Accounts, ticket: dict[str, Any], digits: dict[str, Any]
) -> None:
    second = attached(client, accounts.reporter.token, ticket["id"], b"two\n", "two.txt")

    by_developer = client.delete(f"/attachments/{digits['id']}", accounts.developer.token)
    by_admin = client.delete(f"/attachments/{second['id']}", accounts.admin.token)
    by_uploader = client.delete(f"/attachments/{digits['id']}", accounts.reporter.token)

    assert by_developer.status_code == 403
    assert by_admin.status_code == 204
    assert by_uploader.status_code == 204


def test_the_ticket_lists_its_attachments_oldest_first_and_pages_them(
    client: Client, accounts: Accounts, ticket: dict[str, Any]
) -> None:
    ids = [attached(client, accounts.reporter.token, ticket["id"], b"n%d\n" % n,
                    f"{n}.txt")["id"] for n in range(5)]

    first = client.get(f"/tickets/{ticket['id']}/attachments?limit=3",
                       accounts.reporter.token).json()
    rest = client.get(f"/tickets/{ticket['id']}/attachments?limit=3&cursor="
                      f"{first['next_cursor']}", accounts.reporter.token).json()
    by_key = client.get(f"/tickets/{ticket['key']}", accounts.developer.token).json()

    assert [a["id"] for a in first["items"] + rest["items"]] == ids
    assert rest["next_cursor"] is None
    assert by_key["attachment_ids"] == ids
    assert by_key["version"] == 6


def test_history_as_of_and_the_log_show_attachments_coming_and_going(
    client: Client, accounts: Accounts, ticket: dict[str, Any], digits: dict[str, Any]
) -> None:
    token = accounts.reporter.token
    assert client.delete(f"/attachments/{digits['id']}", token).status_code == 204

    history = client.get(f"/tickets/{ticket['id']}/history", token).json()["items"]
    added, removed = history[1], history[2]
    assert (added["type"], added["version"]) == ("Ticket.AttachmentAdded", 2)
    assert added["changes"] == {"attachment_ids": {"from": [], "to": [digits["id"]]}}
    assert removed["type"] == "Ticket.AttachmentRemoved"
    assert removed["changes"] == {"attachment_ids": {"from": [digits["id"]], "to": []}}
    assert removed["actor"]["id"] == accounts.reporter.id
    then = client.get(f"/tickets/{ticket['id']}?as_of={added['at']}", token).json()
    assert then["attachment_ids"] == [digits["id"]]
    at_two = client.get(f"/tickets/{ticket['id']}?version=2", token).json()
    assert at_two["attachment_ids"] == [digits["id"]]
    log = client.get(f"/events?ticket_id={ticket['id']}&type=Ticket.AttachmentAdded"
                     "&type=Ticket.AttachmentRemoved", accounts.admin.token).json()["items"]
    assert [e["type"] for e in log] == ["Ticket.AttachmentAdded", "Ticket.AttachmentRemoved"]
    for entry in log:
        assert entry["data"]["filename"] == "digits.txt"
        assert entry["data"]["sha256"] == digits["sha256"]
        assert entry["data"]["size"] == 100
        assert entry["data"]["content_type"] == "text/plain"
