"""The streamed reading of an upload's body, on its own: a stalled client and a cut-short form."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest
from anyio import to_thread

from api import uploads
from api.errors import Problem
from api.uploads import UploadForm, body_reader


def test_a_client_that_stops_sending_gets_its_thread_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(uploads, "STALL_TIMEOUT", 0.05)

    async def stalled() -> AsyncIterator[bytes]:
        yield b"--x\r\n"
        await anyio.sleep_forever()
        yield b""

    async def read_all() -> None:
        read = body_reader(stalled())
        assert await to_thread.run_sync(read) == b"--x\r\n"
        await to_thread.run_sync(read)

    with pytest.raises(Problem) as refused:
        anyio.run(read_all)
    assert refused.value.status == 408


def body(*chunks: bytes) -> UploadForm:
    pending = list(chunks)
    return UploadForm(lambda: pending.pop(0) if pending else b"", "x", max_file_bytes=100)


def test_the_file_part_streams_and_the_rest_of_the_form_is_checked() -> None:
    form = body(
        b"--x\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n",
        b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\n",
        b"first ", b"second\r\n--x--\r\n",
    )
    part = form.file()

    assert part.filename == "a.txt"
    assert b"".join(part.chunks) == b"first second"


def test_a_second_file_part_is_refused_before_the_first_is_taken() -> None:
    form = body(
        b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\n"
        b"one\r\n--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.txt\"\r\n"
        b"\r\ntwo\r\n--x--\r\n",
    )
    part = form.file()

    with pytest.raises(Problem) as refused:
        b"".join(part.chunks)
    assert (refused.value.status, refused.value.errors[0].field) == (422, "file")


def test_a_form_cut_short_after_the_file_is_malformed() -> None:
    form = body(b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nab")
    part = form.file()

    with pytest.raises(Problem) as refused:
        b"".join(part.chunks)
    assert refused.value.status == 400


def test_a_body_past_the_limit_is_refused_while_it_streams() -> None:
    big = b"y" * (100 + uploads.FORM_ALLOWANCE)
    form = body(b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\n",
                big, b"\r\n--x--\r\n")
    part = form.file()

    with pytest.raises(Problem) as refused:
        for _ in part.chunks:
            pass
    assert refused.value.status == 413
