"""What the webhooks need, built once per process by ivr.app.create_app.

Kept on ``app.extensions["ivr"]``, as Flask's extensions do, and read through
`services()`: the views import this module, never the app factory.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from flask import current_app

from ivr.config import Settings
from ivr.content import Content
from ivr.outbound.alerts import Dispatcher
from ivr.records.db import Recorder


@dataclass(frozen=True)
class Services:
    """What the webhooks need, built once per process."""

    settings: Settings
    content: Content
    recorder: Recorder
    alerts: Dispatcher
    # The time now, as an aware datetime: whether the agents' line is open reads it.
    # Injected (create_app(clock=...)) so a test sets the hour instead of faking holidays.
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))


def services() -> Services:
    """This app's services (inside a request or an app context)."""
    return current_app.extensions["ivr"]
