"""A webhook's time budget for the database: Twilio waits 15 seconds in all.

Recording is best effort, and a locked or unreachable database makes every
write wait for its own timeout (SQLite's busy timeout, PostgreSQL's connect
timeout). A webhook writes two or three times, so those waits would add up
past Twilio's budget. The views start the clock when a webhook arrives; once
RECORDING_BUDGET_S has gone by, the recorder skips the remaining writes of that
request, so a sick database delays a caller by one timeout at most, not one
per write. Outside a webhook (CLI, reports, tests) there is no clock.
"""
from __future__ import annotations

import time
from contextvars import ContextVar

RECORDING_BUDGET_S = 3.0

_started: ContextVar[float | None] = ContextVar("webhook_started", default=None)


def start() -> None:
    _started.set(time.monotonic())


def stop() -> None:
    _started.set(None)


def spent(budget: float = RECORDING_BUDGET_S) -> bool:
    """True once the current webhook has used `budget` seconds."""
    started = _started.get()
    return started is not None and time.monotonic() - started > budget
