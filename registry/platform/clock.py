"""The one clock of the service. Views, commands and the verification fast path ask
it what time it is, so that a test (or a replay) can stop it: configuration ``CLOCK``
is any callable returning an aware UTC datetime, the wall clock by default."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, current_app

Clock = Callable[[], datetime]
CLOCK = "chinhdanh.clock"


def system_clock() -> datetime:
    return datetime.now(UTC)


def init_app(app: Flask) -> None:
    clock = app.config.get("CLOCK") or system_clock
    if not callable(clock):
        raise TypeError("CLOCK must be a callable that returns the current time")
    app.extensions[CLOCK] = clock


def clock_of(app: Flask) -> Clock:
    clock: Clock = app.extensions[CLOCK]
    return clock


def now() -> datetime:
    """The current app's time (aware, UTC)."""
    return clock_of(current_app)()
