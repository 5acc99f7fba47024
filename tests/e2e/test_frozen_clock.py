"""A clock you can stop (issue 12): the tests' moment can be set with
``CHINHDANH_TEST_NOW``, and the whole machine's calendar moved with ``faketime``
(Debian's package; tests/fixtures/clock.py says what it needs). The full runs at
2027-12-01 and 2030-01-01 are recorded in docs/testing.md; these check the means."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from factories import DEFAULT_NOW, ROOT, test_now

FAKETIME = shutil.which("faketime")
needs_faketime = pytest.mark.skipif(FAKETIME is None, reason="Debian's faketime is not installed (./dev test adds it)")


def test_the_tests_moment_is_fixed_unless_chinhdanh_test_now_says() -> None:
    assert test_now({}) == DEFAULT_NOW == datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    assert test_now({"CHINHDANH_TEST_NOW": "2030-01-01T00:00:00+07:00"}) == datetime(2029, 12, 31, 17, 0, tzinfo=UTC)
    assert test_now({"CHINHDANH_TEST_NOW": "2027-12-01T00:00:00Z"}) == datetime(2027, 12, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="needs an offset"):
        test_now({"CHINHDANH_TEST_NOW": "2030-01-01T00:00:00"})


def _pytest_env(**extra: str) -> dict[str, str]:
    """This environment without pytest's, faketime's (a run may itself be under faketime:
    its wrapper refuses to nest) or a database URL, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "FAKETIME", "CHINHDANH_TEST_NOW"))}
    if "faketime" in env.get("LD_PRELOAD", ""):
        del env["LD_PRELOAD"]
    env.pop("TEST_DATABASE_URL", None)
    env.update(extra)
    return env


SMOKE = [
    "tests/verify/test_smoke.py",
    "tests/registry/test_clock.py",
    "-q",
    "-p",
    "no:randomly",
    "-p",
    "no:cacheprovider",
]


@pytest.mark.slow
def test_the_app_and_the_fast_path_follow_chinhdanh_test_now() -> None:
    """test_smoke checks the verdict's ``checked_at`` is NOW, test_clock the fast path's."""
    env = _pytest_env(CHINHDANH_TEST_NOW="2030-01-01T00:00:00+07:00")
    done = subprocess.run([sys.executable, "-m", "pytest", *SMOKE], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:]
    assert done.stdout.splitlines()[-1].startswith("3 passed in ")


@needs_faketime
@pytest.mark.slow
def test_under_faketime_the_calendar_moves_and_waits_still_work() -> None:
    """Only the calendar moves (FAKETIME_DONT_FAKE_MONOTONIC=1), time.sleep waits on an
    event (fixtures/clock.py), and a process started and waited for with a timeout
    answers: the OSError 22 an earlier run saw came from libfaketime's clock_nanosleep."""
    script = (
        "import subprocess, sys, threading, time, datetime\n"
        "sys.path[:0] = ['tests']\n"
        "from fixtures.clock import _sleep_on_a_wait\n"
        "time.sleep = _sleep_on_a_wait\n"
        "print(datetime.datetime.now(datetime.UTC).date())\n"
        "print(subprocess.Popen(['sleep', '0.2']).wait(timeout=10))\n"
        "print(subprocess.run([sys.executable, '-c', 'import datetime; print(datetime.date.today())'],"
        " capture_output=True, text=True, timeout=30).stdout.strip())\n"
        "print(threading.Event().wait(0.05))\n"
    )
    env = _pytest_env(FAKETIME_DONT_FAKE_MONOTONIC="1")
    assert FAKETIME is not None
    done = subprocess.run(
        [FAKETIME, "2027-12-01 00:00:00", sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["2027-12-01", "0", "2027-12-01", "False"]


@needs_faketime
@pytest.mark.slow
def test_the_suites_smoke_passes_with_the_machines_calendar_at_2030() -> None:
    env = _pytest_env(FAKETIME_DONT_FAKE_MONOTONIC="1")
    assert FAKETIME is not None
    command = [FAKETIME, "2030-01-01 00:00:00", sys.executable, "-m", "pytest", *SMOKE]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:]
    assert done.stdout.splitlines()[-1].startswith("3 passed in ")
