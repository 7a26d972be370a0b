"""The console's filters, read from the URL (so a view can be shared) and written back.

?since=YYYY-MM-DD (or `all`), ?until=YYYY-MM-DD (inclusive), ?station, ?connector,
?outcome, ?language, ?car (a make as recorded, `unknown`, or `-` for calls that
named no car). A value that cannot be right is dropped with a note, never a 500.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from ivr.records.console import Filters

DEFAULT_DAYS = 30
VALUE = re.compile(r"[A-Za-z0-9*_.:+ -]{1,40}")
FIELDS = ("since", "until", "station", "connector", "outcome", "language", "car")


def _date(raw: str) -> datetime | None:
    try:
        return datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def read(args: Mapping[str, str], now: datetime | None = None) -> tuple[Filters, list[str]]:
    """The Filters the URL asks for, and what was wrong with it (shown, not raised)."""
    now = now or datetime.now(timezone.utc)
    problems = []
    since: datetime | None = now - timedelta(days=DEFAULT_DAYS)
    raw = (args.get("since") or "").strip()
    if raw == "all":
        since = None
    elif raw:
        since = _date(raw) or since
        if _date(raw) is None:
            problems.append(f"'{raw}' is not a date like 2026-01-31: showing the last {DEFAULT_DAYS} days.")
    until = None
    raw = (args.get("until") or "").strip()
    if raw:
        until = _date(raw)
        if until is None:
            problems.append(f"'{raw}' is not a date like 2026-01-31: showing calls up to now.")
        else:
            until += timedelta(days=1)
    values = {}
    for name in ("station", "connector", "outcome", "language", "car"):
        raw = (args.get(name) or "").strip()
        if raw and not VALUE.fullmatch(raw):
            problems.append(f"the {name} filter was not understood and is ignored.")
        elif raw:
            values[name] = raw
    return Filters(since=since, until=until, **values), problems


def query(args: Mapping[str, str], **changes: str | None) -> str:
    """The current view's query string with some filters changed (None removes one)."""
    kept = {k: v for k, v in args.items() if k in (*FIELDS, "sort") and v}
    kept.update({k: v for k, v in changes.items() if v is not None})
    for k, v in changes.items():
        if v is None:
            kept.pop(k, None)
    return urlencode(kept)
