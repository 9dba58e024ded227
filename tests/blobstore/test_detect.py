"""Types are told from the bytes: the ten allowed ones are recognised, all else is refused."""

from __future__ import annotations

import io
import json

import pytest

from blobstore import UnsupportedType
from blobstore.detect import ALLOWED_TYPES, HEAD_SIZE, detect_content_type
from tests.blobstore import samples

BOM = b"\xef\xbb\xbf"


def detect(data: bytes) -> str:
    return detect_content_type(io.BytesIO(data))


def test_the_samples_cover_every_allowed_type() -> None:
    assert set(samples.ALLOWED) == ALLOWED_TYPES


@pytest.mark.parametrize("content_type", sorted(samples.ALLOWED))
def test_every_allowed_type_is_recognised(content_type: str) -> None:
    assert detect(samples.ALLOWED[content_type]()) == content_type


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        pytest.param(b"", "text/plain", id="empty"),
        pytest.param(b"  \n\t\n", "text/plain", id="blank"),
        pytest.param(BOM + b"caf\xc3\xa9 cr\xc3\xa8me\n", "text/plain", id="BOM and accents"),
        pytest.param("日本語のテキスト\n".encode(), "text/plain", id="CJK"),
        pytest.param(b"{\\rtf1 looks like RTF}", "text/plain", id="RTF is text"),
        pytest.param(b"a < b and c > d\n<3\n", "text/plain", id="angle brackets"),
        pytest.param(b"[1, 2, 3]", "application/json", id="JSON array"),
        pytest.param(b'\n  {"a": {"b": null}}\n', "application/json", id="JSON with blanks"),
        pytest.param(BOM + b'{"a": 1}', "application/json", id="JSON with BOM"),
        pytest.param(b"42", "text/plain", id="JSON scalar"),
        pytest.param(b'"just a string"', "text/plain", id="JSON string"),
        pytest.param(b'{"a": NaN}', "text/plain", id="JSON with NaN"),
        pytest.param(b"{not json}\n", "text/plain", id="braces"),
        pytest.param(b"[section]\nkey=value\n", "text/plain", id="INI"),
        pytest.param(b"a;b;c\n1;2;3\n4;5;6\n", "text/csv", id="CSV semicolons"),
        pytest.param(b"a\tb\n1\t2\n", "text/csv", id="CSV tabs"),
        pytest.param(b'name,note\r\nx,"two\r\nlines"\r\ny,z\r\n', "text/csv", id="CSV quoted"),
        pytest.param(b"one column\nonly\nhere\n", "text/plain", id="one column"),
        pytest.param(b"a,b,c\n1,2\n3,4,5\n", "text/plain", id="ragged columns"),
        pytest.param(b"a,b,c\n", "text/plain", id="one line"),
        pytest.param(b"%PDF-1.7 but the rest is text\n", "application/pdf", id="PDF signature"),
    ],
)
def test_text_rules(data: bytes, content_type: str) -> None:
    assert detect(data) == content_type


def test_a_character_cut_at_the_end_of_the_head_is_still_text() -> None:
    data = b"x" * (HEAD_SIZE - 1) + "é and more\n".encode()

    assert detect(data) == "text/plain"


def test_text_is_judged_on_its_head() -> None:
    assert detect(b"x" * HEAD_SIZE + b"\x00\xff binary tail") == "text/plain"


def test_a_large_json_document_is_parsed_whole() -> None:
    document = json.dumps([{"id": n, "title": f"ticket {n}"} for n in range(2000)]).encode()
    assert len(document) > HEAD_SIZE

    assert detect(document) == "application/json"
    assert detect(document[:-1]) == "text/plain"


def test_a_long_csv_is_judged_on_its_first_lines() -> None:
    rows = b"".join(b"TRL-%d,title %d,open\n" % (n, n) for n in range(2000))

    assert detect(b"key,title,status\n" + rows) == "text/csv"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"<!DOCTYPE html><html><body>hi</body></html>", id="HTML"),
        pytest.param(b"\n\n   <html><body>hi</body></html>", id="HTML after blanks"),
        pytest.param(BOM + b"<HTML><BODY>hi</BODY></HTML>", id="HTML after BOM, upper case"),
        pytest.param(b"<head><title>x</title></head>", id="head"),
        pytest.param(b"<body onload=alert(1)>", id="body"),
        pytest.param(b"<iframe src=//evil.example>", id="iframe"),
        pytest.param(b"<!-- a comment --><p>x</p>", id="comment"),
        pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>', id="SVG"),
        pytest.param(b'<?xml version="1.0"?><svg/>', id="XML"),
        pytest.param(b"<script>alert(document.cookie)</script>", id="script"),
        pytest.param(b"harmless start\n" * 20 + b"<ScRiPt>alert(1)</script>", id="script later"),
        pytest.param(b"harmless start\n" * 20 + b"<html>", id="html later"),
        pytest.param(b"#!/bin/sh\nrm -rf /\n", id="shell script"),
        pytest.param(b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56, id="ELF executable"),
        pytest.param(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 50, id="Windows executable"),
        pytest.param(b"\x00\x01\x02TRAILBIN\x00\x00\x00\x07payload", id="unknown binary"),
        pytest.param(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 24, id="WAV audio"),
        pytest.param(b"RIFF\x24\x00\x00\x00AVI LIST" + b"\x00" * 24, id="AVI video"),
        pytest.param(b"\xff\xd8\x00\x10" + b"\x00" * 20, id="half a JPEG signature"),
        pytest.param(b"GIF88a\x01\x00\x01\x00\x00\x00\x00;", id="no such GIF version"),
        pytest.param(b"\x1f\x8b\x01\x00" + b"\x00" * 20, id="gzip of an unknown method"),
        pytest.param(b"\x89PNG\r\n\x00\n" + b"\x00" * 20, id="damaged PNG signature"),
        pytest.param(b"\x89PNG<html><script>alert(1)</script>", id="HTML behind a PNG-like start"),
        pytest.param(b"caf\xe9 in Latin-1\n", id="not UTF-8"),
        pytest.param(b"text with a bell \x07 in it\n", id="C0 control"),
        pytest.param(b"text with DEL \x7f\n", id="DEL"),
        pytest.param("text with a C1 \u0085 control\n".encode(), id="C1 control"),
        pytest.param(b"\xff\xfeh\x00i\x00", id="UTF-16"),
    ],
)
def test_refused(data: bytes) -> None:
    with pytest.raises(UnsupportedType):
        detect(data)


def test_html_beyond_the_first_kibibyte_is_text() -> None:
    assert detect(b"a" * 1024 + b"<html>\n") == "text/plain"
