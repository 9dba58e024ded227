"""Settings from the environment: a value out of range is refused at start, by name."""

from __future__ import annotations

import pytest

from runtime.settings import SettingsError, load_settings


def test_the_api_runs_five_steps_below_the_followers_unless_told_otherwise() -> None:
    assert load_settings({}).api_niceness == 5
    assert load_settings({"TRAIL_API_NICENESS": "0"}).api_niceness == 0
    assert load_settings({"TRAIL_API_NICENESS": "19"}).api_niceness == 19


@pytest.mark.parametrize("raw", ["-1", "20", "five", "2.5"])
def test_a_niceness_outside_0_to_19_is_refused(raw: str) -> None:
    with pytest.raises(SettingsError, match="TRAIL_API_NICENESS"):
        load_settings({"TRAIL_API_NICENESS": raw})
