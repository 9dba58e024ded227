"""Every endpoint of API.md once, as a client would use it, through a real server."""

from __future__ import annotations

import re
from typing import Any

from tests.api.conftest import PASSWORD, Accounts, Client, new_ticket

RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
TICKET_FIELDS = {
    "id", "key", "number", "project_id", "title", "description", "status", "priority", "type",
    "tags", "due_date", "reporter_id", "reporter", "assignee_ids", "assignees", "version",
    "created_at", "updated_at", "parent_id", "progress", "team_id", "links", "attachment_ids",
}


def test_register_answers_201_with_location_and_position(client: Client,
                                                         accounts: Accounts) -> None:
    response = client.post("/auth/register", json={"name": "  Nora New  ",
                                                   "email": "Nora@Example.com",
                                                   "password": PASSWORD})
    assert response.status_code == 201
    user = response.json()
    assert set(user) == {"id", "name", "email", "role", "status", "created_at", "updated_at"}
    assert user["name"] == "Nora New"
    assert user["email"] == "nora@example.com"
    assert response.headers["location"] == f"/users/{user['id']}"
    assert int(response.headers["trail-position"]) > 0
    assert RFC3339_UTC.match(user["created_at"])
    assert user["updated_at"] is None


def test_first_account_is_admin_and_later_ones_reporters(client: Client,
                                                          accounts: Accounts) -> None:
    me = client.get("/me", accounts.admin.token).json()
    assert me["role"] == "admin"
    assert client.get("/me", accounts.reporter.token).json()["role"] == "reporter"


def test_token_answers_bearer_token_for_any_case_of_the_email(client: Client,
                                                               accounts: Accounts) -> None:
    response = client.post("/auth/token", json={"email": "RITA@example.COM",
                                                "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 1800
    assert client.get("/me", body["access_token"]).json()["id"] == accounts.reporter.id


def test_users_list_and_read_and_rename(client: Client, accounts: Accounts) -> None:
    page = client.get("/users?limit=2", accounts.admin.token).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = client.get(f"/users?cursor={page['next_cursor']}", accounts.admin.token).json()
    assert {u["id"] for u in page["items"]}.isdisjoint({u["id"] for u in rest["items"]})
    developers = client.get("/users?role=developer", accounts.admin.token).json()["items"]
    assert [u["id"] for u in developers] == [accounts.developer.id]
    found = client.get("/users?q=RITA", accounts.admin.token).json()["items"]
    assert [u["id"] for u in found] == [accounts.reporter.id]
    one = client.get(f"/users/{accounts.reporter.id}", accounts.developer.token)
    assert one.status_code == 200 and "email" not in one.json()
    assert one.json()["name"] == "Rita Reporter" and one.json()["role"] == "reporter"
    own = client.get(f"/users/{accounts.reporter.id}", accounts.reporter.token).json()
    assert own["email"] == accounts.reporter.email
    by_admin = client.get(f"/users/{accounts.reporter.id}", accounts.admin.token).json()
    assert by_admin["email"] == accounts.reporter.email
    renamed = client.patch(f"/users/{accounts.reporter.id}", accounts.reporter.token,
                           json={"name": "Rita R."})
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Rita R." and renamed.json()["updated_at"]
    assert "trail-position" in renamed.headers
    assert client.get("/me", accounts.reporter.token).json()["name"] == "Rita R."


def test_projects_create_list_read_revise_archive(client: Client, accounts: Accounts) -> None:
    admin = accounts.admin.token
    created = client.post("/projects", admin, json={"name": "Mobile App",
                                                    "description": "iOS and Android"})
    assert created.status_code == 201
    project = created.json()
    assert project["key"] == "MA"
    assert created.headers["location"] == f"/projects/{project['id']}"
    assert project["archived"] is False and project["open_tickets"] == 0
    listed = client.get("/projects?q=mobile", accounts.reporter.token).json()["items"]
    assert [p["id"] for p in listed] == [project["id"]]
    revised = client.put(f"/projects/{project['id']}", admin,
                         json={"name": "Mobile Apps", "description": "phones"})
    assert revised.status_code == 200 and revised.json()["name"] == "Mobile Apps"
    archived = client.delete(f"/projects/{project['id']}", admin)
    assert archived.status_code == 204 and "trail-position" in archived.headers
    read = client.get(f"/projects/{project['id']}", accounts.developer.token).json()
    assert read["archived"] is True and read["description"] == "phones"


def test_ticket_lifecycle(client: Client, accounts: Accounts, project: dict[str, Any]) -> None:
    dev, rep = accounts.developer, accounts.reporter
    created = client.post("/tickets", rep.token, json={
        "project_id": project["id"], "title": "  Login fails  ", "description": "on Safari",
        "priority": "high", "type": "bug", "tags": ["auth", "ui"], "due_date": "2030-01-31",
    })
    assert created.status_code == 201
    ticket = created.json()
    assert set(ticket) == TICKET_FIELDS
    assert ticket["title"] == "Login fails" and ticket["status"] == "open"
    assert ticket["version"] == 1 and ticket["updated_at"] is None
    assert ticket["attachment_ids"] == []
    assert ticket["reporter_id"] == rep.id and ticket["number"] >= 1
    assert created.headers["etag"] == '"1"'
    assert created.headers["location"] == f"/tickets/{ticket['id']}"
    path = f"/tickets/{ticket['id']}"

    read = client.get(path, rep.token)
    assert read.status_code == 200 and read.json() == ticket and read.headers["etag"] == '"1"'

    edited = client.patch(path, dev.token, headers={"If-Match": '"1"'},
                          json={"status": "in_progress", "title": "Login fails on Safari"})
    assert edited.status_code == 200
    assert edited.json()["version"] == 3 and edited.headers["etag"] == '"3"'
    assert edited.json()["updated_at"] is not None

    assigned = client.put(f"{path}/assignees", dev.token, json={"user_ids": [dev.id]})
    assert assigned.status_code == 200 and assigned.json()["assignee_ids"] == [dev.id]
    assert assigned.json()["version"] == 4

    cleared = client.patch(path, dev.token, json={"due_date": None, "description": None})
    assert cleared.json()["due_date"] is None and cleared.json()["description"] is None

    assert client.get(f"{path}?version=1", dev.token).json() == ticket
    assert client.get(f"{path}?as_of={ticket['created_at']}", dev.token).json() == ticket
    history = client.get(f"{path}/history", dev.token).json()["items"]
    assert [h["version"] for h in history] == list(range(1, cleared.json()["version"] + 1))
    assert history[1]["changes"]["title"] == {"from": "Login fails",
                                              "to": "Login fails on Safari"}
    assert history[3]["changes"]["assignee_ids"] == {"from": [], "to": [dev.id]}


def test_ticket_list_filters_sorts_and_pages(client: Client, accounts: Accounts,
                                             project: dict[str, Any]) -> None:
    dev = accounts.developer.token
    made = [new_ticket(client, dev, project["id"], title=f"Paging {n}", tags=["paging"],
                       priority=p) for n, p in enumerate(["low", "urgent", "medium"])]
    page = client.get("/tickets?tag=paging&sort=priority&limit=2", dev).json()
    assert [t["priority"] for t in page["items"]] == ["urgent", "medium"]
    rest = client.get(f"/tickets?tag=paging&sort=priority&limit=2&cursor={page['next_cursor']}",
                      dev).json()
    assert [t["priority"] for t in rest["items"]] == ["low"] and rest["next_cursor"] is None
    newest = client.get("/tickets?tag=paging", dev).json()["items"]
    assert [t["id"] for t in newest] == [t["id"] for t in reversed(made)]
    found = client.get("/tickets?q=paging&priority=urgent", dev).json()["items"]
    assert [t["id"] for t in found] == [made[1]["id"]]


def test_comments_add_list_edit(client: Client, accounts: Accounts,
                                project: dict[str, Any]) -> None:
    rep = accounts.reporter.token
    ticket = new_ticket(client, rep, project["id"])
    path = f"/tickets/{ticket['id']}/comments"
    added = client.post(path, rep, json={"body": "  first!  "})
    assert added.status_code == 201
    comment = added.json()
    assert comment["body"] == "first!" and comment["author_id"] == accounts.reporter.id
    assert comment["ticket_id"] == ticket["id"] and comment["edited_at"] is None
    assert added.headers["location"] == f"{path}/{comment['id']}"
    client.post(path, accounts.developer.token, json={"body": "second"})
    listed = client.get(path, rep).json()
    assert [c["body"] for c in listed["items"]] == ["first!", "second"]
    edited = client.patch(f"{path}/{comment['id']}", rep, json={"body": "first, edited"})
    assert edited.status_code == 200 and edited.json()["edited_at"] is not None
    assert client.get(f"/tickets?q=edited&reporter_id={accounts.reporter.id}",
                      rep).json()["items"][0]["id"] == ticket["id"]


def test_events_log_and_stats_and_health(client: Client, accounts: Accounts,
                                         project: dict[str, Any]) -> None:
    ticket = new_ticket(client, accounts.developer.token, project["id"])
    events = client.get(f"/events?ticket_id={ticket['id']}", accounts.admin.token).json()
    assert [e["type"] for e in events["items"]] == ["Ticket.Created"]
    event = events["items"][0]
    assert set(event) == {"position", "type", "at", "actor_id", "ticket_id", "data"}
    first = client.get("/events?limit=1", accounts.admin.token).json()
    after = client.get(f"/events?after={first['items'][0]['position']}&limit=1",
                       accounts.admin.token).json()
    assert after["items"][0]["position"] > first["items"][0]["position"]
    stats = client.get(f"/stats?project_id={project['id']}", accounts.developer.token).json()
    assert stats["by_status"]["open"] >= 1 and stats["by_type"]["bug"] >= 1
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["database"] == "ok" and health["broker"] == "ok"
    assert health["projections"]["tickets"]["lag"] >= 0
    assert set(health["outbox"]) == {"pending", "failed"}


def test_admin_emails_list_and_retry(client: Client, accounts: Accounts,
                                     project: dict[str, Any]) -> None:
    dev = accounts.developer
    ticket = new_ticket(client, dev.token, project["id"], assignee_ids=[dev.id])
    emails = client.get(f"/admin/emails?ticket_id={ticket['id']}", accounts.admin.token)
    assert emails.status_code == 200
    items = emails.json()["items"]
    assert [e["recipient_id"] for e in items] == [dev.id]
    retried = client.post(f"/admin/emails/{items[0]['id']}/retry", accounts.admin.token)
    assert retried.status_code == 202


def test_password_reset_answers_202_whether_or_not_the_email_exists(client: Client) -> None:
    for email in ("ada@example.com", "nobody@example.com"):
        response = client.post("/auth/password-reset", json={"email": email})
        assert response.status_code == 202
        assert response.json() == {
            "detail": "if the email belongs to an account, a reset link is on its way"
        }


def test_password_reset_confirm_with_unknown_token_is_400(client: Client) -> None:
    response = client.post("/auth/password-reset/confirm",
                           json={"token": "nope", "new_password": "another horse 7"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


def test_docs_and_schema_are_served(client: Client) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.text
    assert "http" not in docs.text.split("<body>")[1].replace("/schema/openapi.json", "")
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    schema = client.get("/schema/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
