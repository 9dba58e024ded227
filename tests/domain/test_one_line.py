"""The one-line rule of every single-line field, and a webhook's URL, which is one line too."""

from __future__ import annotations

import pytest

from domain.errors import FieldError
from domain.values import is_one_line, is_visible
from domain.webhook import clean_url

BREAKS = ["\r", "\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029",
          "\x00", "\x07", "\x1b", "\x7f", "\x9b"]


@pytest.mark.parametrize("char", BREAKS)
def test_line_breaks_and_controls_are_not_one_line(char: str) -> None:
    assert not is_one_line(f"a{char}b")


def test_text_of_marks_alone_is_not_visible() -> None:
    assert not is_visible("\u200b\u200c\u200d\u200e\u200f\u202a\u202e\u2066\u2069\ufeff\u3164")
    assert is_visible("\u200bx")
    assert is_visible("日本")


@pytest.mark.parametrize("char", [*BREAKS, " ", "\t"])
def test_a_webhook_url_with_a_control_or_a_space_is_refused(char: str) -> None:
    errors: list[FieldError] = []
    clean_url(errors, f"https://hooks.example.com/a{char}b")
    assert [e.field for e in errors] == ["url"]
