"""The hand-off chain an operator configures in flows/escalation.yaml.

Pure: parsing, business hours and which link comes next. No Flask, no XML.
A broken file stops start-up (and `ivr lint`) with "file:line: problem", like
the flow does: a typo in the after-hours chain must not surface at 3 a.m.
"""
from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any, overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_calendars

from ivr.basics import phone
from ivr.language.source import LineDict, SourceError

QUEUE_NAME = re.compile(r"^[A-Za-z0-9 _.-]{1,64}$")
LINKS = ("second_agent", "voicemail", "callback", "sms")
# One letter per link, to say in the action URL which links the call has been through.
LINK_CODES = {"second_agent": "2", "voicemail": "v", "callback": "c", "sms": "s"}
# A message and a call-back request both ask the team to call back: one is enough.
ALTERNATIVES = {"voicemail": "callback", "callback": "voicemail"}
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_GROUPS = {"weekdays": DAYS[:5], "weekend": DAYS[5:], "daily": DAYS}
_RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
MAX_TRANSCRIBED = 120  # seconds: Twilio's <Record transcribe> limit
_TOP_KEYS = {"agent", "hours", "fallback", "after_hours", "support_number", "note"}


@dataclass(frozen=True)
class Hours:
    """When people answer the agent line: opening ranges per weekday, in one time zone."""

    timezone: str
    week: tuple[tuple[tuple[time, time], ...], ...]  # Monday first; (start, end) ranges
    holidays: frozenset[date] = frozenset()
    country: str | None = None
    subdivision: str | None = None

    def is_holiday(self, day: date) -> bool:
        if day in self.holidays:
            return True
        return bool(self.country) and day in _public_holidays(self.country, self.subdivision, day.year)

    def open_at(self, moment: datetime) -> bool:
        """Is the line staffed at `moment` (any aware datetime)?"""
        local = moment.astimezone(ZoneInfo(self.timezone))
        if self.is_holiday(local.date()):
            return False
        now = local.time().replace(tzinfo=None)
        return any(start <= now < end for start, end in self.week[local.weekday()])


@dataclass(frozen=True)
class Escalation:
    """Everything the hand-off does when the steps run out or the caller asks."""

    path: str
    agent_timeout: int | None = None          # None: IVR_DIAL_TIMEOUT
    queue: str | None = None
    queue_max_wait: int = 300
    hours: Hours | None = None                # None: always staffed
    fallback: tuple[str, ...] = ("voicemail",)
    after_hours: tuple[str, ...] = ("voicemail",)
    second_agent: str | None = None
    second_agent_timeout: int = 20
    voicemail_max_length: int = 120
    transcribe: bool = True
    support_number: str | None = None

    def chain(self, name: str) -> tuple[str, ...]:
        """The links of a chain: 'fallback', 'after_hours', or 'released' (a text only)."""
        return {"fallback": self.fallback, "after_hours": self.after_hours, "released": ("sms",)}[name]

    def is_open(self, moment: datetime) -> bool:
        return self.hours is None or self.hours.open_at(moment)


DEFAULT = Escalation(path="(built-in)")


@lru_cache(maxsize=32)
def _public_holidays(country: str, subdivision: str | None, year: int) -> holiday_calendars.HolidayBase:
    """The `holidays` package's calendar for one year; built once per process, not per call."""
    return holiday_calendars.country_holidays(country, subdiv=subdivision, years=year)


def next_link(links: tuple[str, ...], after: int, done: str, unavailable: Iterable[str] = ()) -> tuple[int, str] | None:
    """The next link to run after position `after` (-1: from the start), or None: say goodbye.

    `done` holds the codes of links already run (see LINK_CODES); a link is
    skipped when it was done, when its alternative was done, or when it cannot
    run for this call (`unavailable`, e.g. a text message to an anonymous caller).
    """
    blocked = set(unavailable)
    for index in range(max(after + 1, 0), len(links)):
        link = links[index]
        alternative = ALTERNATIVES.get(link)
        if link in blocked or LINK_CODES[link] in done:
            continue
        if alternative and LINK_CODES[alternative] in done:
            continue
        return index, link
    return None


# -- parsing ---------------------------------------------------------------------------

def parse(data: Any, path: str) -> Escalation:
    if data is None:
        return Escalation(path=path)
    if not isinstance(data, LineDict):
        raise SourceError(path, 1, "an escalation file is a mapping: agent, hours, fallback, after_hours, support_number")
    for key in data:
        if key not in _TOP_KEYS:
            raise SourceError(path, data.line_of(key), f"unknown key {key!r} (keys: {', '.join(sorted(_TOP_KEYS - {'note'}))})")
    agent = _mapping(data, "agent", path)
    for key in agent:
        if key not in {"timeout", "queue", "queue_max_wait"}:
            raise SourceError(path, agent.line_of(key), f"agent: unknown key {key!r} (keys: timeout, queue, queue_max_wait)")
    queue = agent.get("queue")
    if queue is not None and (not isinstance(queue, str) or not QUEUE_NAME.match(queue)):
        raise SourceError(path, agent.line_of("queue"), "agent.queue: a Twilio queue name: letters, digits, spaces, '.', '_' or '-', at most 64")
    second_agent, second_timeout, max_length, transcribe = None, 20, 120, True
    fallback = _chain(data, "fallback", path, ("voicemail",))
    after_hours = _chain(data, "after_hours", path, ("voicemail",))
    if "second_agent" in after_hours:
        raise SourceError(path, data.line_of("after_hours"), "after_hours: second_agent rings a person; outside business hours nobody is there")
    for key, settings, line in _link_settings(data, path):
        if key == "second_agent":
            if "number" not in settings:
                raise SourceError(path, line, "second_agent: needs a number, e.g. {second_agent: {number: '+14155550111'}}")
            second_agent = _phone(settings.get("number"), path, line, "second_agent.number")
            second_timeout = _int(settings, "timeout", 20, 5, 120, path, "second_agent.timeout")
            _only(settings, {"number", "timeout"}, path, "second_agent")
        elif key == "voicemail" and settings:
            max_length = _int(settings, "max_length", 120, 10, 600, path, "voicemail.max_length")
            transcribe = settings.get("transcribe", True)
            if not isinstance(transcribe, bool):
                raise SourceError(path, settings.line_of("transcribe"), "voicemail.transcribe: true or false")
            _only(settings, {"max_length", "transcribe"}, path, "voicemail")
            if transcribe and max_length > MAX_TRANSCRIBED:
                raise SourceError(path, settings.line_of("max_length"),
                                  f"voicemail: Twilio transcribes recordings of up to {MAX_TRANSCRIBED} seconds; "
                                  "lower max_length or set transcribe: false")
        elif settings and key != "voicemail":
            raise SourceError(path, line, f"{key}: takes no settings")
    if "second_agent" in fallback and not second_agent:
        raise SourceError(path, data.line_of("fallback"), "second_agent: needs a number, e.g. {second_agent: {number: '+14155550111'}}")
    support = data.get("support_number")
    return Escalation(
        path=path,
        agent_timeout=_int(agent, "timeout", None, 5, 120, path, "agent.timeout"),
        queue=queue,
        queue_max_wait=_int(agent, "queue_max_wait", 300, 30, 3600, path, "agent.queue_max_wait"),
        hours=_hours(data, path),
        fallback=fallback,
        after_hours=after_hours,
        second_agent=second_agent,
        second_agent_timeout=second_timeout,
        voicemail_max_length=max_length,
        transcribe=transcribe,
        support_number=_phone(support, path, data.line_of("support_number"), "support_number") if support is not None else None,
    )


def _mapping(data: LineDict, key: str, path: str) -> LineDict:
    value = data.get(key)
    if value is None:
        empty = LineDict()
        empty.line, empty.key_lines = data.line_of(key), {}
        return empty
    if not isinstance(value, LineDict):
        raise SourceError(path, data.line_of(key), f"{key}: expected a mapping")
    return value


def _only(settings: LineDict, allowed: set[str], path: str, where: str) -> None:
    for key in settings:
        if key not in allowed:
            raise SourceError(path, settings.line_of(key), f"{where}: unknown key {key!r} (keys: {', '.join(sorted(allowed))})")


@overload
def _int(mapping: LineDict, key: str, default: int, low: int, high: int, path: str, where: str) -> int: ...
@overload
def _int(mapping: LineDict, key: str, default: None, low: int, high: int, path: str, where: str) -> int | None: ...
def _int(mapping: LineDict, key: str, default: int | None, low: int, high: int, path: str, where: str) -> int | None:
    value = mapping.get(key, default)
    if value is default:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise SourceError(path, mapping.line_of(key), f"{where}: whole seconds from {low} to {high}")
    return value


def _phone(value: Any, path: str, line: int, where: str) -> str:
    number = phone.e164(value) if isinstance(value, str) else None
    if number is None:
        raise SourceError(path, line, f"{where}: {value!r} is not a phone number in E.164 form, e.g. '+14155550123' (quote it)")
    return number


def _link_entries(data: LineDict, key: str, path: str) -> list[tuple[str, LineDict, int]]:
    raw = data.get(key)
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise SourceError(path, data.line_of(key), f"{key}: a list of links, in order ({', '.join(LINKS)})")
    entries = []
    for item in raw:
        line = data.line_of(key)
        if isinstance(item, str):
            name, settings = item, LineDict()
            settings.line, settings.key_lines = line, {}
        elif isinstance(item, LineDict) and len(item) == 1:
            name = next(iter(item))
            settings = item[name] if item[name] is not None else LineDict()
            line = item.line
            if not isinstance(settings, LineDict):
                if settings is True:
                    settings = LineDict()
                    settings.line, settings.key_lines = line, {}
                else:
                    raise SourceError(path, line, f"{key}: {name}: expected settings as a mapping")
        else:
            raise SourceError(path, line, f"{key}: each link is a name ({', '.join(LINKS)}) or one name with its settings")
        if name not in LINKS:
            raise SourceError(path, getattr(item, "line", line), f"{key}: {name!r} is not a link (links: {', '.join(LINKS)})")
        entries.append((name, settings, getattr(item, "line", line)))
    return entries


def _chain(data: LineDict, key: str, path: str, default: tuple[str, ...]) -> tuple[str, ...]:
    if key not in data:
        return default
    names = [name for name, _, _ in _link_entries(data, key, path)]
    for name in set(names):
        if names.count(name) > 1:
            raise SourceError(path, data.line_of(key), f"{key}: {name} is listed twice")
    return tuple(names)


def _link_settings(data: LineDict, path: str) -> Iterator[tuple[str, LineDict, int]]:
    """Settings may be given where a link is listed, in either chain; the last given wins."""
    for key in ("fallback", "after_hours"):
        yield from _link_entries(data, key, path)


def _hours(data: LineDict, path: str) -> Hours | None:
    raw = data.get("hours")
    if raw is None:
        return None
    if not isinstance(raw, LineDict):
        raise SourceError(path, data.line_of("hours"), "hours: expected a mapping with timezone and opening times")
    zone = raw.get("timezone")
    try:
        if not isinstance(zone, str):
            raise ZoneInfoNotFoundError(zone)
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SourceError(path, raw.line_of("timezone"), f"hours.timezone: {zone!r} is not a time zone, e.g. America/New_York") from None
    week: list[tuple[tuple[time, time], ...] | None] = [None] * 7
    country = subdivision = None
    dates: set[date] = set()
    for key, value in raw.items():
        line = raw.line_of(key)
        if key == "timezone":
            continue
        if key == "holidays":
            dates, country, subdivision = _holidays(value, path, line)
            continue
        days = DAY_GROUPS.get(key) or ((key,) if key in DAYS else None)
        if days is None:
            raise SourceError(path, line, f"hours: {key!r} is not a day (monday..sunday, weekdays, weekend, daily), timezone or holidays")
        ranges = _ranges(value, path, line, key)
        for day in days:
            week[DAYS.index(day)] = ranges  # a named day overrides a group listed before it
    if all(day is None for day in week):
        raise SourceError(path, raw.line, "hours: no opening times; give e.g. weekdays: '08:00-20:00'")
    return Hours(timezone=zone, week=tuple(day or () for day in week), holidays=frozenset(dates),
                 country=country, subdivision=subdivision)


def _ranges(value: Any, path: str, line: int, key: str) -> tuple[tuple[time, time], ...]:
    if value == "closed":
        return ()
    items = value if isinstance(value, list) else [value]
    ranges = []
    for item in items:
        match = _RANGE.match(item.strip()) if isinstance(item, str) else None
        if not match:
            raise SourceError(path, line, f"hours.{key}: {item!r} is not an opening time like '08:00-20:00' (or 'closed')")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
            raise SourceError(path, line, f"hours.{key}: {item!r} is not a time of day")
        start, end = time(h1, m1), time.max if h2 == 24 else time(h2, m2)
        if end <= start:
            raise SourceError(path, line, f"hours.{key}: {item!r} ends before it starts; split a night shift at midnight")
        ranges.append((start, end))
    return tuple(ranges)


def _holidays(value: Any, path: str, line: int) -> tuple[set[date], str | None, str | None]:
    """A list of dates, or {country: US, subdivision: CA, dates: [...]} for public holidays too."""
    country = subdivision = None
    raw_dates = value
    if isinstance(value, LineDict):
        for key in value:
            if key not in {"country", "subdivision", "dates"}:
                raise SourceError(path, value.line_of(key), f"hours.holidays: unknown key {key!r} (keys: country, subdivision, dates)")
        country, subdivision = value.get("country"), value.get("subdivision")
        try:
            holiday_calendars.country_holidays(country, subdiv=subdivision)  # type: ignore[arg-type]  # None: refused below
        except (NotImplementedError, KeyError, TypeError, AttributeError):
            raise SourceError(path, value.line_of("country"), f"hours.holidays: no public holidays known for country {country!r}"
                              + (f", subdivision {subdivision!r}" if subdivision else "")) from None
        raw_dates = value.get("dates", [])
    if not isinstance(raw_dates, list):
        raise SourceError(path, line, "hours.holidays: a list of dates like 2026-12-25")
    dates = set()
    for item in raw_dates:
        if isinstance(item, datetime):
            item = item.date()
        if isinstance(item, str):
            with contextlib.suppress(ValueError):   # not a date: refused just below
                item = date.fromisoformat(item)
        if not isinstance(item, date):
            raise SourceError(path, line, f"hours.holidays: {item!r} is not a date like 2026-12-25")
        dates.add(item)
    return dates, country, subdivision
