"""Both backends behave alike: every test here runs on a directory and on an S3 server."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from blobstore import BlobNotFound, BlobStore, BlobTooLarge, StoredBlob, UnsupportedType
from tests.blobstore import samples
from tests.blobstore.conftest import Backend

LINES = b"".join(b"line %05d of a long log\n" % n for n in range(40))


def test_round_trip(store: BlobStore) -> None:
    stored = store.put([b"hello ", b"world\n"], max_bytes=1024)

    assert stored == StoredBlob(hashlib.sha256(b"hello world\n").hexdigest(), 12, "text/plain")
    assert store.exists(stored.sha256)
    with store.open(stored.sha256) as reader:
        assert reader.read() == b"hello world\n"
    assert b"".join(store.open(stored.sha256)) == b"hello world\n"


def test_a_body_larger_than_an_upload_part_streams_through(store: BlobStore) -> None:
    line = b"0123456789abcdef" * 4 + b"\n"
    chunk = line * 1024
    chunks = [chunk] * 150  # 9.75 MiB, more than one 8 MiB multipart part
    body = b"".join(chunks)

    stored = store.put(iter(chunks), max_bytes=len(body))

    assert stored.sha256 == hashlib.sha256(body).hexdigest()
    assert stored.size == len(body)
    digest = hashlib.sha256()
    for piece in store.open(stored.sha256):
        digest.update(piece)
    assert digest.hexdigest() == stored.sha256


@pytest.mark.parametrize("content_type", sorted(samples.ALLOWED))
def test_every_allowed_type_is_stored_with_its_type(store: BlobStore, content_type: str) -> None:
    body = samples.ALLOWED[content_type]()

    stored = store.put([body], max_bytes=len(body))

    assert stored.content_type == content_type
    assert store.open(stored.sha256).read() == body


def test_same_bytes_are_stored_once(store: BlobStore) -> None:
    first = store.put([samples.png()], max_bytes=10_000)
    second = store.put([samples.png()[:10], samples.png()[10:]], max_bytes=10_000)

    assert first == second
    assert [sha256 for sha256, _ in store.iter_blobs()] == [first.sha256]


def test_exactly_the_limit_is_accepted(backend: Backend) -> None:
    stored = backend.store.put([LINES], max_bytes=len(LINES))

    assert stored.size == len(LINES)
    assert backend.store.exists(stored.sha256)
    assert list(backend.temp_directory.iterdir()) == []


def test_one_byte_over_the_limit_is_refused_and_leaves_nothing(backend: Backend) -> None:
    with pytest.raises(BlobTooLarge) as refused:
        backend.store.put([LINES[:100], LINES[100:]], max_bytes=len(LINES) - 1)

    assert refused.value.max_bytes == len(LINES) - 1
    assert list(backend.store.iter_blobs()) == []
    assert not backend.store.exists(hashlib.sha256(LINES).hexdigest())
    assert list(backend.temp_directory.iterdir()) == []


def test_the_body_stops_being_read_once_past_the_limit(store: BlobStore) -> None:
    read = 0

    def endless() -> Iterator[bytes]:
        nonlocal read
        for _ in itertools.count():
            read += 1
            yield b"x" * 1000

    with pytest.raises(BlobTooLarge):
        store.put(endless(), max_bytes=10_500)

    assert read == 11


def test_a_refused_type_leaves_nothing(backend: Backend) -> None:
    with pytest.raises(UnsupportedType):
        backend.store.put([b"<!DOCTYPE html><p>hi</p>"], max_bytes=1000)

    assert list(backend.store.iter_blobs()) == []
    assert list(backend.temp_directory.iterdir()) == []


def test_html_uploaded_as_a_png_is_refused(store: BlobStore) -> None:
    # The client names it photo.png and claims image/png: neither reaches the store.
    with pytest.raises(UnsupportedType):
        store.put([b"<html><body><script>alert(1)</script></body></html>"], max_bytes=1000)


@pytest.mark.parametrize(
    ("start", "stop", "expected"),
    [
        pytest.param(0, 100, LINES[:100], id="first bytes"),
        pytest.param(300, 700, LINES[300:700], id="middle"),
        pytest.param(len(LINES) - 100, None, LINES[-100:], id="suffix"),
        pytest.param(len(LINES) - 1, len(LINES), LINES[-1:], id="last byte"),
        pytest.param(900, len(LINES) + 50, LINES[900:], id="past the end"),
        pytest.param(len(LINES), None, b"", id="from the end"),
        pytest.param(len(LINES) + 10, len(LINES) + 20, b"", id="beyond the end"),
    ],
)
def test_ranges(store: BlobStore, start: int, stop: int | None, expected: bytes) -> None:
    stored = store.put([LINES], max_bytes=len(LINES))

    assert b"".join(store.open(stored.sha256, start, stop)) == expected
    with store.open(stored.sha256, start, stop) as reader:
        assert reader.read(10) == expected[:10]
        assert reader.read() == expected[10:]
        assert reader.read() == b""


def test_a_range_must_be_a_forward_slice(store: BlobStore) -> None:
    stored = store.put([LINES], max_bytes=len(LINES))

    for start, stop in [(-1, None), (10, 10), (10, 5)]:
        with pytest.raises(ValueError):
            store.open(stored.sha256, start, stop)


def test_delete(store: BlobStore) -> None:
    kept = store.put([b"kept\n"], max_bytes=100)
    deleted = store.put([b"deleted\n"], max_bytes=100)

    store.delete(deleted.sha256)
    store.delete(deleted.sha256)

    assert not store.exists(deleted.sha256)
    with pytest.raises(BlobNotFound):
        store.open(deleted.sha256)
    assert [sha256 for sha256, _ in store.iter_blobs()] == [kept.sha256]


def test_a_missing_blob_is_not_found(store: BlobStore) -> None:
    missing = hashlib.sha256(b"never stored").hexdigest()

    assert not store.exists(missing)
    with pytest.raises(BlobNotFound):
        store.open(missing)
    with pytest.raises(BlobNotFound):
        store.open(missing, 0, 10)


@pytest.mark.parametrize(
    "key", ["../../etc/passwd", "A" * 64, "a" * 63, "g" * 64, "", "a" * 64 + "/x"]
)
def test_keys_other_than_a_sha256_are_refused(store: BlobStore, key: str) -> None:
    for operation in (store.open, store.exists, store.stat, store.delete):
        with pytest.raises(ValueError):
            operation(key)


def test_iter_blobs_lists_every_blob_with_its_time(store: BlobStore) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    stored = {store.put([b"blob %d\n" % n], max_bytes=100).sha256 for n in range(3)}

    listed = dict(store.iter_blobs())

    assert set(listed) == stored
    for modified_at in listed.values():
        assert modified_at.tzinfo is not None
        assert before <= modified_at <= datetime.now(UTC) + timedelta(seconds=5)


def test_stat_tells_the_size_and_the_last_store_time(store: BlobStore) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    stored = store.put([LINES], max_bytes=len(LINES))

    found = store.stat(stored.sha256)

    assert found is not None
    assert found.size == len(LINES)
    assert before <= found.modified_at <= datetime.now(UTC) + timedelta(seconds=5)
    assert dict(store.iter_blobs())[stored.sha256] == found.modified_at
    store.delete(stored.sha256)
    assert store.stat(stored.sha256) is None
