"""Calls and turns on DATABASE_URL, through SQLAlchemy Core.

Recording must never slow or break a call: every write here is best effort,
logged on failure and never raised into the webhook. A webhook that Twilio
retries carries the same request key, so it is recorded once.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from sqlalchemy import (Column, DateTime, Float, ForeignKey, Integer, MetaData, String,
                        Table, Text, UniqueConstraint, create_engine, event, insert, select,
                        update)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

log = logging.getLogger(__name__)
metadata = MetaData()

calls = Table(
    "calls", metadata,
    Column("call_sid", String(64), primary_key=True),
    Column("from_number", String(64)),
    Column("to_number", String(64)),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("language", String(16)),
    Column("connector", String(16)),
    Column("station_id", String(32)),
    Column("outcome", String(16), nullable=False, default="in_progress"),
    Column("last_node", String(64)),
    Column("status", String(16)),
    Column("status_seq", Integer),
    Column("duration_s", Integer),
)

events = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_sid", String(64), ForeignKey("calls.call_sid", ondelete="CASCADE"), nullable=False, index=True),
    Column("request_key", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("node", String(64)),
    Column("speech", Text),
    Column("digits", String(32)),
    Column("confidence", Float),
    Column("intent", String(32)),
    Column("action", String(64)),
    Column("next_node", String(64)),
    UniqueConstraint("call_sid", "request_key", name="uq_events_request"),
)

OUTCOMES = ("in_progress", "released", "hazard", "transferred", "abandoned", "goodbye")
FINAL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}


def now() -> datetime:
    return datetime.now(timezone.utc)


def connect(url: str) -> Engine:
    """An engine for `url`; SQLite gets a busy timeout and WAL so two workers share it."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 5, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    return engine


def create_schema(engine: Engine) -> None:
    metadata.create_all(engine)


class Recorder:
    """Best-effort writes of calls and turns; never raises."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def call_started(self, call_sid: str, from_number: str | None, to_number: str | None, language: str) -> None:
        def write(conn):
            exists = conn.execute(select(calls.c.call_sid).where(calls.c.call_sid == call_sid)).first()
            if exists:  # a retried first webhook, or a turn recorded it first
                conn.execute(update(calls).where(calls.c.call_sid == call_sid).values(
                    from_number=from_number, to_number=to_number))
                return
            conn.execute(insert(calls).values(
                call_sid=call_sid, from_number=from_number, to_number=to_number,
                started_at=now(), language=language, outcome="in_progress"))
        self._run(write)

    def turn(self, call_sid: str, request_key: str, *, node: str | None, speech: str | None,
             digits: str | None, confidence: float | None, intent: str | None, action: str,
             next_node: str | None, language: str | None = None, connector: str | None = None,
             outcome: str | None = None) -> None:
        def write(conn):
            self._ensure_call(conn, call_sid, language)
            # A retried webhook carries the same request key: the unique
            # constraint refuses the second copy and _run lets it go.
            conn.execute(insert(events).values(
                call_sid=call_sid, request_key=request_key, at=now(), node=node,
                speech=(speech or None) and speech[:500], digits=(digits or None) and digits[:32],
                confidence=confidence, intent=intent, action=action[:64], next_node=next_node))
            changes = {"last_node": next_node}
            if language:
                changes["language"] = language
            if connector:
                changes["connector"] = connector
            if outcome:
                changes["outcome"] = outcome
            conn.execute(update(calls).where(calls.c.call_sid == call_sid).values(**changes))
        self._run(write)

    def outcome(self, call_sid: str, outcome: str) -> None:
        self._run(lambda conn: conn.execute(
            update(calls).where(calls.c.call_sid == call_sid).values(outcome=outcome)))

    def status(self, call_sid: str, status: str, duration: int | None, sequence: int | None) -> None:
        """Apply a status callback unless a later one (by SequenceNumber) is already in."""
        def write(conn):
            self._ensure_call(conn, call_sid, None)
            row = conn.execute(select(calls.c.status_seq, calls.c.outcome).where(calls.c.call_sid == call_sid)).first()
            if row and row.status_seq is not None and sequence is not None and sequence <= row.status_seq:
                return
            changes = {"status": status, "status_seq": sequence}
            if duration is not None:
                changes["duration_s"] = duration
            if status in FINAL_STATUSES:
                changes["ended_at"] = now()
                if row and row.outcome == "in_progress":
                    changes["outcome"] = "abandoned"
            conn.execute(update(calls).where(calls.c.call_sid == call_sid).values(**changes))
        self._run(write)

    def _ensure_call(self, conn, call_sid: str, language: str | None) -> None:
        exists = conn.execute(select(calls.c.call_sid).where(calls.c.call_sid == call_sid)).first()
        if not exists:
            conn.execute(insert(calls).values(call_sid=call_sid, started_at=now(),
                                              language=language, outcome="in_progress"))

    def _run(self, write) -> None:
        """One transaction; an IntegrityError means a duplicate or a race, tried once more."""
        for attempt in (1, 2):
            try:
                with self.engine.begin() as conn:
                    write(conn)
                return
            except IntegrityError:
                if attempt == 2:
                    log.info("duplicate webhook not recorded twice")
            except SQLAlchemyError:
                log.exception("recording failed; the call goes on")
                return
