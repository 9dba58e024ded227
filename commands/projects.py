"""Projects: create (admin), revise, archive. Names and keys are unique through claims saved in
the same atomic write as the project."""

from __future__ import annotations

from uuid import UUID

from commands.base import Contended, Outcome, Service
from commands.messages import ArchiveProject, CreateProject, ReviseProject
from commands.permissions import Actor, require_admin
from domain.claim import Claim, claim_id
from domain.errors import NameTaken
from domain.project import Project
from domain.values import derive_project_key


class Projects(Service):
    def get(self, project_id: UUID) -> Project:
        return self._load(Project, project_id, "project")

    def create(self, actor: Actor, command: CreateProject) -> Outcome[Project]:
        require_admin(actor)
        project_id = self.new_id()
        return self._retrying(lambda: self._create(actor, project_id, command), "project")

    def _create(self, actor: Actor, project_id: UUID, command: CreateProject) -> Outcome[Project]:
        stamp = self._stamp(actor.id)
        key = command.key if command.key is not None else self._free_key(command.name)
        project = Project.start(
            stamp, project_id=project_id, name=command.name, key=key,
            description=command.description,
        )
        name_claim = self._claim(
            stamp, "project-name", project.name.casefold(), project_id, field="name"
        )
        try:
            key_claim = self._claim(stamp, "project-key", project.key, project_id, field="key")
        except NameTaken:
            if command.key is not None:
                raise
            # Someone took the derived key since it was picked: pick again, as after a conflict.
            raise Contended from None
        return self._save(project, name_claim, key_claim)

    def _free_key(self, name: str) -> str:
        """A derived key that is not taken yet: ABC, then ABC2, ABC3…"""
        base = derive_project_key(name)
        candidate, n = base, 1
        while self._claim_holder("project-key", candidate) is not None:
            n += 1
            candidate = f"{base[: 10 - len(str(n))]}{n}"
        return candidate

    def revise(self, actor: Actor, command: ReviseProject) -> Outcome[Project]:
        require_admin(actor)

        def attempt() -> Outcome[Project]:
            project = self.get(command.project_id)
            stamp = self._stamp(actor.id)
            old_name = project.name
            project.revise(stamp, name=command.name, description=command.description)
            if project.name.casefold() == old_name.casefold():
                return self._save(project)
            taken = self._claim(
                stamp, "project-name", project.name.casefold(), project.id, field="name"
            )
            released = self._load(Claim, claim_id("project-name", old_name.casefold()), "claim")
            released.release(stamp)
            return self._save(project, taken, released)

        return self._retrying(attempt, "project")

    def archive(self, actor: Actor, command: ArchiveProject) -> Outcome[Project]:
        require_admin(actor)

        def attempt() -> Outcome[Project]:
            project = self.get(command.project_id)
            project.archive(self._stamp(actor.id))
            return self._save(project)

        return self._retrying(attempt, "project")
