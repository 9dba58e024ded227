"""Small real files of every allowed type, built here so the tests carry no binary fixtures."""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
import zlib


def png() -> bytes:
    """A 1x1 red RGB image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")  # filter type 0, then one pixel
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def gif() -> bytes:
    """A 1x1 image on a two-colour palette."""
    screen = struct.pack("<HHBBB", 1, 1, 0x80, 0, 0)
    palette = b"\x00\x00\x00\xff\xff\xff"
    image = b"," + struct.pack("<HHHHB", 0, 0, 1, 1, 0)
    pixels = b"\x02\x02\x44\x01\x00"  # LZW code size 2; clear, colour 0, end of information
    return b"GIF89a" + screen + palette + image + pixels + b";"


def jpeg() -> bytes:
    """A 1x1 grey baseline JPEG: one 8x8 block whose only coefficient is a zero DC difference."""

    def segment(marker: int, payload: bytes) -> bytes:
        return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload

    one_code_of_length_one = bytes([1] + [0] * 15)
    return (
        b"\xff\xd8"
        + segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + segment(0xDB, b"\x00" + bytes([1] * 64))
        + segment(0xC0, struct.pack(">BHHB", 8, 1, 1, 1) + b"\x01\x11\x00")
        + segment(0xC4, b"\x00" + one_code_of_length_one + b"\x00")  # DC: 0 means "no change"
        + segment(0xC4, b"\x10" + one_code_of_length_one + b"\x00")  # AC: 0 means "end of block"
        + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + b"\x3f"  # the two one-bit codes, padded with ones
        + b"\xff\xd9"
    )


def webp() -> bytes:
    """A 1x1 lossless WebP."""
    bitstream = b"\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07"
    chunk = b"VP8L" + struct.pack("<I", len(bitstream)) + bitstream + b"\x00"  # padded to even
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def pdf() -> bytes:
    """A one-page empty PDF with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>",
    ]
    document = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(document))
        document += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(document)
    document += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        document += b"%010d 00000 n \n" % offset
    document += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(document)


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("notes.txt", date_time=(2024, 1, 1, 0, 0, 0)), "hi\n")
    return buffer.getvalue()


def gzip_file() -> bytes:
    return gzip.compress(b"a log line\n" * 10, mtime=0)


TEXT = b"The build fails on Tuesdays.\r\nSteps:\t1. wait for Tuesday\f\n"
JSON = b'{"ticket": "TRL-1", "tags": ["bug", "ui"], "estimate": 2.5, "done": false}'
CSV = b'key,title,status\nTRL-1,Login fails,open\nTRL-2,"Typo, in footer",closed\n'

ALLOWED = {
    "image/png": png,
    "image/jpeg": jpeg,
    "image/gif": gif,
    "image/webp": webp,
    "application/pdf": pdf,
    "application/zip": zip_archive,
    "application/gzip": gzip_file,
    "text/plain": lambda: TEXT,
    "application/json": lambda: JSON,
    "text/csv": lambda: CSV,
}
