"""Fixtures for the worker tests: the blob store backends of tests/blobstore (a directory and a
real S3 server), and a Trail whose attachments go to the backend under test."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import psycopg
import pytest

from commands.attachments import Attachments, AttachmentStorage
from commands.messages import CreateProject, CreateTicket, RegisterUser
from commands.permissions import Actor
from commands.services import Commands, utc_now
from domain.values import Role
from runtime.blob_leases import PostgresBlobLeases
from tests.blobstore.conftest import Backend, backend, s3_backend, s3_environ

__all__ = ["backend", "s3_backend", "s3_environ"]

PASSWORD = "correct horse 42"


@dataclass(frozen=True)
class Desk:
    """Someone who files tickets and attaches files, on a Trail whose bytes go to `backend`."""

    app: Commands
    attachments: Attachments
    backend: Backend
    admin: Actor
    project_id: uuid.UUID

    def ticket(self, title: str = "Crash on save") -> uuid.UUID:
        command = CreateTicket(project_id=self.project_id, title=title)
        return self.app.tickets.create(self.admin, command).id


@pytest.fixture(scope="module")
def admin(app: Commands) -> Actor:
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    user_id = app.accounts.register(RegisterUser(name="Ada Admin", email=email,
                                                 password=PASSWORD)).id
    actor = app.accounts.actor(user_id)
    assert actor.role is Role.ADMIN, "the module's database must start empty"
    return actor


@pytest.fixture(scope="module")
def project_id(app: Commands, admin: Actor) -> uuid.UUID:
    name = f"Sweeping {uuid.uuid4().hex[:6]}"
    return app.projects.create(admin, CreateProject(name=name)).id


@pytest.fixture
def desk(app: Commands, backend: Backend, admin: Actor, project_id: uuid.UUID,
         scratch_database_url: str) -> Desk:
    leases = PostgresBlobLeases(lambda: psycopg.connect(scratch_database_url, autocommit=True))
    storage = AttachmentStorage(blobs=backend.store, max_bytes=1024 * 1024, leases=leases)
    attachments = Attachments(app.store, app.tickets, storage, clock=utc_now, new_id=uuid.uuid4)
    return Desk(app, attachments, backend, admin, project_id)
