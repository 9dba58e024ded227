"""Delivery knobs: the production backoff, and reading them from the environment."""

from __future__ import annotations

import pytest

from runtime.bootstrap import delivery_from_env
from runtime.settings import SettingsError
from workers.config import Delivery


def test_production_backoff_spreads_ten_attempts_over_about_a_day() -> None:
    defaults = Delivery()
    waits = [defaults.backoff(n) for n in range(1, defaults.max_attempts)]
    assert waits == sorted(waits)
    assert waits[0] == 180
    assert max(waits) == defaults.max_backoff
    assert 18 * 3600 < sum(waits) < 30 * 3600


def test_knobs_come_from_the_environment() -> None:
    delivery = delivery_from_env({
        "TRAIL_EMAIL_MAX_ATTEMPTS": "3",
        "TRAIL_EMAIL_MIN_BACKOFF": "0.5",
        "TRAIL_WORKER_THREADS": " 2 ",
        "TRAIL_EMAIL_NAMESPACE": "staging",
        "TRAIL_EMAIL_SMTP_TIMEOUT": "",
    })
    assert (delivery.max_attempts, delivery.min_backoff, delivery.worker_threads) == (3, 0.5, 2)
    assert delivery.namespace == "staging"
    assert delivery.smtp_timeout == Delivery().smtp_timeout


@pytest.mark.parametrize(
    ("variable", "value"),
    [("TRAIL_EMAIL_MAX_ATTEMPTS", "0"), ("TRAIL_EMAIL_MIN_BACKOFF", "soon"),
     ("TRAIL_WORKER_THREADS", "-4"), ("TRAIL_EMAIL_REQUEUE_AFTER", "0")],
)
def test_an_unusable_knob_is_refused_by_name(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        delivery_from_env({variable: value})
