"""What is particular to the directory backend, and choosing a backend from TRAIL_BLOB_URL."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from blobstore import FileBlobStore, S3BlobStore, open_blob_store
from tests.blobstore import samples


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_blobs_are_fanned_out_and_private(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path / "blobs")

    sha256 = store.put([samples.png()], max_bytes=10_000).sha256

    path = tmp_path / "blobs" / sha256[:2] / sha256[2:4] / sha256
    assert path.read_bytes() == samples.png()
    assert _mode(path) == 0o600
    for directory in (path.parent, path.parent.parent, tmp_path / "blobs"):
        assert _mode(directory) == 0o700


def test_an_upload_in_progress_is_invisible(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path / "blobs")
    seen_while_writing: list[list[tuple[str, datetime]]] = []

    def body() -> Iterator[bytes]:
        yield b"first half\n"
        seen_while_writing.append(list(store.iter_blobs()))
        yield b"second half\n"

    stored = store.put(body(), max_bytes=100)

    assert seen_while_writing == [[]]
    assert [sha256 for sha256, _ in store.iter_blobs()] == [stored.sha256]


def test_storing_bytes_again_refreshes_their_time(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path / "blobs")
    sha256 = store.put([b"orphaned long ago\n"], max_bytes=100).sha256
    path = tmp_path / "blobs" / sha256[:2] / sha256[2:4] / sha256
    long_ago = datetime(2020, 1, 1, tzinfo=UTC).timestamp()
    os.utime(path, (long_ago, long_ago))

    store.put([b"orphaned long ago\n"], max_bytes=100)

    [(_, modified_at)] = store.iter_blobs()
    assert modified_at > datetime.now(UTC) - timedelta(minutes=1)


def test_iter_blobs_ignores_what_is_not_a_blob(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path / "blobs")
    sha256 = store.put([b"a blob\n"], max_bytes=100).sha256
    (tmp_path / "blobs" / "tmp" / ".upload-abc").write_bytes(b"half")
    (tmp_path / "blobs" / "README").write_text("not a blob")
    (tmp_path / "blobs" / sha256[:2] / sha256[2:4] / "stray").write_text("not a blob")

    assert [name for name, _ in store.iter_blobs()] == [sha256]


def test_no_url_means_the_data_directory(tmp_path: Path) -> None:
    for url in (None, ""):
        store = open_blob_store(url, tmp_path)
        assert isinstance(store, FileBlobStore)
        assert store.directory == tmp_path / "blobs"


def test_a_file_url_names_the_directory(tmp_path: Path) -> None:
    store = open_blob_store(f"file://{tmp_path}/elsewhere", Path("/unused"))

    assert isinstance(store, FileBlobStore)
    assert store.directory == tmp_path / "elsewhere"
    assert (tmp_path / "elsewhere").is_dir()


def test_an_s3_url_names_a_bucket_and_prefix() -> None:
    environ = {"AWS_ACCESS_KEY_ID": "key", "AWS_SECRET_ACCESS_KEY": "secret"}

    store = open_blob_store("s3://trail-attachments/blobs", Path("/unused"), environ)

    assert isinstance(store, S3BlobStore)
    assert store.bucket == "trail-attachments"


@pytest.mark.parametrize(
    "url", ["/var/blobs", "http://minio:9000/x", "file://host/var/blobs", "file:relative", "s3://"]
)
def test_any_other_url_is_refused_naming_the_setting(url: str) -> None:
    with pytest.raises(ValueError, match="TRAIL_BLOB_URL"):
        open_blob_store(url, Path("/unused"))
