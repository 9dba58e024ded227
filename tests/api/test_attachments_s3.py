"""Attachments on S3: a server configured with `TRAIL_BLOB_URL=s3://…` and the AWS variables
keeps the bytes in the bucket (a real S3 server, moto's) and serves them back from there."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from blobstore import S3BlobStore
from tests.api.attachments import attached
from tests.api.conftest import Accounts, Client, new_ticket
from tests.blobstore import samples
from tests.blobstore.conftest import BUCKET, s3_environ  # noqa: F401 (a fixture used here)


@pytest.fixture(scope="module")
def api_env(api_env: dict[str, str], s3_environ: dict[str, str]) -> dict[str, str]:  # noqa: F811
    prefix = f"s3://{BUCKET}/{uuid.uuid4().hex}/attachments"
    return {**api_env, **s3_environ, "TRAIL_BLOB_URL": prefix}


def test_a_file_is_kept_in_the_bucket_and_served_from_it(
    client: Client, accounts: Accounts, project: dict[str, Any], api_env: dict[str, str],
    s3_environ: dict[str, str],  # noqa: F811
) -> None:
    ticket = new_ticket(client, accounts.reporter.token, project["id"])
    body = samples.pdf()

    created = attached(client, accounts.reporter.token, ticket["id"], body, "report.pdf")
    whole = client.get(f"/attachments/{created['id']}", accounts.reporter.token)
    part = client.get(f"/attachments/{created['id']}", accounts.reporter.token,
                      headers={"Range": "bytes=0-7"})

    assert created["content_type"] == "application/pdf"
    assert (whole.status_code, whole.content) == (200, body)
    assert (part.status_code, part.content) == (206, body[:8])
    bucket = S3BlobStore(api_env["TRAIL_BLOB_URL"], s3_environ)
    assert [sha256 for sha256, _ in bucket.iter_blobs()] == [created["sha256"]]
    assert not (Path(api_env["TRAIL_DATA_DIR"]) / "blobs").exists()
