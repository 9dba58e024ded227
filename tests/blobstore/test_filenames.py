"""Stored filenames are bare, visible and bounded; served ones are quoted for every browser."""

from __future__ import annotations

import pytest

from blobstore import FilenameTooLong
from blobstore.filenames import clean_filename, content_disposition


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\x\\y.png", "y.png"),
        ("C:y.png", "y.png"),
        ("\\\\server\\share\\doc.txt", "doc.txt"),
        ("a\u202egnp.exe", "agnp.exe"),
        ("\u2066evil\u2069.txt", "evil.txt"),
        ("line\u2028break\u2029.txt", "linebreak.txt"),
        ("tab\there\x00nul\x1bescape\x7fdel\x85c1.txt", "tabherenulescapedelc1.txt"),
        ("  .hidden  ", "hidden"),
        ("...", "file"),
        ("", "file"),
        ("dir/", "file"),
        (" . . name.txt", "name.txt"),
        ("cafe\u0301.txt", "café.txt"),
        ("résumé final (2).docx", "résumé final (2).docx"),
    ],
)
def test_clean_filename(raw: str, clean: str) -> None:
    assert clean_filename(raw) == clean


def test_255_characters_are_the_limit() -> None:
    assert clean_filename("a" * 251 + ".txt") == "a" * 251 + ".txt"
    with pytest.raises(FilenameTooLong) as refused:
        clean_filename("a" * 252 + ".txt")
    assert refused.value.length == 256


def test_the_limit_applies_to_the_cleaned_name() -> None:
    assert clean_filename("d/" * 200 + "short.txt") == "short.txt"


@pytest.mark.parametrize(
    ("filename", "header"),
    [
        ("report.pdf", "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"),
        (
            "résumé final.pdf",
            'attachment; filename="resume final.pdf"; '
            "filename*=UTF-8''r%C3%A9sum%C3%A9%20final.pdf",
        ),
        ("日本.png", "attachment; filename=\"__.png\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.png"),
        (
            'a"b\\c%41;d.txt',
            "attachment; filename=\"a_b_c_41;d.txt\"; filename*=UTF-8''a%22b%5Cc%2541%3Bd.txt",
        ),
        ("x\r\ny.txt", "attachment; filename=\"x__y.txt\"; filename*=UTF-8''x%0D%0Ay.txt"),
    ],
)
def test_content_disposition(filename: str, header: str) -> None:
    assert content_disposition(filename) == header
