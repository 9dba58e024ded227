"""The supervisor's restart policy, on real child processes (tiny Python scripts).

Each child appends its start to a file, so the tests know exactly which attempt is running; the
script decides what attempt N does. Timings are the policy's, shrunk; the margins between "dies
at once" and "healthy" are seconds wide, so a slow machine does not change the outcome.
"""

from __future__ import annotations

import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from runtime.supervisor import ChildExit, ChildSpec, CrashLoop, RestartPolicy, Supervisor

# attempt N: exits at once with a message on stderr (early), runs LIVE seconds then exits
# (healthy), or runs until stopped.
CHILD = textwrap.dedent("""
    import sys, time
    starts, plan = sys.argv[1], sys.argv[2].split(",")
    with open(starts, "a") as f:
        f.write("x")
    with open(starts) as f:
        attempt = len(f.read())
    step = plan[min(attempt, len(plan)) - 1]
    print(f"attempt {attempt}: {step}", flush=True)
    if step == "crash":
        print("Traceback (most recent call last):", file=sys.stderr)
        sys.exit(f"fatal: cannot start, attempt {attempt}")
    if step == "live":
        time.sleep(float(sys.argv[3]))
        sys.exit(f"died after a healthy run, attempt {attempt}")
    time.sleep(120)
""")


def _spec(tmp_path: Path, plan: list[str], live: float = 0.0) -> tuple[ChildSpec, Path]:
    starts = tmp_path / "starts"
    command = (sys.executable, "-c", CHILD, str(starts), ",".join(plan), str(live))
    return ChildSpec("fake", command), starts


def _attempts(starts: Path) -> int:
    return len(starts.read_text()) if starts.exists() else 0


def _run_bounded(supervisor: Supervisor, until: float = 30.0) -> CrashLoop | None:
    """Run the supervisor in a thread; stop it if it has not returned after `until` seconds."""
    result: list[CrashLoop | None] = []
    thread = threading.Thread(target=lambda: result.append(supervisor.run()))
    thread.start()
    thread.join(until)
    if thread.is_alive():
        supervisor.stopping.set()
        thread.join(30)
        pytest.fail(f"the supervisor did not return within {until} s")
    return result[0]


def test_delays_double_only_for_crashes_during_start_up() -> None:
    policy = RestartPolicy(first_delay=1.0, max_delay=5.0)
    assert [policy.delay(n) for n in range(7)] == [1.0, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


def test_a_crash_looping_child_stops_the_supervisor_with_its_last_error_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    spec, starts = _spec(tmp_path, ["crash"])
    events: list[ChildExit] = []
    policy = RestartPolicy(healthy_after=5.0, first_delay=0.01, crash_limit=5,
                           poll_interval=0.02)
    crash_loop = _run_bounded(Supervisor([spec], {}, policy, on_exit=events.append))

    assert crash_loop is not None
    assert _attempts(starts) == 5
    assert crash_loop.name == "fake" and crash_loop.crashes == 5
    assert crash_loop.last_lines[-1] == "fatal: cannot start, attempt 5"
    assert "fatal: cannot start, attempt 5" in crash_loop.report()
    assert [event.early_crashes for event in events] == [1, 2, 3, 4, 5]
    assert [event.restart_delay for event in events] == [0.01, 0.02, 0.04, 0.08, None]
    # The child's stderr still reached the terminal while the supervisor kept its tail.
    assert "fatal: cannot start, attempt 1" in capfd.readouterr().err


def test_a_healthy_run_resets_the_backoff(tmp_path: Path) -> None:
    # Two crashes at start, a healthy run, one more crash at start, then it keeps running.
    # With crash_limit=3, counting the fourth exit as the third crash in a row would give up.
    spec, starts = _spec(tmp_path, ["crash", "crash", "live", "crash", "run"], live=3.0)
    events: list[ChildExit] = []
    policy = RestartPolicy(healthy_after=2.0, first_delay=0.05, crash_limit=3,
                           poll_interval=0.02)
    supervisor = Supervisor([spec], {}, policy, on_exit=events.append)
    thread = threading.Thread(target=supervisor.run)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while _attempts(starts) < 5 and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _attempts(starts) == 5
        assert supervisor.is_running("fake")
    finally:
        supervisor.stopping.set()
        thread.join(30)

    assert not thread.is_alive()
    assert not supervisor.is_running("fake")
    assert [event.early_crashes for event in events] == [1, 2, 0, 1]
    assert [event.restart_delay for event in events] == [0.05, 0.1, 0.05, 0.05]
    assert events[2].lived >= 3.0


def test_by_default_a_few_seconds_of_life_count_as_a_good_start() -> None:
    # Resetting only after 60 s made ten crashes in five minutes cost 30 s outages each.
    policy = RestartPolicy()
    assert policy.healthy_after <= 10.0
    assert policy.delay(0) == policy.first_delay <= 1.0
