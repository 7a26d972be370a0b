"""Calls and turns on DATABASE_URL: the schema through Alembic, reads through SQLAlchemy
Core, and the webhooks' writes as plain SQL through the driver's own connection (one
transaction per write, issue 16).

Recording must never slow or break a call: every write here is best effort,
logged on failure and never raised into the webhook. A webhook that Twilio
retries carries the same request key, so it is recorded once; status callbacks
apply in SequenceNumber order whatever order they arrive in.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import mmap
import os
import posix
import re
import threading
import time
import weakref
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import overload
from urllib.parse import quote

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError
from sqlalchemy.pool import PoolProxiedConnection

from ivr import extras
from ivr.basics.phone import masked
from ivr.records import deadline
from ivr.records.reports import CallRecord, Turn

log = logging.getLogger("ivr.db")
metadata = MetaData()
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any constant will do: it names the lock two workers take to migrate one at a time.
MIGRATION_LOCK = 0x1F5_0C0DE

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
    Column("hazard", String(8)),        # "fire" or "damage" once reported: never cleared
    Column("last_state", String(1000)),  # the engine's state after the last turn, to resume a dropped call
    Column("car_make", String(32)),     # "Nissan", or "unknown" (migration 0006, issue 15)
    Column("car_model", String(64)),    # "Leaf", or the name heard for a car without notes
    Column("path", String(1000)),        # the steps reached, "connector.ccs_button...": the console's funnel
    Index("ix_calls_started_at", "started_at"),
    Index("ix_calls_from_started", "from_number", "started_at"),
    # The console's figures, stations and live panel read this index alone (ivr/records/console.py).
    Index("ix_calls_console", "outcome", "started_at", "connector", "language", "station_id", "hazard"),
    Index("ix_calls_station_started", "station_id", "started_at"),
)

events = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # No index of its own: uq_events_request starts with call_sid (migration 0008).
    Column("call_sid", String(64), ForeignKey("calls.call_sid", ondelete="CASCADE"), nullable=False),
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
    Index("ix_events_action", "action"),
)

# The hand-off's records, for the team to work through: messages left, call-back
# requests (a number the caller confirmed), and texts sent or refused.
voicemails = Table(
    "voicemails", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_sid", String(64), ForeignKey("calls.call_sid", ondelete="CASCADE"), nullable=False, index=True),
    Column("recording_sid", String(64), nullable=False, unique=True),
    Column("recording_url", String(500)),
    Column("duration_s", Integer),
    Column("transcription", Text),
    Column("transcription_status", String(16)),
    Column("at", DateTime(timezone=True), nullable=False),
)

callbacks = Table(
    "callbacks", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_sid", String(64), ForeignKey("calls.call_sid", ondelete="CASCADE"), nullable=False, index=True),
    Column("number", String(32), nullable=False),
    Column("station_id", String(32)),
    Column("connector", String(16)),
    Column("steps", Text),
    Column("status", String(16), nullable=False, default="open"),
    Column("at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("call_sid", "number", name="uq_callbacks_number"),
)

text_messages = Table(
    "text_messages", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_sid", String(64), ForeignKey("calls.call_sid", ondelete="CASCADE"), nullable=False, index=True),
    Column("to_number", String(32), nullable=False),
    Column("message_sid", String(64)),
    Column("result", String(16), nullable=False),
    Column("error_code", Integer),
    Column("at", DateTime(timezone=True), nullable=False),
)

# Hazard alerts to the operator (ivr/outbound/alerts.py): one row per channel, pending
# before anything is sent, so a crash never loses one.
alerts = Table(
    "alerts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_sid", String(64), ForeignKey("calls.call_sid", ondelete="CASCADE"), nullable=False, index=True),
    Column("channel", String(16), nullable=False),
    Column("tier", String(8), nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_try_at", DateTime(timezone=True), nullable=False),
    Column("last_error", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    UniqueConstraint("call_sid", "channel", "tier", name="uq_alerts_call_channel_tier"),
    Index("ix_alerts_due", "status", "next_try_at"),
)

HANDOFF_TABLES = (voicemails, callbacks, text_messages, alerts)

FINAL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}


def now() -> datetime:
    return datetime.now(timezone.utc)


def normalize_url(url: str) -> str:
    """Heroku-style postgres:// and plain postgresql:// URLs use the psycopg (v3) driver."""
    url = url.strip()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def connect(url: str) -> Engine:
    """An engine for `url`, quick to give up: a slow database must not hold a caller.

    SQLite gets a busy timeout and WAL so two workers share it; PostgreSQL a
    connect timeout, a pool timeout and a statement timeout. Errors never quote
    the statement's values: they hold callers' numbers, and errors get logged.
    A PostgreSQL URL without the `postgres` extra (psycopg) raises MissingExtra.
    """
    url = normalize_url(url)
    if url.startswith("postgresql+psycopg"):
        extras.require("psycopg", "postgres")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 5, "check_same_thread": False},
                               hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        _watch_sqlite_file(engine)
    else:
        connect_args = {"connect_timeout": 3} if url.startswith("postgresql") else {}
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, pool_timeout=3,
                               connect_args=connect_args, hide_parameters=True)
        if engine.dialect.name == "postgresql":
            @event.listens_for(engine, "connect")
            def _pg_timeouts(dbapi_connection, _record):
                with dbapi_connection.cursor() as cursor:
                    cursor.execute("SET statement_timeout = 3000")
                dbapi_connection.commit()
    _fresh_pool_after_fork(engine)
    return engine


class MissingDatabase(Exception):
    """The SQLite file this engine wrote to is gone (deleted or moved away)."""


# The SQLite file's (device, inode) now, or None once it is gone, per engine (_watch_sqlite_file).
_file_identity: weakref.WeakKeyDictionary[Engine, Callable[[], tuple[int, int] | None]] = weakref.WeakKeyDictionary()


def _watch_sqlite_file(engine: Engine) -> None:
    """Notice a database file deleted (or replaced) while the server runs.

    An open SQLite connection goes on writing to a deleted file: every call is
    recorded into the void until the next restart. So each connection notes the
    file it opened, each checkout checks the path still names that file, and once
    the engine has seen the file it never creates a new empty one in its place
    (mode=rw): writes fail, are logged per call, and /readyz says so until the file
    is back or the server restarts (and migrates a new one).
    """
    path = engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    path = os.path.abspath(path)
    seen = threading.Event()

    def identity() -> tuple[int, int] | None:
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            return None
        return stat.st_dev, stat.st_ino

    _file_identity[engine] = identity

    @event.listens_for(engine, "do_connect")
    def _open_existing(_dialect, _record, cargs, cparams):
        if seen.is_set():
            if identity() is None:
                raise MissingDatabase(f"the database file {path} is gone (deleted or moved while the server ran)")
            cargs[:1] = [f"file:{quote(path)}?mode=rw"]
            cparams["uri"] = True

    @event.listens_for(engine, "connect")
    def _note_file(_dbapi_connection, record):
        record.info["file"] = identity()
        seen.set()

    @event.listens_for(engine, "checkout")
    def _same_file(_dbapi_connection, record, _proxy):
        now_there = identity()
        if now_there is None:
            raise MissingDatabase(f"the database file {path} is gone (deleted or moved while the server ran)")
        if now_there != record.info.get("file"):  # replaced: open the new file
            raise DisconnectionError(f"the database file {path} was replaced")


def _fresh_pool_after_fork(engine: Engine) -> None:
    """A worker forked from a preloaded master (gunicorn.conf.py) opens its own
    connections: one SQLite or PostgreSQL connection used by two processes
    corrupts both. close=False leaves the master's own connections alone."""
    ref = weakref.ref(engine)

    def dispose_in_child() -> None:
        inherited = ref()
        if inherited is not None:
            inherited.dispose(close=False)

    os.register_at_fork(after_in_child=dispose_in_child)


# -- the schema -----------------------------------------------------------------------

def _alembic_config(connection: Connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@contextlib.contextmanager
def _sqlite_file_lock(engine: Engine):
    """Two workers starting at once: the second waits while the first migrates.

    flock on the database file itself; SQLite's own locks are fcntl byte ranges,
    which Linux keeps apart from flock.
    """
    path = engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@cache
def head_revision() -> str:
    """The newest migration's revision ("0007"): the files are numbered, and each file's
    `revision` is its number (tests/test_db.py holds this to alembic's own head)."""
    return max(path.name[:4] for path in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def _at_head(engine: Engine) -> bool:
    """Is the schema already the newest? One query; any doubt says no (alembic decides)."""
    try:
        with engine.connect() as connection:
            if "alembic_version" not in inspect(connection).get_table_names():
                return False
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except Exception:
        return False
    return rows == [head_revision()]


class MigrationFailed(Exception):
    """The migration run in a child process failed; the message is the child's reason."""


def migrate(engine: Engine, *, in_child: bool = False) -> None:
    """Upgrade the database to the newest schema, keeping every row.

    Safe when several workers start at once: PostgreSQL takes an advisory lock
    for the transaction, SQLite a lock on the file. A database made by the
    recorder before migrations existed is stamped at the first revision first.

    `in_child`: run alembic in a forked child process, so that this process never
    loads it. gunicorn's master asks for this (the Procfile): its workers are
    forked from it and carry whatever it loaded, and alembic with mako and
    pygments is about 15 MB in every worker (issue 16: each worker under 80 MB).
    """
    if _at_head(engine):
        return       # the usual start: nothing to do, and alembic (with mako, pygments) stays unloaded
    if in_child and hasattr(os, "fork") and _forkable(engine):
        _in_child(lambda: _upgrade(engine))
    else:
        _upgrade(engine)


def _forkable(engine: Engine) -> bool:
    """A child sees the same database: a file or a server, not this process's memory."""
    database = engine.url.database or ""
    return engine.dialect.name != "sqlite" or (database not in ("", ":memory:") and "mode=memory" not in database)


def _in_child(work) -> None:
    """Run `work` in a forked child and wait for it; raise MigrationFailed with the
    child's reason if it fails. The child opens its own connections (the engine's
    pool is disposed after a fork, ivr.records.db.connect) and never returns; it
    says "ok" or why not through a pipe, so a child that dies says nothing and fails."""
    # os.fork, which under gevent (gunicorn.conf.py patches os) gives the child its own
    # event loop, for psycopg to wait on; but the posix module's close, read and waitpid:
    # gevent's wait for that loop, which nothing runs while the master starts (the pipe
    # never closed, and start-up hung).
    read_end, write_end = posix.pipe()
    pid = os.fork()
    if pid == 0:   # the child
        said = b""
        try:
            posix.close(read_end)
            work()
            said = b"ok"
        except BaseException as exc:   # whatever it was, the parent must hear why
            said = b"failed: " + describe(exc).encode("utf-8", "replace")[:4000]
        finally:
            with contextlib.suppress(Exception):
                posix.write(write_end, said)
            os._exit(0)
    posix.close(write_end)
    said = b""
    while chunk := posix.read(read_end, 4096):   # until the child exits
        said += chunk
    posix.close(read_end)
    posix.waitpid(pid, 0)
    if said != b"ok":
        raise MigrationFailed(said.removeprefix(b"failed: ").decode("utf-8", "replace")
                              or "the migration process died")


def _upgrade(engine: Engine) -> None:
    # Alembic narrates every start ("setup plugin ...", "Context impl ..."), some
    # of it as it is imported: keep start-up quiet unless something is wrong, and
    # say in one line what changed.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    lock = _sqlite_file_lock(engine) if engine.dialect.name == "sqlite" else contextlib.nullcontext()
    with lock, engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL statement_timeout = 0"))
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config = _alembic_config(connection)
        tables = set(inspect(connection).get_table_names())
        if "calls" in tables and "alembic_version" not in tables:
            log.info("database made before migrations: stamping it at revision 0001")
            command.stamp(config, "0001")
        before = MigrationContext.configure(connection).get_current_revision()
        command.upgrade(config, "head")
        after = MigrationContext.configure(connection).get_current_revision()
        if after != before:
            log.info("database schema %s: revision %s", "created" if before is None else f"upgraded from {before}", after)


def backup(engine: Engine, destination: str) -> int:
    """Copy a SQLite database with SQLite's online backup API; return the pages copied.

    Safe while the server writes: the copy is one consistent snapshot, and the
    source's WAL is left to its writers. Written to a temporary file beside
    `destination`, then renamed, so a failed backup never leaves half a file.
    """
    import sqlite3
    import tempfile

    source_path = engine.url.database
    target = Path(destination).resolve()
    handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        source = sqlite3.connect(f"file:{quote(os.path.abspath(source_path or ''))}?mode=ro", uri=True, timeout=5)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy, pages=256)
            pages = copy.execute("PRAGMA page_count").fetchone()[0]
        finally:
            copy.close()
            source.close()
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise
    return pages


def head() -> str:
    """The newest schema revision the migrations know."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head() or ""   # never empty: 0001 at least


def revision(engine: Engine) -> str | None:
    """The schema revision the database is at, or None before the first migration."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


# -- recording ------------------------------------------------------------------------

def _insert(conn: Connection, table: Table):
    """An INSERT that skips rows whose key is already there (Twilio's retries, races).

    Add .returning(...) to learn whether the row went in: rowcount is not reliable
    for skipped rows across drivers.
    """
    return _insert_for(conn.dialect.name, table)


@cache
def _insert_for(dialect: str, table: Table):
    """Built once per dialect and table; .values()/.returning() make copies."""
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise RuntimeError(f"unsupported database {dialect!r}: use SQLite or PostgreSQL")


# The webhooks' own statements as plain SQL for the driver (issue 16): through
# SQLAlchemy's Connection each one cost more CPU than SQLite's write itself
# (building, compiling-cache lookups, result wrapping, the transaction's
# context managers). Written with :name parameters; PostgreSQL's driver gets
# %(name)s, and psycopg 3 prepares a statement it sees five times.
# None leaves a column as it is. The path grows by the step reached, unless it is the
# step the call was already at (a reprompt, a repeat); a path near its column's size
# (1000, less a step's name) stops growing. Every SET sees the row as it was (SQL's rule).
_MOVE_CALL = ("last_node = COALESCE(:last_node, last_node), language = COALESCE(:language, language),"
              " connector = COALESCE(:connector, connector), outcome = COALESCE(:outcome, outcome),"
              " hazard = COALESCE(:hazard, hazard), last_state = COALESCE(:last_state, last_state),"
              " car_make = COALESCE(:car_make, car_make), car_model = COALESCE(:car_model, car_model),"
              " path = CASE WHEN CAST(:last_node AS VARCHAR) IS NULL THEN path"
              " WHEN last_node = CAST(:last_node AS VARCHAR) THEN path"
              " WHEN path IS NULL THEN CAST(:last_node AS VARCHAR)"
              " WHEN length(path) > 935 THEN path"
              " ELSE path || '.' || CAST(:last_node AS VARCHAR) END")
# SQLite writes every index holding a column that an UPDATE sets, changed or not: a
# turn sets the call's unindexed columns, and the indexed ones (ix_calls_console) only
# in a second UPDATE that finds the row only when one of them really changes, which
# mid-call is rare (issue 16: a turn wrote 8.7 pages into the WAL, now 5.4).
# PostgreSQL needs neither: its updates compare the indexed values themselves (HOT).
_MOVE_CALL_UNINDEXED = ("last_node = COALESCE(:last_node, last_node), last_state = COALESCE(:last_state, last_state),"
                        " car_make = COALESCE(:car_make, car_make), car_model = COALESCE(:car_model, car_model),"
                        " path = " + _MOVE_CALL.split(" path = ", 1)[1])
INDEXED_CALL_COLUMNS = ("language", "connector", "outcome", "hazard")
_CHANGES_INDEXED = " OR ".join(f"(:{c} IS NOT NULL AND {c} IS NOT :{c})" for c in INDEXED_CALL_COLUMNS)
PLAIN_SQL = {
    "add_turn": "INSERT INTO events (call_sid, request_key, at, node, speech, digits, confidence, intent, action,"
                " next_node) VALUES (:call_sid, :request_key, :at, :node, :speech, :digits, :confidence, :intent,"
                " :action, :next_node) ON CONFLICT DO NOTHING RETURNING id",
    "move_call": "UPDATE calls SET " + _MOVE_CALL_UNINDEXED + " WHERE call_sid = :sid",
    "move_call_indexed": "UPDATE calls SET language = COALESCE(:language, language), connector ="
                         " COALESCE(:connector, connector), outcome = COALESCE(:outcome, outcome), hazard ="
                         " COALESCE(:hazard, hazard) WHERE call_sid = :sid AND (" + _CHANGES_INDEXED + ")",
    # PostgreSQL runs every data-modifying WITH, and the UPDATE sees what the INSERT returned:
    # the call moves only when the turn went in (not for a repeated webhook).
    "add_turn_and_move_call": "WITH added AS (INSERT INTO events (call_sid, request_key, at, node, speech, digits,"
                              " confidence, intent, action, next_node) VALUES (:call_sid, :request_key, :at, :node,"
                              " :speech, :digits, :confidence, :intent, :action, :next_node)"
                              " ON CONFLICT DO NOTHING RETURNING id),"
                              " moved AS (UPDATE calls SET " + _MOVE_CALL + " WHERE call_sid = :sid"
                              " AND CAST(:move AS BOOLEAN) AND EXISTS (SELECT 1 FROM added))"
                              " SELECT EXISTS (SELECT 1 FROM added)",
    "ensure_call": "INSERT INTO calls (call_sid, started_at, language, outcome)"
                   " VALUES (:call_sid, :started_at, :language, 'in_progress') ON CONFLICT DO NOTHING",
    "start_call": "INSERT INTO calls (call_sid, from_number, to_number, started_at, language, station_id, outcome)"
                  " VALUES (:call_sid, :from_number, :to_number, :started_at, :language, :station_id, 'in_progress')"
                  " ON CONFLICT DO NOTHING RETURNING call_sid",
    "restart_call": "UPDATE calls SET from_number = :from_number, to_number = :to_number,"
                    " station_id = COALESCE(:station_id, station_id) WHERE call_sid = :call_sid",
    "set_outcome": "UPDATE calls SET outcome = :outcome WHERE call_sid = :call_sid",
    # A refused call never counts toward IVR_RATE_LIMIT (ivr.records.callers).
    "calls_lately": "SELECT count(*) FROM calls WHERE from_number = :from_number AND started_at >= :since"
                    " AND call_sid != :call_sid AND NOT EXISTS (SELECT 1 FROM events WHERE events.call_sid ="
                    " calls.call_sid AND events.action = :refused)",
    "earlier_call": "SELECT call_sid, outcome, hazard, last_state FROM calls WHERE from_number = :from_number"
                    " AND call_sid != :call_sid AND started_at >= :since ORDER BY started_at DESC LIMIT 1",
}


@cache
def _status_sql(sequenced: bool, timed: bool, final: bool) -> str:
    """A status callback's conditional UPDATE, one text per shape of callback."""
    sets = ["status = :status"]
    if sequenced:
        sets.append("status_seq = :status_seq")
    if timed:
        sets.append("duration_s = :duration_s")
    if final:
        sets += ["ended_at = :ended_at", "outcome = CASE WHEN outcome = 'in_progress' THEN 'abandoned' ELSE outcome END"]
    newer = "(status_seq IS NULL OR status_seq < :status_seq)" if sequenced else "status_seq IS NULL"
    return f"UPDATE calls SET {', '.join(sets)} WHERE call_sid = :call_sid AND {newer}"


@cache
def _pyformat(text_: str) -> str:
    """:name to %(name)s, PostgreSQL's driver's parameter style."""
    return re.sub(r"(?<!:):(\w+)", r"%(\1)s", text_)


_plains: weakref.WeakKeyDictionary[Engine, _Plain] = weakref.WeakKeyDictionary()


def plain(engine: Engine) -> _Plain:
    """The plain-SQL path for `engine`, made once."""
    found = _plains.get(engine)
    if found is None:
        found = _plains[engine] = _Plain(engine)
    return found


class _Plain:
    """The driver's own connection for the webhooks' writes: one transaction, plain SQL."""

    def __init__(self, engine: Engine):
        dialect = engine.dialect
        # A weak reference: the module's cache (`plain`) must not keep an engine, its
        # pool and its connections alive after the app that made it is gone.
        self._engine = weakref.ref(engine)
        self.pyformat = dialect.name == "postgresql"
        # The dialect's own bind processor: a time is stored exactly as SQLAlchemy stores it
        # (SQLite: text), so SQLAlchemy's readers and comparisons see the same values.
        self._stamp = DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)
        self.integrity_error = getattr(dialect.dbapi, "IntegrityError", IntegrityError)
        self._held = _HeldConnection(engine) if engine in _file_identity else None

    def stamp(self, moment: datetime):
        return self._stamp(moment) if self._stamp is not None else moment

    def sql(self, text_: str) -> str:
        return _pyformat(text_) if self.pyformat else text_

    @contextlib.contextmanager
    def transaction(self):
        """A cursor in one transaction, committed at the end; rolled back on any error.

        SQLite: the driver begins at the first write (BEGIN DEFERRED), as SQLAlchemy's did,
        and commits with the connection's WAL and synchronous=NORMAL (ivr.records.db.connect).
        """
        if self._held is not None:
            with self._held.transaction() as cursor:
                yield cursor
            return
        engine = self._engine()
        if engine is None:
            raise RuntimeError("the engine is gone")
        raw = engine.raw_connection()
        try:
            with _committed(raw, broken=raw.invalidate) as cursor:
                yield cursor
        finally:
            raw.close()   # back to the pool

    def execute(self, cursor, name: str, params: dict) -> None:
        cursor.execute(self.sql(PLAIN_SQL[name]), params)


@contextlib.contextmanager
def _committed(raw, broken: Callable[[], None]):
    """A cursor on the driver's connection in one transaction: committed at the end, rolled
    back on any error; `broken()` when even the rollback fails (the connection is not reused)."""
    try:
        cursor = raw.cursor()
        try:
            yield cursor
        finally:
            cursor.close()
        raw.commit()
    except BaseException:
        try:
            raw.rollback()
        except Exception:
            broken()
        raise


class _HeldConnection:
    """A SQLite file's webhook writes through one connection per process, kept.

    Checking a connection out of SQLAlchemy's pool and back in for every write cost a
    quarter of the write (issue 16). This one comes from the same pool, so it is opened
    as every connection is (WAL, synchronous=NORMAL, foreign keys, the busy timeout,
    never a new empty file once there was one), and is checked before each use as a
    checkout checks one: the file still there and still the same file
    (_watch_sqlite_file). A lock serialises its users (SQLite takes one writer at a
    time anyway), and a forked worker opens its own.
    """

    def __init__(self, engine: Engine):
        self._engine = weakref.ref(engine)
        self._identity = _file_identity[engine]
        self._lock = threading.Lock()
        self._raw: PoolProxiedConnection | None = None   # checked out of the pool for good
        self._owner = 0           # the process that checked it out

    @contextlib.contextmanager
    def transaction(self):
        with self._lock, _committed(self._connection(), broken=self._drop) as cursor:
            yield cursor

    def _connection(self):
        if self._raw is not None and self._owner != os.getpid():
            self._raw = None      # the parent's, across a fork: never used, never closed here
        if self._raw is not None and self._identity() != self._raw.info.get("file"):
            self._drop()          # deleted or replaced: a new checkout says which, and reopens
        if self._raw is None:
            engine = self._engine()
            if engine is None:
                raise RuntimeError("the engine is gone")
            self._raw, self._owner = engine.raw_connection(), os.getpid()
        return self._raw

    def _drop(self) -> None:
        raw, self._raw = self._raw, None
        if raw is not None:
            with contextlib.suppress(Exception):
                raw.invalidate()


def describe(exc: BaseException) -> str:
    """One line for the log: the database's own complaint, never the statement's values."""
    if isinstance(exc, MigrationFailed):   # the child's own line already
        return str(exc)
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    first = (str(original).strip().splitlines() or [""])[0][:200]
    return f"{type(original).__name__}: {first}" if first else type(original).__name__


class _CallsTold:
    """Which calls' lost records were already logged, shared by every worker.

    An anonymous shared mapping made before gunicorn forks (the Recorder is built
    in the master), so a call whose turns land on two workers is still logged
    once. A slot per hash of the CallSid: a collision at worst logs a call twice.
    """

    SLOTS = 4096

    def __init__(self) -> None:
        self._table = mmap.mmap(-1, self.SLOTS * 8)

    def first_time(self, call_sid: str) -> bool:
        digest = hashlib.blake2b(call_sid.encode(), digest_size=8).digest()
        slot = int.from_bytes(digest[:4], "little") % self.SLOTS * 8
        if self._table[slot:slot + 8] == digest:
            return False
        self._table[slot:slot + 8] = digest
        return True

    def forget(self) -> None:
        self._table[:] = bytes(len(self._table))


class Health:
    """Whether records are being written, for the log and for /readyz.

    A failed write is logged once per call, on one line, not once per turn with
    a traceback; the first write that works again logs the gap: how many writes
    were lost, over how long.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.failing_since: float | None = None
        self.last_error: str | None = None
        self.lost = 0
        self._told = _CallsTold()

    @property
    def ok(self) -> bool:
        return self.failing_since is None

    def failed(self, call_sid: str, reason: str) -> None:
        with self._lock:
            if self.failing_since is None:
                self.failing_since = time.monotonic()
                self.lost = 0
            self.lost += 1
            self.last_error = reason
            first_for_call = self._told.first_time(call_sid)
        if first_for_call:
            log.error("call %s: not recorded (%s); the call goes on", call_sid, reason)
        else:
            log.debug("call %s: another write lost (%s)", call_sid, reason)

    def succeeded(self) -> None:
        if self.failing_since is None:  # the usual case: no lock taken
            return
        with self._lock:
            if self.failing_since is None:
                return
            gap, lost = time.monotonic() - self.failing_since, self.lost
            self.failing_since, self.last_error, self.lost = None, None, 0
            self._told.forget()
        log.warning("recording resumed: %d write%s lost over %.1f s", lost, "" if lost == 1 else "s", gap)


class Recorder:
    """Best-effort writes of calls and turns; never raises."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.plain = plain(engine)
        self.health = Health()

    def call_started(self, call_sid: str, from_number: str | None, to_number: str | None, language: str,
                     station_id: str | None = None) -> None:
        def write(cursor):
            values = {"call_sid": call_sid, "from_number": from_number, "to_number": to_number,
                      "started_at": self.plain.stamp(now()), "language": language, "station_id": station_id}
            self.plain.execute(cursor, "start_call", values)
            if not cursor.fetchall():  # a retried first webhook, or a status callback came first
                self.plain.execute(cursor, "restart_call", {**values, "station_id": station_id or None})
        self._run_plain(write, call_sid)

    def turn(self, call_sid: str, request_key: str, *, node: str | None, speech: str | None,
             digits: str | None, confidence: float | None, intent: str | None, action: str,
             next_node: str | None, language: str | None = None, connector: str | None = None,
             outcome: str | None = None, hazard: str | None = None, state: str | None = None,
             car: tuple[str, str | None] | None = None) -> None:
        plain = self.plain

        def write(cursor, ensure_call: bool):
            at = plain.stamp(now())
            if ensure_call:
                plain.execute(cursor, "ensure_call", {"call_sid": call_sid, "started_at": at, "language": language})
            turn = {"call_sid": call_sid, "request_key": request_key, "at": at, "node": node,
                    "speech": (speech or None) and speech[:500], "digits": (digits or None) and digits[:32],
                    "confidence": confidence, "intent": intent and intent[:32], "action": action[:64],
                    "next_node": next_node}
            changes = {"last_node": next_node or None, "language": language or None,
                       "connector": connector or None, "outcome": outcome or None,
                       "hazard": hazard or None, "last_state": (state or None) and state[:1000],
                       "car_make": car[0][:32] if car else None, "car_model": car[1][:64] if car and car[1] else None}
            if plain.pyformat:   # PostgreSQL: both in one statement, one round trip
                plain.execute(cursor, "add_turn_and_move_call",
                              {**turn, **changes, "sid": call_sid, "move": any(changes.values())})
                added = cursor.fetchone()[0]
            else:
                plain.execute(cursor, "add_turn", turn)
                added = bool(cursor.fetchall())
                if added and any(changes.values()):
                    plain.execute(cursor, "move_call", {"sid": call_sid, **changes})
                    if any(changes[column] for column in INDEXED_CALL_COLUMNS):
                        plain.execute(cursor, "move_call_indexed", {"sid": call_sid, **changes})
            if not added:   # the same turn again has not moved the call back
                log.info("call %s: a repeated webhook, recorded once", call_sid)
        # The call's row almost always exists (the first webhook made it): skip
        # that statement, and only when the turn's foreign key finds no call
        # (a lost first write) make the call and write the turn again.
        if deadline.spent():
            self.health.failed(call_sid, "the database is too slow to answer in time")
            return
        try:
            with plain.transaction() as cursor:
                write(cursor, ensure_call=False)
        except plain.integrity_error:
            pass
        except Exception as exc:
            self.health.failed(call_sid, describe(exc))
            return
        else:
            self.health.succeeded()
            return
        self._run_plain(lambda cursor: write(cursor, ensure_call=True), call_sid)

    def outcome(self, call_sid: str, outcome: str) -> None:
        def write(cursor):
            self._ensure_call_plain(cursor, call_sid)
            self.plain.execute(cursor, "set_outcome", {"call_sid": call_sid, "outcome": outcome})
        self._run_plain(write, call_sid)

    def status(self, call_sid: str, status: str, duration: int | None, sequence: int | None) -> None:
        """Apply a status callback unless a later one (by SequenceNumber) is already in.

        One conditional UPDATE, so two workers handling two callbacks at once
        cannot let the older one win.
        """
        final = status in FINAL_STATUSES

        def write(cursor):
            self._ensure_call_plain(cursor, call_sid)
            cursor.execute(self.plain.sql(_status_sql(sequence is not None, duration is not None, final)), {
                "call_sid": call_sid, "status": status, "status_seq": sequence, "duration_s": duration,
                "ended_at": self.plain.stamp(now()) if final else None})
        self._run_plain(write, call_sid)

    # -- the hand-off's records ---------------------------------------------------------

    def station(self, call_sid: str, station_id: str) -> None:
        """The station ID the caller confirmed."""
        def write(conn):
            self._ensure_call(conn, call_sid, None)
            conn.execute(update(calls).where(calls.c.call_sid == call_sid).values(station_id=station_id[:32]))
        self._run(write, call_sid)

    def voicemail(self, call_sid: str, recording_sid: str, recording_url: str | None = None,
                  duration: int | None = None, transcription: str | None = None,
                  transcription_status: str | None = None) -> None:
        """A message left, or news of it (the recording or transcription callback): one row per RecordingSid."""
        def write(conn):
            self._ensure_call(conn, call_sid, None)
            conn.execute(_insert(conn, voicemails).values(call_sid=call_sid, recording_sid=recording_sid[:64], at=now()))
            known = {"recording_url": recording_url and recording_url[:500], "duration_s": duration,
                     "transcription": transcription and transcription[:5000],
                     "transcription_status": transcription_status and transcription_status[:16]}
            changes = {k: v for k, v in known.items() if v is not None}
            if changes:
                conn.execute(update(voicemails).where(voicemails.c.recording_sid == recording_sid[:64]).values(**changes))
        self._run(write, call_sid)

    def callback(self, call_sid: str, number: str, *, station_id: str | None, connector: str | None,
                 steps: str | None) -> None:
        """A call-back request, with the number the caller confirmed; once per call and number."""
        def write(conn):
            self._ensure_call(conn, call_sid, None)
            conn.execute(_insert(conn, callbacks).values(
                call_sid=call_sid, number=number[:32], station_id=station_id, connector=connector,
                steps=steps and steps[:2000], status="open", at=now()))
        self._run(write, call_sid)

    def text_message(self, call_sid: str, to_number: str, result: str, message_sid: str | None = None,
                     error_code: int | None = None) -> None:
        """A text sent (with its SID) or refused (with Twilio's error code)."""
        def write(conn):
            self._ensure_call(conn, call_sid, None)
            conn.execute(text_messages.insert().values(
                call_sid=call_sid, to_number=to_number[:32], message_sid=message_sid, result=result[:16],
                error_code=error_code, at=now()))
        self._run(write, call_sid)

    def text_sent(self, call_sid: str) -> bool:
        """Has this call already been sent its text? Twilio may repeat a webhook."""
        try:
            with self.engine.connect() as conn:
                return conn.execute(select(text_messages.c.id).where(
                    (text_messages.c.call_sid == call_sid) & (text_messages.c.result == "sent")).limit(1)).first() is not None
        except Exception:
            log.warning("call %s: could not check for an earlier text; sending", call_sid)
            return False

    # -- resuming a dropped call -----------------------------------------------------------

    def earlier_call(self, from_number: str | None, call_sid: str, within: timedelta) -> dict | None:
        """The caller's latest other call that started within `within`: its outcome, hazard
        and last state, to greet them with "welcome back". None if there is none or the
        database cannot say (the call then simply starts afresh)."""
        if not from_number:
            return None
        try:
            with self.plain.transaction() as cursor:
                self.plain.execute(cursor, "earlier_call", {"from_number": from_number, "call_sid": call_sid,
                                                            "since": self.plain.stamp(now() - within)})
                row = cursor.fetchone()
        except Exception as exc:
            self.health.failed(call_sid, f"{describe(exc)}; no welcome back")
            return None
        return dict(zip(("call_sid", "outcome", "hazard", "last_state"), row)) if row is not None else None

    # -- hazard alerts (ivr/outbound/alerts.py) ---------------------------------------------------------

    def alert_pending(self, call_sid: str, tier: str, payload: dict, channels) -> None:
        """Write the alert, once per channel, before anything is sent."""
        def write(conn):
            self._ensure_call(conn, call_sid, None)
            at = now()
            for channel in channels:
                conn.execute(_insert(conn, alerts).values(
                    call_sid=call_sid, channel=channel, tier=tier, payload=json.dumps(payload, sort_keys=True),
                    status="pending", attempts=0, next_try_at=at, created_at=at))
        self._run(write, call_sid, respect_deadline=False)

    def due_alerts(self, limit: int = 20) -> list[dict]:
        """Pending alerts whose time has come, oldest first."""
        query = (select(alerts).where(alerts.c.status == "pending", alerts.c.next_try_at <= now())
                 .order_by(alerts.c.id).limit(limit))
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [{**row, "payload": json.loads(row["payload"])} for row in rows]

    def claim_alert(self, alert_id: int, attempts: int, lease: timedelta) -> bool:
        """Take an alert for one attempt; False if another worker took it first."""
        with self.engine.begin() as conn:
            taken = conn.execute(update(alerts).where(
                alerts.c.id == alert_id, alerts.c.status == "pending", alerts.c.attempts == attempts)
                .values(next_try_at=now() + lease))
            return taken.rowcount == 1

    def alert_result(self, alert_id: int, status: str, attempts: int, error: str | None,
                     next_try_at: datetime | None) -> None:
        with self.engine.begin() as conn:
            values = {"status": status, "attempts": attempts, "last_error": error and error[:200]}
            if status == "sent":
                values["sent_at"] = now()
            if next_try_at is not None:
                values["next_try_at"] = next_try_at
            conn.execute(update(alerts).where(alerts.c.id == alert_id).values(**values))

    def _ensure_call(self, conn, call_sid: str, language: str | None) -> None:
        conn.execute(_insert(conn, calls), {"call_sid": call_sid, "started_at": now(), "language": language,
                                            "outcome": "in_progress"})

    def _ensure_call_plain(self, cursor, call_sid: str) -> None:
        self.plain.execute(cursor, "ensure_call", {"call_sid": call_sid, "started_at": self.plain.stamp(now()),
                                                   "language": None})

    def _run_plain(self, write, call_sid: str) -> None:
        """_run, through the driver's own connection (the webhooks' hot path)."""
        if deadline.spent():
            self.health.failed(call_sid, "the database is too slow to answer in time")
            return
        try:
            with self.plain.transaction() as cursor:
                write(cursor)
        except Exception as exc:
            self.health.failed(call_sid, describe(exc))
        else:
            self.health.succeeded()

    def _run(self, write, call_sid: str, respect_deadline: bool = True) -> None:
        """One transaction; any failure is logged and the call goes on."""
        if respect_deadline and deadline.spent():  # the database already took this webhook's budget
            self.health.failed(call_sid, "the database is too slow to answer in time")
            return
        try:
            with self.engine.begin() as conn:
                write(conn)
        except Exception as exc:
            self.health.failed(call_sid, describe(exc))
        else:
            self.health.succeeded()


def probe(engine: Engine) -> str | None:
    """Can a record be written right now? None if so, else why not (one line).

    A write that changes nothing, rolled back: it takes the write lock (SQLite) or
    needs a writable primary (PostgreSQL), so read-only files, a deleted file, a
    database that is down or in recovery all answer here.
    """
    try:
        with engine.connect() as conn, conn.begin() as transaction:
            conn.execute(update(calls).where(text("1 = 0")).values(outcome=calls.c.outcome))
            transaction.rollback()
    except Exception as exc:
        return describe(exc)
    return None


# -- reading and purging ------------------------------------------------------------------

@overload
def _utc(moment: datetime) -> datetime: ...
@overload
def _utc(moment: datetime | None) -> datetime | None: ...
def _utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything here is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


def load_calls(engine: Engine, since: datetime | None = None) -> list[CallRecord]:
    """Every call started at or after `since`, oldest first, with its turns in order.

    Caller numbers leave the database masked: reports and listings never need more.
    """
    query = select(calls).order_by(calls.c.started_at, calls.c.call_sid)
    turns = select(events).join(calls, calls.c.call_sid == events.c.call_sid).order_by(
        events.c.call_sid, events.c.at, events.c.id)
    if since is not None:
        query = query.where(calls.c.started_at >= since)
        turns = turns.where(calls.c.started_at >= since)
    by_call: dict[str, list[Turn]] = {}
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
        for row in conn.execute(turns).mappings():
            by_call.setdefault(row["call_sid"], []).append(Turn(
                at=_utc(row["at"]), node=row["node"], speech=row["speech"], digits=row["digits"],
                confidence=row["confidence"], intent=row["intent"], action=row["action"],
                next_node=row["next_node"]))
    return [CallRecord(
        call_sid=row["call_sid"], caller=masked(row["from_number"]), called=row["to_number"],
        started_at=_utc(row["started_at"]), ended_at=_utc(row["ended_at"]), language=row["language"],
        connector=row["connector"], station_id=row["station_id"], outcome=row["outcome"],
        last_node=row["last_node"], status=row["status"], duration_s=row["duration_s"],
        turns=tuple(by_call.get(row["call_sid"], ())), car_make=row["car_make"], car_model=row["car_model"])
        for row in rows]


def purge(engine: Engine, older_than_days: int, at: datetime | None = None) -> int:
    """Delete calls (and their turns) started more than `older_than_days` ago; return how many."""
    cutoff = (at or now()) - timedelta(days=older_than_days)
    old = select(calls.c.call_sid).where(calls.c.started_at < cutoff)
    with engine.begin() as conn:
        for table in (events, *HANDOFF_TABLES):
            conn.execute(delete(table).where(table.c.call_sid.in_(old)))
        return conn.execute(delete(calls).where(calls.c.started_at < cutoff)).rowcount
