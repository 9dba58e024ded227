"""The sweep of attachment bytes: removes from the blob store the bytes no attachment needs.

- Bytes that no attachment names, stored longer ago than a grace period: an upload whose event
  never committed (the client went away, the database refused). Bytes an upload is writing are
  not in the store yet, and bytes it has just stored are younger than the grace period.
- Bytes whose every attachment was removed longer ago than the retention period. One blob may
  back several attachments (the same file attached twice): it stays while any of them is live or
  was removed within the retention period.

Who uses a blob comes from the attachments read model, read only once that model has caught up
with the log as it stood when the sweep began: a model still being filled (its very first start)
cannot tell unused bytes from bytes whose event it has not read yet. Each deletion then takes the
blob's exclusive lease (an upload that is about to name the blob holds it shared) and looks at
the blob once more: bytes stored again since the listing belong to an upload of the same file,
and stay.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

import psycopg
from psycopg.rows import dict_row

from blobstore import BlobStore
from domain.values import format_size
from eventlog.reading import head
from projections.attachments import AttachmentsProjection, blob_uses
from projections.positions import wait_for_position

log = logging.getLogger("trail.sweep")

# An upload records its event within moments of storing its bytes; an hour is far past that,
# and past any clock skew between this process and the blob store.
ORPHAN_GRACE = timedelta(hours=1)
CATCH_UP_TIMEOUT = 60.0
BATCH = 1000

Reason = Literal["orphan", "retained"]


class SweepLeases(Protocol):
    def sweeping(self, sha256: str) -> AbstractContextManager[bool]:
        """Whether the blob may be deleted in the block: no upload is about to name it."""
        ...


class SweepNotReady(Exception):
    """The attachments read model did not catch up with the log in time: nothing was swept."""


@dataclass(frozen=True)
class SweepReport:
    retention_days: int
    orphans: int = 0
    retained: int = 0
    bytes: int = 0

    def counted(self, reason: Reason, size: int) -> SweepReport:
        if reason == "orphan":
            return replace(self, orphans=self.orphans + 1, bytes=self.bytes + size)
        return replace(self, retained=self.retained + 1, bytes=self.bytes + size)

    def __str__(self) -> str:
        blobs = self.orphans + self.retained
        if not blobs:
            return "removed no blobs"
        noun = "blob" if blobs == 1 else "blobs"
        return (
            f"removed {blobs} {noun} ({format_size(self.bytes)}): {self.orphans} never "
            f"committed, {self.retained} retained past {self.retention_days} days"
        )


class AttachmentSweep:
    def __init__(
        self,
        blobs: BlobStore,
        database_url: str,
        leases: SweepLeases,
        *,
        retention: timedelta,
        grace: timedelta = ORPHAN_GRACE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        catch_up_timeout: float = CATCH_UP_TIMEOUT,
    ) -> None:
        self.blobs = blobs
        self.database_url = database_url
        self.leases = leases
        self.retention = retention
        self.grace = grace
        self.clock = clock
        self.catch_up_timeout = catch_up_timeout

    def run(self, *, dry_run: bool = False) -> SweepReport:
        """Remove what is no longer needed (or, with `dry_run`, only count it)."""
        started = self.clock()
        fresh_since = started - self.grace
        retained_since = started - self.retention
        report = SweepReport(retention_days=self.retention.days)
        with psycopg.connect(self.database_url, autocommit=True, row_factory=dict_row) as conn:
            position = head(conn)
            names = [AttachmentsProjection.name]
            if not wait_for_position(self.database_url, names, position, self.catch_up_timeout):
                raise SweepNotReady(
                    f"the attachments read model has not reached position {position}"
                )
            listed = self.blobs.iter_blobs()
            while batch := list(itertools.islice(listed, BATCH)):
                old = [sha256 for sha256, stored_at in batch if stored_at < fresh_since]
                uses = blob_uses(conn, old)
                for sha256 in old:
                    use = uses.get(sha256)
                    reason: Reason
                    if use is None:
                        reason = "orphan"
                    elif not use.live and use.last_removed_at is not None \
                            and use.last_removed_at < retained_since:
                        reason = "retained"
                    else:
                        continue
                    size = self._remove(sha256, fresh_since, dry_run)
                    if size is not None:
                        report = report.counted(reason, size)
        return report

    def run_logged(self) -> None:
        """A scheduled turn: the report goes to the log."""
        try:
            log.info("attachment sweep: %s", self.run())
        except SweepNotReady as error:
            log.warning("attachment sweep skipped: %s", error)

    def _remove(self, sha256: str, fresh_since: datetime, dry_run: bool) -> int | None:
        """The size of the blob removed; None when it stays after all."""
        with self.leases.sweeping(sha256) as free:
            if not free:
                return None
            found = self.blobs.stat(sha256)
            if found is None or found.modified_at >= fresh_since:
                return None
            if not dry_run:
                self.blobs.delete(sha256)
            return found.size
