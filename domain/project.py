"""The Project aggregate: a named area of work that tickets belong to."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import FieldError, ProjectArchived, require
from domain.stamped import StampedAggregate
from domain.values import (
    PROJECT_DESCRIPTION_MAX,
    Stamp,
    clean_name,
    clean_project_key,
    clean_text,
)


def clean_project_description(errors: list[FieldError], value: str | None) -> str | None:
    if value is None:
        return None
    text = clean_text(errors, "description", value, low=0, high=PROJECT_DESCRIPTION_MAX)
    return text or None


class Project(StampedAggregate):
    TOPIC = "trail.Project"

    class Event(Aggregate.Event):
        TOPIC = "trail.Project.Event"
        actor_id: UUID
        command_id: UUID

    class Created(Event, Aggregate.Created):
        TOPIC = "trail.Project.Created"
        name: str
        key: str
        description: str | None

    class Renamed(Event):
        TOPIC = "trail.Project.Renamed"
        old_name: str
        name: str

        def apply(self, project: Project) -> None:
            project.name = self.name

    class Redescribed(Event):
        TOPIC = "trail.Project.Redescribed"
        old_description: str | None
        description: str | None

        def apply(self, project: Project) -> None:
            project.description = self.description

    class Archived(Event):
        TOPIC = "trail.Project.Archived"

        def apply(self, project: Project) -> None:
            project.archived = True

    def __init__(
        self, *, actor_id: UUID, command_id: UUID, name: str, key: str, description: str | None
    ) -> None:
        self.name = name
        self.key = key
        self.description = description
        self.archived = False

    @classmethod
    def start(
        cls, stamp: Stamp, *, project_id: UUID, name: str, key: str, description: str | None
    ) -> Project:
        errors: list[FieldError] = []
        clean = (
            clean_name(errors, name),
            clean_project_key(errors, key),
            clean_project_description(errors, description),
        )
        require(errors)
        return cls._begin(
            cls.Created,
            stamp,
            project_id,
            name=clean[0],
            key=clean[1],
            description=clean[2],
        )


    def revise(self, stamp: Stamp, *, name: str, description: str | None) -> None:
        if self.archived:
            raise ProjectArchived("an archived project cannot be changed")
        errors: list[FieldError] = []
        new_name = clean_name(errors, name)
        new_description = clean_project_description(errors, description)
        require(errors)
        if new_name != self.name:
            self._record(stamp, self.Renamed, old_name=self.name, name=new_name)
        if new_description != self.description:
            self._record(
                stamp,
                self.Redescribed,
                old_description=self.description,
                description=new_description,
            )

    def archive(self, stamp: Stamp) -> None:
        """Archiving twice is harmless: the second call records nothing."""
        if not self.archived:
            self._record(stamp, self.Archived)

    def accept_tickets(self) -> None:
        if self.archived:
            raise ProjectArchived("the project is archived and takes no new tickets")
