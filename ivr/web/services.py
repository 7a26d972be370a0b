"""What the webhooks need, built once per process by ivr.app.create_app.

Kept on ``app.extensions["ivr"]``, as Flask's extensions do, and read through
`services()`: the views import this module, never the app factory.
"""
from __future__ import annotations

from dataclasses import dataclass

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


def services() -> Services:
    """This app's services (inside a request or an app context)."""
    return current_app.extensions["ivr"]
