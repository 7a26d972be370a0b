"""The console's questions to the records, each one query (or a few) that the
database answers with its indexes: the filtered calls, their figures, the stations
table, the funnel's counts, the calls in progress, one call's whole story, and the
export as a stream.

Records know no web: filters come in as a `Filters`, answers go out as plain
dicts and tuples. Callers' numbers leave here masked.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy import String, case, cast, func, literal_column, or_, select
from sqlalchemy.engine import Engine

from ivr.basics.phone import masked
from ivr.records import db, stations
from ivr.records.db import _utc, calls, events
from ivr.records.reports import Turn

LIVE_FOR = timedelta(hours=2)   # a call "in progress" longer than this lost its status callback
LIST_COLUMNS = (calls.c.call_sid, calls.c.from_number, calls.c.started_at, calls.c.ended_at, calls.c.outcome,
                calls.c.connector, calls.c.station_id, calls.c.language, calls.c.last_node, calls.c.duration_s,
                calls.c.hazard, calls.c.car_make, calls.c.car_model)


@dataclass(frozen=True)
class Filters:
    """What the operator chose: a period [since, until) and exact values."""

    since: datetime | None = None
    until: datetime | None = None
    station: str | None = None
    connector: str | None = None
    outcome: str | None = None
    language: str | None = None
    car: str | None = None           # a make as recorded ("Nissan", "unknown"); "-": no car named

    def conditions(self) -> list:
        c = calls.c
        found = []
        if self.since is not None:
            found.append(c.started_at >= self.since)
        if self.until is not None:
            found.append(c.started_at < self.until)
        for name in ("station", "connector", "outcome", "language", "car"):
            value = getattr(self, name)
            column = {"station": c.station_id, "car": c.car_make}[name] if name in ("station", "car") \
                else getattr(c, name)
            if value == "-":                 # "unknown": no value recorded
                found.append(column.is_(None))
            elif value:
                found.append(column == value)
        return found

    def chosen(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


def _row(row) -> dict:
    out = dict(row)
    out["caller"] = masked(out.pop("from_number", None))
    for key in ("started_at", "ended_at"):
        out[key] = _utc(out.get(key))
    return out


def figures(engine: Engine, f: Filters) -> dict:
    """The count per outcome over the filtered calls."""
    query = select(calls.c.outcome, func.count()).where(*f.conditions()).group_by(calls.c.outcome)
    with engine.connect() as conn:
        outcomes = {o: n for o, n in conn.execute(query)}
    return {"calls": sum(outcomes.values()), "outcomes": outcomes}


def _day(engine: Engine):
    """The call's day (UTC), grouped as a date, not as text: PostgreSQL then hashes a few
    hundred groups instead of sorting 100,000 strings."""
    if engine.dialect.name == "postgresql":
        return func.date(func.timezone("UTC", calls.c.started_at))
    return func.substr(cast(calls.c.started_at, String), 1, 10)


def outcomes_by_day(engine: Engine, f: Filters) -> dict[str, dict[str, int]]:
    day = _day(engine).label("day")
    query = select(day, calls.c.outcome, func.count()).where(*f.conditions()).group_by(day, calls.c.outcome)
    days: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        for d, outcome, n in conn.execute(query):
            days.setdefault(str(d)[:10], {})[outcome] = n
    return {d: days[d] for d in sorted(days)}


def list_calls(engine: Engine, f: Filters, limit: int = 50, offset: int = 0) -> list[dict]:
    """The newest filtered calls first, without their turns."""
    query = (select(*LIST_COLUMNS).where(*f.conditions())
             .order_by(calls.c.started_at.desc(), calls.c.call_sid.desc()).limit(limit).offset(offset))
    with engine.connect() as conn:
        return [_row(r) for r in conn.execute(query).mappings()]


def export_rows(engine: Engine, f: Filters, batch: int = 2000) -> Iterator[dict]:
    """Every filtered call, newest first, read in batches so the first row comes at once."""
    query = (select(*LIST_COLUMNS).where(*f.conditions())
             .order_by(calls.c.started_at.desc(), calls.c.call_sid.desc()))
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(query).mappings()
        for row in result:
            yield _row(row)


def stations_table(engine: Engine, f: Filters) -> list[dict]:
    """Per station: calls, released, hazards, transfers, hung up over the filtered calls."""
    c = calls.c
    # SQLite would walk the station index and fetch 100,000 rows one by one; `+station_id`
    # leaves it the console's covering index (ix_calls_console), read alone.
    station = literal_column("+calls.station_id") if engine.dialect.name == "sqlite" else c.station_id

    def count_if(condition):
        return func.sum(case((condition, 1), else_=0))
    query = (select(c.station_id, func.count().label("calls"),
                    count_if(c.outcome == "released").label("released"),
                    count_if(or_(c.hazard.is_not(None), c.outcome == "hazard")).label("hazards"),
                    count_if(c.outcome == "transferred").label("transfers"),
                    count_if(c.outcome == "abandoned").label("hung_up"))
             .where(station.is_not(None), *f.conditions()).group_by(station))
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    for row in rows:
        row["release_rate"] = round(row["released"] / row["calls"], 3) if row["calls"] else 0.0
    return rows


def cars_table(engine: Engine, f: Filters, released_nodes: Sequence[str] = ("released",)) -> dict:
    """Per (make, model) over the filtered calls: calls, released, hazards, transfers, and
    the steps that freed the plug (node -> calls), plus how many calls named no car.

    One pass over the calls, grouped by (make, model, outcome, hazard or not, and the
    path of a released call only): a few thousand groups for 100,000 calls. The freed
    step is the last one before the path's released end, as in the funnel.
    """
    c = calls.c
    hazard = case((c.hazard.is_not(None), 1), else_=0).label("hazard")
    freed_path = case((c.outcome == "released", c.path), else_=None).label("freed_path")
    query = (select(c.car_make, c.car_model, c.outcome, hazard, freed_path, func.count())
             .where(*f.conditions()).group_by(c.car_make, c.car_model, c.outcome, hazard, freed_path))
    ends = set(released_nodes)
    rows: dict[tuple[str, str | None], dict] = {}
    unnamed = 0
    with engine.connect() as conn:
        for make, model, outcome, hazardous, path, n in conn.execute(query):
            if make is None:
                unnamed += n
                continue
            row = rows.setdefault((make, model), {"make": make, "model": model, "calls": 0, "released": 0,
                                                  "hazards": 0, "transfers": 0, "freed_at": {}})
            row["calls"] += n
            row["hazards"] += n if hazardous or outcome == "hazard" else 0
            row["transfers"] += n if outcome == "transferred" else 0
            if outcome == "released":
                row["released"] += n
                step = _freed_step(path, ends)
                if step:
                    row["freed_at"][step] = row["freed_at"].get(step, 0) + n
    return {"rows": list(rows.values()), "no_car": unnamed}


def _freed_step(path: str | None, ends: set[str]) -> str | None:
    """The step a released call was freed at: the last one before its released end."""
    steps = (path or "").split(".") if path else []
    while steps and steps[-1] in ends:
        steps.pop()
    return steps[-1] if steps else None


def funnel_counts(engine: Engine, f: Filters, person_nodes: Sequence[str]) -> dict[str, dict[tuple[str, str], int]]:
    """Per (connector, node): calls that reached it, were freed there, hung up there, went to a person from there.

    From the calls table alone: the filtered calls grouped by (connector, path, outcome),
    a few thousand groups for 100,000 calls, then each group's path read once here.
    """
    c = calls.c
    connector = func.coalesce(c.connector, "-")
    query = (select(connector, c.path, c.outcome, func.count()).where(c.path.is_not(None), *f.conditions())
             .group_by(connector, c.path, c.outcome))
    people = set(person_nodes)
    out: dict[str, dict[tuple[str, str], int]] = {"reached": {}, "freed": {}, "hung_up": {}, "person": {}}

    def add(name: str, key: tuple[str, str], n: int) -> None:
        out[name][key] = out[name].get(key, 0) + n

    with engine.connect() as conn:
        for conn_key, path, outcome, n in conn.execute(query):
            steps = path.split(".")
            for node in set(steps):
                add("reached", (conn_key, node), n)
            if outcome == "abandoned":
                add("hung_up", (conn_key, steps[-1]), n)
            elif outcome == "released" and len(steps) > 1:
                add("freed", (conn_key, steps[-2]), n)
            handed = [i for i, node in enumerate(steps) if node in people and i > 0]
            if handed:
                add("person", (conn_key, steps[handed[0] - 1]), n)
    return out


def live_calls(engine: Engine, at: datetime, limit: int = 50) -> list[dict]:
    """Calls in progress now (started within LIVE_FOR, no final status yet), newest first."""
    c = calls.c
    query = (select(*LIST_COLUMNS)
             .where(c.outcome == "in_progress", c.ended_at.is_(None), c.started_at >= at - LIVE_FOR)
             .order_by(c.started_at.desc()).limit(limit))
    with engine.connect() as conn:
        return [_row(r) for r in conn.execute(query).mappings()]


def _rows(conn, table, call_sid: str, *order) -> list[dict]:
    return [dict(r) for r in conn.execute(select(table).where(table.c.call_sid == call_sid).order_by(*order)).mappings()]


def story(engine: Engine, call_sid: str) -> dict | None:
    """One call with everything recorded about it, or None."""
    with engine.connect() as conn:
        row = conn.execute(select(calls).where(calls.c.call_sid == call_sid)).mappings().first()
        if row is None:
            return None
        call = _row(row)
        call.pop("to_number", None)
        turns = [Turn(at=_utc(r["at"]), node=r["node"], speech=r["speech"], digits=r["digits"],
                      confidence=r["confidence"], intent=r["intent"], action=r["action"], next_node=r["next_node"])
                 for r in _rows(conn, events, call_sid, events.c.at, events.c.id)]
        found = {"call": call, "turns": turns,
                 "voicemails": _rows(conn, db.voicemails, call_sid, db.voicemails.c.at),
                 "callbacks": _rows(conn, db.callbacks, call_sid, db.callbacks.c.at),
                 "texts": _rows(conn, db.text_messages, call_sid, db.text_messages.c.at),
                 "alerts": _rows(conn, db.alerts, call_sid, db.alerts.c.id)}
        found["station_actions"] = _rows(conn, stations.station_actions, call_sid, stations.station_actions.c.id)
        found["station_commands"] = _rows(conn, stations.station_commands, call_sid, stations.station_commands.c.sent_at)
    for item in found["callbacks"]:
        item["number"] = masked(item["number"])
    for item in found["texts"]:
        item["to_number"] = masked(item["to_number"])
    return found


def recording_of(engine: Engine, recording_sid: str) -> dict | None:
    """A voicemail's call and Twilio URL, by its RecordingSid."""
    with engine.connect() as conn:
        row = conn.execute(select(db.voicemails.c.call_sid, db.voicemails.c.recording_url)
                           .where(db.voicemails.c.recording_sid == recording_sid)).mappings().first()
    return dict(row) if row is not None else None


def not_understood(engine: Engine, f: Filters, top: int = 10) -> list[dict]:
    """What callers said or pressed that the bot could not place, most frequent first."""
    e = events.c
    heard = func.lower(e.speech)
    conditions = f.conditions()
    turns = events.join(calls, calls.c.call_sid == e.call_sid) if conditions else events   # no filter: no join
    query = (select(heard, e.digits, func.count()).select_from(turns)
             .where(e.action >= "not_understood:", e.action < "not_understood;",
                    or_(e.speech.is_not(None), e.digits.is_not(None)), *conditions)
             .group_by(heard, e.digits))
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        for speech, digits, n in conn.execute(query):
            answer = " ".join((speech or "").split()) or f"keys {digits}"
            counts[answer] = counts.get(answer, 0) + n
    return [{"answer": a, "count": n} for a, n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))[:top]]
