"""The sweep of attachment bytes, on a directory and on a real S3 server, with its clock moved
instead of waiting: what goes, what stays, and what it never touches."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from blobstore import BlobStore, FileBlobStore
from commands.attachments import Attachments, AttachmentStorage, NoLeases
from commands.base import Outcome
from commands.errors import UploadInterrupted
from commands.messages import AddAttachment, RemoveAttachment
from commands.services import Commands, utc_now
from domain.ticket import Ticket
from projections.attachments import AttachmentsProjection
from projections.runner import catch_up
from runtime.blob_leases import PostgresBlobLeases
from tests.workers.conftest import Desk
from workers.sweep import ORPHAN_GRACE, AttachmentSweep, SweepNotReady

REPO = Path(__file__).resolve().parents[2]
AFTER_GRACE = ORPHAN_GRACE + timedelta(minutes=1)


def unique(label: str) -> bytes:
    """Bytes no other test stores: each test's blobs are its own."""
    return f"{label} {uuid.uuid4()}\n".encode()


def add(desk: Desk, ticket_id: uuid.UUID, content: bytes, name: str = "log.txt") -> Outcome[Ticket]:
    command = AddAttachment(ticket_id=ticket_id, filename=name)
    return desk.attachments.add(desk.admin, command, [content])


def remove(desk: Desk, added: Outcome[Ticket]) -> None:
    command = RemoveAttachment(ticket_id=added.aggregate.id, attachment_id=added.id)
    desk.attachments.remove(desk.admin, command)


def sweep(desk: Desk, database_url: str, at: datetime, *, store: BlobStore | None = None,
          catch_up_timeout: float = 60.0) -> AttachmentSweep:
    storage = desk.attachments.storage
    assert storage is not None and isinstance(storage.leases, PostgresBlobLeases)
    return AttachmentSweep(store or desk.backend.store, database_url, storage.leases,
                           retention=timedelta(days=30), clock=lambda: at,
                           catch_up_timeout=catch_up_timeout)


def sha256_of(desk: Desk, content: bytes) -> str:
    return desk.backend.store.put([content], len(content)).sha256


def test_bytes_whose_upload_never_committed_go_once_the_grace_period_is_over(
    desk: Desk, scratch_database_url: str, trail_env: dict[str, str]
) -> None:
    orphan = unique("an upload that never committed")
    orphan_sha = sha256_of(desk, orphan)
    live = add(desk, desk.ticket(), unique("a live attachment"))
    catch_up(AttachmentsProjection, trail_env)
    now = datetime.now(UTC)

    early = sweep(desk, scratch_database_url, now).run()
    late = sweep(desk, scratch_database_url, now + AFTER_GRACE).run()

    assert str(early) == "removed no blobs"
    assert (late.orphans, late.retained, late.bytes) == (1, 0, len(orphan))
    assert not desk.backend.store.exists(orphan_sha)
    assert desk.backend.store.exists(live.aggregate.attachment(live.id).sha256)


def test_a_removed_attachments_bytes_stay_until_the_retention_period_ends(
    desk: Desk, scratch_database_url: str, trail_env: dict[str, str]
) -> None:
    content = unique("removed")
    added = add(desk, desk.ticket(), content, "removed.txt")
    sha256 = added.aggregate.attachment(added.id).sha256
    remove(desk, added)
    catch_up(AttachmentsProjection, trail_env)
    now = datetime.now(UTC)

    within = sweep(desk, scratch_database_url, now + timedelta(days=29)).run()
    assert desk.backend.store.exists(sha256)
    past = sweep(desk, scratch_database_url, now + timedelta(days=31)).run()

    assert within.retained == 0
    assert (past.orphans, past.retained, past.bytes) == (0, 1, len(content))
    assert str(past) == (f"removed 1 blob ({len(content)} bytes): 0 never committed, "
                         "1 retained past 30 days")
    assert not desk.backend.store.exists(sha256)


def test_bytes_shared_by_attachments_stay_while_any_of_them_needs_them(
    desk: Desk, scratch_database_url: str, trail_env: dict[str, str]
) -> None:
    content = unique("attached twice")
    first = add(desk, desk.ticket("One"), content, "first.txt")
    second = add(desk, desk.ticket("Two"), content, "second.txt")
    sha256 = first.aggregate.attachment(first.id).sha256
    assert second.aggregate.attachment(second.id).sha256 == sha256
    remove(desk, first)
    catch_up(AttachmentsProjection, trail_env)
    now = datetime.now(UTC)

    sweep(desk, scratch_database_url, now + timedelta(days=31)).run()
    assert desk.backend.store.exists(sha256), "the second attachment is live"

    remove(desk, second)
    catch_up(AttachmentsProjection, trail_env)
    sweep(desk, scratch_database_url, now + timedelta(days=29)).run()
    assert desk.backend.store.exists(sha256), "the second was removed within the period"
    report = sweep(desk, scratch_database_url, now + timedelta(days=31)).run()
    assert report.retained == 1
    assert not desk.backend.store.exists(sha256)


class StaleListing:
    """A store whose listing is two days old: every blob looks long stored."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)

    def iter_blobs(self) -> Iterator[tuple[str, datetime]]:
        for sha256, _ in self.store.iter_blobs():
            yield sha256, datetime.now(UTC) - timedelta(days=2)


def test_bytes_stored_again_since_the_listing_stay(
    desk: Desk, scratch_database_url: str, trail_env: dict[str, str]
) -> None:
    sha256 = sha256_of(desk, unique("stored again a moment ago"))
    catch_up(AttachmentsProjection, trail_env)
    store: BlobStore = StaleListing(desk.backend.store)  # type: ignore[assignment]

    report = sweep(desk, scratch_database_url, datetime.now(UTC), store=store).run()

    assert report.orphans == 0
    assert desk.backend.store.exists(sha256)


def test_a_blob_an_upload_holds_is_left_for_the_next_sweep(
    desk: Desk, scratch_database_url: str, trail_env: dict[str, str]
) -> None:
    sha256 = sha256_of(desk, unique("about to be named by its event"))
    catch_up(AttachmentsProjection, trail_env)
    later = datetime.now(UTC) + AFTER_GRACE
    storage = desk.attachments.storage
    assert storage is not None

    with storage.leases.holding(sha256):
        held = sweep(desk, scratch_database_url, later).run()
        assert desk.backend.store.exists(sha256)
    released = sweep(desk, scratch_database_url, later).run()

    assert (held.orphans, released.orphans) == (0, 1)
    assert not desk.backend.store.exists(sha256)


def test_nothing_is_swept_while_the_read_model_lags_the_log(
    desk: Desk, scratch_database_url: str, trail_env: dict[str, str]
) -> None:
    catch_up(AttachmentsProjection, trail_env)
    sha256 = sha256_of(desk, unique("an orphan"))
    add(desk, desk.ticket(), unique("not projected yet"))

    with pytest.raises(SweepNotReady):
        sweep(desk, scratch_database_url, datetime.now(UTC) + timedelta(days=400),
              catch_up_timeout=0).run()
    assert desk.backend.store.exists(sha256)


def test_a_dry_run_counts_and_removes_nothing(
    desk: Desk, scratch_database_url: str, trail_env: dict[str, str]
) -> None:
    content = unique("counted only")
    sha256 = sha256_of(desk, content)
    catch_up(AttachmentsProjection, trail_env)

    report = sweep(desk, scratch_database_url, datetime.now(UTC) + AFTER_GRACE).run(
        dry_run=True
    )

    assert (report.orphans, report.bytes) == (1, len(content))
    assert desk.backend.store.exists(sha256)


class SweptFirst:
    """Leases that lose the race: the sweep deletes the blob just before the upload's lease."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store

    def holding(self, sha256: str) -> AbstractContextManager[None]:
        self.store.delete(sha256)
        return NoLeases().holding(sha256)


def test_an_upload_whose_bytes_were_swept_meanwhile_records_nothing(
    desk: Desk, app: Commands
) -> None:
    ticket_id = desk.ticket()
    storage = AttachmentStorage(desk.backend.store, 1024, SweptFirst(desk.backend.store))
    racing = Attachments(app.store, app.tickets, storage, clock=utc_now, new_id=uuid.uuid4)

    with pytest.raises(UploadInterrupted):
        racing.add(desk.admin, AddAttachment(ticket_id=ticket_id, filename="x.txt"),
                   [unique("swept")])

    assert app.tickets.get(desk.admin, ticket_id).version == 1


@pytest.mark.parametrize("backend", ["file"], indirect=True)
def test_the_command_line_sweep_prints_what_it_removed(
    desk: Desk, scratch_database_url: str, trail_env: dict[str, str], tmp_path: Path
) -> None:
    # `trail attachments sweep` on the data directory the desk stores its blobs in.
    assert isinstance(desk.backend.store, FileBlobStore)
    data_dir = desk.backend.store.directory.parent
    orphan = unique("orphan")
    removed = unique("removed")
    orphan_sha = sha256_of(desk, orphan)
    added = add(desk, desk.ticket(), removed)
    remove(desk, added)
    catch_up(AttachmentsProjection, trail_env)
    two_hours_ago = (datetime.now(UTC) - timedelta(hours=2)).timestamp()
    for sha256 in (orphan_sha, added.aggregate.attachment(added.id).sha256):
        path = desk.backend.store.directory / sha256[:2] / sha256[2:4] / sha256
        os.utime(path, (two_hours_ago, two_hours_ago))
    env = {**os.environ, "DATABASE_URL": scratch_database_url, "TRAIL_DATA_DIR": str(data_dir),
           "TRAIL_ATTACHMENT_RETENTION_DAYS": "0"}

    result = subprocess.run(
        [sys.executable, "-m", "runtime.cli", "attachments", "sweep"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
    )

    assert result.returncode == 0, result.stderr
    size = len(orphan) + len(removed)
    assert result.stdout.strip() == (f"removed 2 blobs ({size} bytes): 1 never committed, "
                                     "1 retained past 0 days")
    assert list(desk.backend.store.iter_blobs()) == []
