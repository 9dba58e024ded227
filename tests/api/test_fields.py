"""One test per field rule of API.md: what is accepted, and the exact answer to what is not."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.api.conftest import PASSWORD, Accounts, Client, new_ticket

NIL = "00000000-0000-4000-8000-000000000000"


def assert_invalid(response: httpx.Response, *fields: str) -> None:
    """422 problem+json naming exactly these fields."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422 and isinstance(problem["detail"], str)
    assert sorted({e["field"] for e in problem["errors"]}) == sorted(fields), problem


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= set(problem)
    assert problem["status"] == status and isinstance(problem["detail"], str)
    return problem


def register(client: Client, **fields: Any) -> httpx.Response:
    body = {"name": "Some Body", "email": "somebody@example.com", "password": PASSWORD,
            **fields}
    return client.post("/auth/register", json=body)


# --- registration -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ab", "  ab  ", "x" * 101, ""])
def test_register_name_must_be_3_to_100_chars_after_trimming(
    client: Client, accounts: Accounts, name: str
) -> None:
    assert_invalid(register(client, name=name, email="n1@example.com"), "name")


def test_register_name_of_100_chars_with_spaces_around_is_accepted(
    client: Client, accounts: Accounts
) -> None:
    response = register(client, name=f"  {'n' * 100}  ", email="long.name@example.com")
    assert response.status_code == 201 and response.json()["name"] == "n" * 100


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.com", ""])
def test_register_email_must_be_valid(client: Client, accounts: Accounts, email: str) -> None:
    assert_invalid(register(client, email=email), "email")


def test_register_email_is_unique_ignoring_case(client: Client, accounts: Accounts) -> None:
    assert_problem(register(client, email="ADA@example.com"), 409)


@pytest.mark.parametrize("password", ["short1", "a" * 9 + "1" * 0, "x1" * 64 + "y",
                                      "onlyletterspassword", "12345678901234"])
def test_register_password_rules(client: Client, accounts: Accounts, password: str) -> None:
    assert_invalid(register(client, email="pw@example.com", password=password), "password")


def test_register_names_every_bad_field_at_once(client: Client, accounts: Accounts) -> None:
    assert_invalid(register(client, name="x", email="nope", password="short"),
                   "name", "email", "password")


def test_register_rejects_missing_and_unknown_fields(client: Client, accounts: Accounts) -> None:
    response = client.post("/auth/register", json={"name": "Some Body", "role": "admin"})
    assert_invalid(response, "email", "password", "role")


# --- login ------------------------------------------------------------------------------------


def test_wrong_password_and_unknown_email_get_the_same_401(client: Client,
                                                           accounts: Accounts) -> None:
    wrong = client.post("/auth/token", json={"email": "ada@example.com",
                                             "password": "wrong password 1"})
    unknown = client.post("/auth/token", json={"email": "nobody@example.com",
                                               "password": "wrong password 1"})
    assert_problem(wrong, 401)
    assert wrong.json() == unknown.json()


# --- users ------------------------------------------------------------------------------------


def test_user_patch_rejects_unknown_role_and_status(client: Client, accounts: Accounts) -> None:
    response = client.patch(f"/users/{accounts.other_reporter.id}", accounts.admin.token,
                            json={"role": "owner", "status": "gone"})
    assert_invalid(response, "role", "status")


def test_user_patch_rejects_other_fields(client: Client, accounts: Accounts) -> None:
    response = client.patch(f"/users/{accounts.reporter.id}", accounts.reporter.token,
                            json={"email": "new@example.com", "id": NIL})
    assert_invalid(response, "email", "id")


def test_a_user_cannot_change_its_own_role(client: Client, accounts: Accounts) -> None:
    response = client.patch(f"/users/{accounts.reporter.id}", accounts.reporter.token,
                            json={"role": "admin"})
    assert_problem(response, 403)


# --- projects ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ab", "   ", "p" * 101])
def test_project_name_must_be_3_to_100_chars(client: Client, accounts: Accounts,
                                             name: str) -> None:
    assert_invalid(client.post("/projects", accounts.admin.token, json={"name": name}), "name")


def test_project_name_is_unique_ignoring_case(client: Client, accounts: Accounts,
                                              project: dict[str, Any]) -> None:
    response = client.post("/projects", accounts.admin.token,
                           json={"name": project["name"].upper()})
    assert_problem(response, 409)


@pytest.mark.parametrize("key", ["A", "1ABC", "abc", "ABCDEFGHIJK", "AB-C"])
def test_project_key_pattern(client: Client, accounts: Accounts, key: str) -> None:
    response = client.post("/projects", accounts.admin.token,
                           json={"name": f"Keyed {key}", "key": key})
    assert_invalid(response, "key")


def test_project_key_is_unique_and_derived_when_absent(client: Client,
                                                       accounts: Accounts) -> None:
    first = client.post("/projects", accounts.admin.token, json={"name": "Web Shop"})
    assert first.status_code == 201 and first.json()["key"] == "WS"
    taken = client.post("/projects", accounts.admin.token, json={"name": "Other", "key": "WS"})
    assert_problem(taken, 409)
    derived = client.post("/projects", accounts.admin.token, json={"name": "West Side"})
    assert derived.status_code == 201 and derived.json()["key"] != "WS"


def test_archived_project_takes_no_tickets_and_keeps_its_own(client: Client,
                                                             accounts: Accounts) -> None:
    admin = accounts.admin.token
    created = client.post("/projects", admin, json={"name": "Short Lived"}).json()
    ticket = new_ticket(client, admin, created["id"])
    assert client.delete(f"/projects/{created['id']}", admin).status_code == 204
    assert_problem(client.post("/tickets", admin, json={"project_id": created["id"],
                                                        "title": "late"}), 409)
    assert client.get(f"/tickets/{ticket['id']}", admin).status_code == 200
    assert client.get(f"/tickets/{ticket['id']}/history", admin).status_code == 200


def test_open_tickets_counts_neither_resolved_nor_closed(client: Client,
                                                         accounts: Accounts) -> None:
    dev = accounts.developer.token
    created = client.post("/projects", accounts.admin.token, json={"name": "Counted"}).json()
    tickets = [new_ticket(client, dev, created["id"]) for _ in range(3)]
    client.patch(f"/tickets/{tickets[0]['id']}", dev, json={"status": "closed"})
    client.patch(f"/tickets/{tickets[1]['id']}", dev, json={"status": "in_progress"})
    read = client.get(f"/projects/{created['id']}", dev).json()
    assert read["open_tickets"] == 2


# --- tickets: creation ------------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "bad"), [
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "t" * 201}, "title"),
    ({"description": "d" * 20_001}, "description"),
    ({"priority": "critical"}, "priority"),
    ({"type": "epic"}, "type"),
    ({"tags": [f"t{n}" for n in range(21)]}, "tags"),
    ({"tags": ["Upper"]}, "tags"),
    ({"tags": ["t" * 41]}, "tags"),
    ({"tags": ["has space"]}, "tags"),
    ({"tags": [""]}, "tags"),
    ({"due_date": "31/12/2030"}, "due_date"),
    ({"due_date": "2030-02-30"}, "due_date"),
    ({"status": "open"}, "status"),
    ({"number": 7}, "number"),
    ({"project_id": NIL}, "project_id"),
    ({"project_id": "not-a-uuid"}, "project_id"),
])
def test_ticket_creation_field_rules(client: Client, accounts: Accounts,
                                     project: dict[str, Any], fields: dict[str, Any],
                                     bad: str) -> None:
    body = {"project_id": project["id"], "title": "Valid title", **fields}
    assert_invalid(client.post("/tickets", accounts.developer.token, json=body), bad)


def test_ticket_title_of_200_chars_after_trimming_is_accepted(
    client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    ticket = new_ticket(client, accounts.developer.token, project["id"],
                        title=f"  {'t' * 200}  ", tags=["a-1", "a-1", "b"],
                        description="d" * 20_000)
    assert ticket["title"] == "t" * 200 and ticket["tags"] == ["a-1", "b"]
    assert ticket["priority"] == "medium" and ticket["type"] == "bug"


def test_assignee_must_be_an_active_developer_or_admin(
    client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    dev = accounts.developer.token
    for assignee in (accounts.reporter.id, NIL):
        body = {"project_id": project["id"], "title": "x", "assignee_ids": [assignee]}
        assert_invalid(client.post("/tickets", dev, json=body), "assignee_ids")
    ticket = new_ticket(client, dev, project["id"])
    response = client.put(f"/tickets/{ticket['id']}/assignees", dev,
                          json={"user_ids": [accounts.reporter.id]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] in {"user_ids", "assignee_ids"}


def test_duplicate_assignees_collapse_and_more_than_a_hundred_is_422(
    client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    dev = accounts.developer.token
    ticket = new_ticket(client, dev, project["id"],
                        assignee_ids=[accounts.developer.id] * 5_000)
    assert ticket["assignee_ids"] == [accounts.developer.id]
    assigned = client.put(f"/tickets/{ticket['id']}/assignees", dev,
                          json={"user_ids": [accounts.admin.id] * 5_000})
    assert assigned.status_code == 200 and assigned.json()["assignee_ids"] == [accounts.admin.id]
    too_many = [str(uuid.UUID(int=n)) for n in range(1, 102)]
    assert_invalid(client.post("/tickets", dev, json={
        "project_id": project["id"], "title": "x", "assignee_ids": too_many}), "assignee_ids")
    assert_invalid(client.put(f"/tickets/{ticket['id']}/assignees", dev,
                              json={"user_ids": too_many}), "user_ids")


def test_ticket_numbers_count_up_per_project(client: Client, accounts: Accounts) -> None:
    created = client.post("/projects", accounts.admin.token, json={"name": "Numbered"}).json()
    numbers = [new_ticket(client, accounts.developer.token, created["id"])["number"]
               for _ in range(3)]
    assert numbers == [1, 2, 3]


# --- tickets: edits ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["assignee_ids", "id", "number", "project_id", "reporter_id",
                                 "version", "created_at", "updated_at", "color"])
def test_ticket_patch_rejects_fields_it_does_not_take(
    client: Client, accounts: Accounts, project: dict[str, Any], key: str
) -> None:
    ticket = new_ticket(client, accounts.developer.token, project["id"])
    response = client.patch(f"/tickets/{ticket['id']}", accounts.developer.token,
                            json={key: ticket.get(key, "x")})
    assert_invalid(response, key)


ALLOWED = [("open", "in_progress"), ("open", "closed"), ("in_progress", "open"),
           ("in_progress", "resolved"), ("in_progress", "closed"), ("resolved", "closed"),
           ("resolved", "in_progress"), ("closed", "open")]
PATH_TO = {"open": [], "in_progress": ["in_progress"], "resolved": ["in_progress", "resolved"],
           "closed": ["closed"]}
STATUSES = ["open", "in_progress", "resolved", "closed"]


@pytest.mark.parametrize("start", STATUSES)
@pytest.mark.parametrize("target", STATUSES)
def test_status_workflow(client: Client, accounts: Accounts, project: dict[str, Any],
                         start: str, target: str) -> None:
    dev = accounts.developer.token
    ticket = new_ticket(client, dev, project["id"])
    path = f"/tickets/{ticket['id']}"
    for step in PATH_TO[start]:
        assert client.patch(path, dev, json={"status": step}).status_code == 200
    response = client.patch(path, dev, json={"status": target})
    if (start, target) in ALLOWED:
        assert response.status_code == 200 and response.json()["status"] == target
    else:
        assert_problem(response, 409)


def test_a_request_that_fails_in_any_part_changes_nothing(
    client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    dev = accounts.developer.token
    ticket = new_ticket(client, dev, project["id"])
    path = f"/tickets/{ticket['id']}"
    assert_problem(client.patch(path, dev, json={"title": "New", "status": "resolved"}), 409)
    assert_invalid(client.patch(path, dev, json={"title": "New", "tags": ["BAD"]}), "tags")
    assert client.get(path, dev).json() == ticket


def test_due_date_null_clears_it(client: Client, accounts: Accounts,
                                 project: dict[str, Any]) -> None:
    dev = accounts.developer.token
    ticket = new_ticket(client, dev, project["id"], due_date="2031-05-01")
    cleared = client.patch(f"/tickets/{ticket['id']}", dev, json={"due_date": None}).json()
    assert cleared["due_date"] is None


def test_only_the_fields_sent_change(client: Client, accounts: Accounts,
                                     project: dict[str, Any]) -> None:
    dev = accounts.developer.token
    ticket = new_ticket(client, dev, project["id"], description="keep", tags=["keep"])
    edited = client.patch(f"/tickets/{ticket['id']}", dev, json={"priority": "low"}).json()
    assert {k: v for k, v in edited.items() if k not in {"priority", "version", "updated_at"}
            } == {k: v for k, v in ticket.items()
                  if k not in {"priority", "version", "updated_at"}}


def test_version_counts_the_history_and_assignment_always_records(
    client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    dev = accounts.developer
    ticket = new_ticket(client, dev.token, project["id"])
    path = f"/tickets/{ticket['id']}"
    client.put(f"{path}/assignees", dev.token, json={"user_ids": [dev.id]})
    again = client.put(f"{path}/assignees", dev.token, json={"user_ids": [dev.id]})
    assert again.json()["version"] == 3
    emptied = client.put(f"{path}/assignees", dev.token, json={"user_ids": []}).json()
    history = client.get(f"{path}/history", dev.token).json()["items"]
    assert len(history) == emptied["version"] == 4
    assert all("assignee_ids" in h["changes"] for h in history[1:])


def test_if_match_on_a_moved_on_ticket_is_412(client: Client, accounts: Accounts,
                                             project: dict[str, Any]) -> None:
    dev = accounts.developer.token
    ticket = new_ticket(client, dev, project["id"])
    path = f"/tickets/{ticket['id']}"
    client.patch(path, dev, json={"title": "moved on"})
    for tag in ('"1"', "1", "garbage"):
        assert_problem(client.patch(path, dev, headers={"If-Match": tag},
                                    json={"title": "stale"}), 412)
    ok = client.patch(path, dev, headers={"If-Match": '"2"'}, json={"title": "fresh"})
    assert ok.status_code == 200 and ok.headers["etag"] == '"3"'


@pytest.mark.parametrize("body", ["", "   ", "b" * 20_001])
def test_comment_body_must_be_1_to_20000_chars(client: Client, accounts: Accounts,
                                                project: dict[str, Any], body: str) -> None:
    ticket = new_ticket(client, accounts.developer.token, project["id"])
    response = client.post(f"/tickets/{ticket['id']}/comments", accounts.developer.token,
                           json={"body": body})
    assert_invalid(response, "body")


def test_nul_characters_are_refused_in_bodies_and_queries(
    client: Client, accounts: Accounts, project: dict[str, Any]
) -> None:
    dev = accounts.developer.token
    body = {"project_id": project["id"], "title": "a\u0000b", "tags": ["ok", "n\u0000"]}
    assert_invalid(client.post("/tickets", dev, json=body), "title", "tags")
    assert_invalid(client.get("/tickets?q=a%00b", dev), "q")
    assert_invalid(register(client, name="Nul\u0000 Person", email="nul@example.com"), "name")


# --- queries ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "bad"), [
    ("limit=0", "limit"), ("limit=101", "limit"), ("limit=ten", "limit"),
    ("status=done", "status"), ("priority=p1", "priority"), ("type=epic", "type"),
    ("sort=title", "sort"), ("project_id=123", "project_id"), ("assignee_id=x", "assignee_id"),
    ("due_before=tomorrow", "due_before"), ("cursor=not-a-cursor", "cursor"),
])
def test_invalid_ticket_list_parameters_are_422_naming_them(
    client: Client, accounts: Accounts, query: str, bad: str
) -> None:
    assert_invalid(client.get(f"/tickets?{query}", accounts.developer.token), bad)


def test_a_cursor_of_another_sort_is_422(client: Client, accounts: Accounts,
                                         project: dict[str, Any]) -> None:
    dev = accounts.developer.token
    for _ in range(2):
        new_ticket(client, dev, project["id"])
    cursor = client.get("/tickets?limit=1", dev).json()["next_cursor"]
    assert_invalid(client.get(f"/tickets?sort=priority&cursor={cursor}", dev), "cursor")


@pytest.mark.parametrize(("query", "bad"), [
    ("after=-1", "after"), ("after=x", "after"), ("ticket_id=1", "ticket_id"),
    ("limit=0", "limit"), ("cursor=%%%", "cursor"),
])
def test_invalid_event_parameters_are_422(client: Client, accounts: Accounts, query: str,
                                          bad: str) -> None:
    assert_invalid(client.get(f"/events?{query}", accounts.admin.token), bad)


@pytest.mark.parametrize(("query", "bad"), [
    ("from=2026-12-01&to=2026-01-01", "from"), ("to=9999-12-31", "to"), ("from=soon", "from"),
    ("project_id=x", "project_id"),
])
def test_invalid_stats_parameters_are_422(client: Client, accounts: Accounts, query: str,
                                          bad: str) -> None:
    assert_invalid(client.get(f"/stats?{query}", accounts.developer.token), bad)


def test_version_and_as_of_rules(client: Client, accounts: Accounts,
                                 project: dict[str, Any]) -> None:
    dev = accounts.developer.token
    ticket = new_ticket(client, dev, project["id"])
    path = f"/tickets/{ticket['id']}"
    for version in (0, 2, -1):
        assert_problem(client.get(f"{path}?version={version}", dev), 404)
    assert_problem(client.get(f"{path}?as_of=2000-01-01T00:00:00Z", dev), 404)
    assert_invalid(client.get(f"{path}?as_of=yesterday", dev), "as_of")
    assert_invalid(client.get(f"{path}?version=one", dev), "version")


def test_a_malformed_id_in_a_path_is_404(client: Client, accounts: Accounts) -> None:
    for path in ("/tickets/123", "/projects/abc", "/users/xyz", "/tickets/1/comments"):
        assert_problem(client.get(path, accounts.admin.token), 404)


def test_sort_by_priority_puts_urgent_first(client: Client, accounts: Accounts) -> None:
    dev = accounts.developer.token
    created = client.post("/projects", accounts.admin.token, json={"name": "Prioritised"}).json()
    for priority in ("low", "high", "urgent", "medium"):
        new_ticket(client, dev, created["id"], priority=priority)
    items = client.get(f"/tickets?project_id={created['id']}&sort=priority", dev).json()["items"]
    assert [t["priority"] for t in items] == ["urgent", "high", "medium", "low"]
