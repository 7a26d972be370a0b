"""How many calls one caller may make in a while: IVR_RATE_LIMIT="30/10m".

A prank or a robocaller dialling again and again would tie up the line and the
agents. A caller over the limit skips the bot but still hears the safety line
and is put through to a person, unless IVR_AGENT_CAP says this number has rung
the agents often enough; then the hand-off's fallback (a message, a call back,
the support number read aloud). A call over the limit never counts toward it,
so a driver who keeps redialling is never locked out for trying. The count comes from the calls table, not from process memory, so it
holds across gunicorn workers, hosts and restarts. It is a soft limit: two
calls arriving in the same instant may both get in, which is fine for a flood.

Callers without a number (withheld, "anonymous", Twilio's keypad spellings of
ANONYMOUS, RESTRICTED...) are never limited: they would all share one count,
and one prank would lock out every driver who hides their caller ID. Block
such floods at Twilio if they happen. `client:` and `sip:` callers are limited
by their identity, like a number.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

LIMITED_ACTION = "rate_limited"  # the turn that marks a call over the limit

# For floods, never for a driver: one whose calls keep dropping in a garage may
# redial eight or ten times in a few minutes, and must always get through.
DEFAULT = "30/10m"
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
SPEC = re.compile(r"^\s*(\d{1,6})\s*/\s*(\d{0,6})\s*([smhd])\s*$")

# What Twilio sends in From when the number is hidden: words, or the words
# spelled on a keypad (ANONYMOUS, RESTRICTED, BLOCKED, UNKNOWN, UNAVAILABLE).
HIDDEN_WORDS = {"", "anonymous", "restricted", "blocked", "unknown", "unavailable", "private", "withheld"}
HIDDEN_NUMBERS = {"266696687", "7378742833", "2562533", "8656696", "86282452253"}


class BadLimit(ValueError):
    """IVR_RATE_LIMIT is not COUNT/WINDOW."""


@dataclass(frozen=True)
class RateLimit:
    calls: int
    window: timedelta

    def __str__(self) -> str:
        return f"{self.calls} calls in {int(self.window.total_seconds())} s"


def parse(raw: str | None) -> RateLimit | None:
    """"5/10m" -> 5 calls per 10 minutes; "off" or "0" -> no limit; empty -> the default."""
    text = (raw or "").strip().lower()
    if not text:
        text = DEFAULT
    if text in {"off", "0", "none"}:
        return None
    match = SPEC.match(text)
    if not match:
        raise BadLimit(f"{raw!r} is not COUNT/WINDOW, e.g. 5/10m (units s, m, h, d), or off")
    count, amount, unit = int(match[1]), int(match[2] or 1), match[3]
    if count < 1 or amount < 1:
        raise BadLimit(f"{raw!r}: the count and the window must be at least 1, e.g. 5/10m, or off")
    return RateLimit(count, timedelta(seconds=amount * UNITS[unit]))


def is_hidden(caller: str | None) -> bool:
    """True when From names nobody we could count: a withheld or anonymous number."""
    text = (caller or "").strip().lower()
    return text in HIDDEN_WORDS or text.lstrip("+") in HIDDEN_NUMBERS
