"""Project: given events, when a command, then events or an error."""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import InvalidFields, ProjectArchived
from domain.project import Project
from domain.values import derive_project_key
from tests.domain.given import ALICE, LATER, PROJECT_ID, a_project, given, when


def start(**fields: Any) -> Any:
    values: dict[str, Any] = {"project_id": PROJECT_ID, "name": "Payments", "key": "PAY",
                              "description": None}
    values.update(fields)
    return when(None, Project.start, **values)


def test_start_records_created_with_trimmed_fields() -> None:
    (created,) = start(name="  Payments  ", key=" PAY2 ", description="  money  ").then(
        (Project.Created, {"name": "Payments", "key": "PAY2", "description": "money",
                           "actor_id": ALICE})
    )
    project = created.mutate(None)
    assert (project.id, project.name, project.archived, project.version) == (
        PROJECT_ID, "Payments", False, 1,
    )
    assert project.created_on == LATER


def test_start_accepts_boundary_values() -> None:
    start(name="abc", key="AB", description="d" * 2_000).then(Project.Created)
    start(name="n" * 100, key="A123456789").then((Project.Created, {"key": "A123456789"}))


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"name": "ab"}, ["name"]),
        ({"name": "   ab   "}, ["name"]),
        ({"name": "n" * 101}, ["name"]),
        ({"key": "P"}, ["key"]),
        ({"key": "pay"}, ["key"]),
        ({"key": "1PAY"}, ["key"]),
        ({"key": "PAY-1"}, ["key"]),
        ({"key": "A1234567890"}, ["key"]),
        ({"description": "d" * 2_001}, ["description"]),
        ({"name": "", "key": "", "description": "d" * 2_001}, ["name", "key", "description"]),
    ],
)
def test_start_refuses_invalid_fields_naming_each(fields: dict[str, Any], bad: list[str]) -> None:
    start(**fields).then_error(InvalidFields, fields=bad)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Payments", "PAYMENTS"),
        ("Customer Support Desk", "CSD"),
        ("web", "WEB"),
        ("X", "XPRJ"),
        ("2024 budget", "BUDGET"),
        ("Supercalifragilistic", "SUPERCALIF"),
        ("日本語", "PRJ"),
    ],
)
def test_a_derived_key_is_always_a_valid_key(name: str, key: str) -> None:
    assert derive_project_key(name) == key
    start(name=f"{name} project", key=derive_project_key(f"{name} project")).then(
        Project.Created
    )


def test_revise_records_renamed_and_redescribed() -> None:
    project = given(a_project(name="Payments", description=None))
    when(project, project.revise, name=" Billing ", description=" invoices ").then(
        (Project.Renamed, {"old_name": "Payments", "name": "Billing"}),
        (Project.Redescribed, {"old_description": None, "description": "invoices"}),
    )
    assert (project.name, project.description) == ("Billing", "invoices")


def test_revise_to_no_description_clears_it() -> None:
    project = given(a_project(description="old"))
    when(project, project.revise, name="Payments", description=None).then(
        (Project.Redescribed, {"old_description": "old", "description": None})
    )


def test_revise_with_the_same_values_records_nothing() -> None:
    project = given(a_project(name="Payments", description="d"))
    when(project, project.revise, name="Payments ", description=" d").then_nothing()


def test_revise_refuses_invalid_fields_and_records_nothing() -> None:
    project = given(a_project())
    when(project, project.revise, name="ok name", description="d" * 2_001).then_error(
        InvalidFields, fields=["description"]
    )
    when(project, project.revise, name="no", description="fine").then_error(
        InvalidFields, fields=["name"]
    )
    # A project's name is one line: it heads lists and emails.
    for name in ("Pay\r\nments", "Pay\x1cments", "Pay\u2029ments", "\u200b\u200b\u200b"):
        when(project, project.revise, name=name, description="fine").then_error(
            InvalidFields, fields=["name"]
        )


def test_archive_records_archived_once() -> None:
    project = given(a_project())
    when(project, project.archive).then(Project.Archived)
    assert project.archived
    when(project, project.archive).then_nothing()


def test_an_archived_project_takes_no_tickets_and_no_revisions() -> None:
    project = given(a_project().add(Project.Archived))
    with pytest.raises(ProjectArchived):
        project.accept_tickets()
    when(project, project.revise, name="Other", description=None).then_error(ProjectArchived)


def test_an_active_project_takes_tickets() -> None:
    project = given(a_project())
    project.accept_tickets()
    assert project.pending_events == []
