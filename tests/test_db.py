"""Recording calls: through the real webhooks, on SQLite or TEST_DATABASE_URL (PostgreSQL).

Each test gets its own database (a SQLite file, or a fresh PostgreSQL schema).
"""
from __future__ import annotations

import concurrent.futures
import logging
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, insert, inspect, select, text

from bench.procfile import procfile_server
from helpers import CALL_SID, action_of, fields, gather, twiml
from ivr.app import create_app
from ivr.config import ConfigError
from ivr.records import db


def engine_of(app):
    return app.extensions["ivr"].recorder.engine


def the_call(app, sid=CALL_SID):
    return {c.call_sid: c for c in db.load_calls(engine_of(app))}[sid]


def start(client, **extra):
    return twiml(client.post("/voice", data=fields(CallStatus="ringing", **extra)))


def answer(client, root, **form):
    return twiml(client.post(action_of(root), data=fields(**form)))


def status(client, call_status, sequence, duration=None):
    form = fields(CallStatus=call_status, SequenceNumber=str(sequence), CallbackSource="call-progress-events",
                  Timestamp="Sun, 22 Nov 2026 03:40:00 +0000")
    if duration is not None:
        form["CallDuration"] = str(duration)
    response = client.post("/voice/status", data=form)
    assert response.status_code == 204


# -- calls through the webhooks ----------------------------------------------------------

def test_released_call_records_outcome_steps_connector_and_duration(client, app):
    root = start(client)
    root = answer(client, root, SpeechResult="it's a CCS plug", Confidence="0.87")
    root = answer(client, root, Digits="1")                                   # the button is soft
    root = answer(client, root, SpeechResult="it came out", Confidence="0.93")
    assert gather(root) is None
    status(client, "completed", 3, duration=95)

    call = the_call(app)
    assert call.outcome == "released"
    assert call.connector == "ccs"
    assert call.duration_s == 95
    assert call.ended_at is not None and call.status == "completed"
    assert call.caller == "***0123"
    assert [t.node for t in call.turns] == [None, "connector", "ccs_button", "ccs_soft"]
    assert call.turns[1].speech == "it's a CCS plug" and call.turns[1].confidence == pytest.approx(0.87)
    assert call.turns[1].intent == "connector_ccs" and call.turns[2].digits == "1"
    assert call.turns[-1].next_node == "released"


def test_caller_hanging_up_mid_flow_is_abandoned_where_they_were(client, app):
    root = start(client)
    answer(client, root, Digits="1")
    status(client, "completed", 1, duration=20)
    call = the_call(app)
    assert call.outcome == "abandoned"
    assert call.last_node == "ccs_button"


def test_hazard_and_transfer_outcomes(app, new_call):
    hazard = new_call()
    hazard.run(lambda event: {"SpeechResult": "there's smoke coming out", "Confidence": "0.9"}
               if event.kind == "listen" else None)
    assert the_call(app, hazard.sid).outcome == "hazard"

    transfer = new_call()
    transfer.run(lambda event: {"Digits": "0"} if event.kind == "listen" else {"DialCallStatus": "completed"})
    call = the_call(app, transfer.sid)
    assert call.outcome == "transferred"
    assert any((t.action or "").startswith("dial:completed") for t in call.turns)


def test_station_id_from_the_voice_url(client, app):
    twiml(client.post("/voice?station=SF-0042", data=fields(CallStatus="ringing")))
    assert the_call(app).station_id == "SF-0042"


def test_status_callbacks_apply_in_sequence_order_whatever_the_arrival(client, app):
    start(client)
    status(client, "completed", 4, duration=61)
    status(client, "in-progress", 2)           # late, older: must not undo "completed"
    status(client, "ringing", 1)
    call = the_call(app)
    assert call.status == "completed" and call.duration_s == 61 and call.ended_at is not None
    assert call.outcome == "abandoned"


def test_status_callback_before_the_first_webhook_still_records_the_call(client, app):
    status(client, "ringing", 0)
    start(client)
    call = the_call(app)
    assert call.status == "ringing" and call.caller == "***0123" and call.outcome == "in_progress"


def test_a_turn_whose_call_was_never_recorded_makes_the_call(client, app):
    """The first webhook's write was lost: the next turn still lands, with its call."""
    twiml(client.post("/voice/turn?node=session_screen&lang=en-US", data=fields(Digits="1")))
    call = the_call(app)
    assert call.outcome == "in_progress" and [t.node for t in call.turns] == ["session_screen"]


def test_a_repeated_webhook_is_recorded_once(client, app):
    root = start(client)
    url = action_of(root)
    form = fields(SpeechResult="C C S", Confidence="0.9")
    first = twiml(client.post(url, data=form))
    again = twiml(client.post(url, data=form))   # Twilio's retry: same URL, same fields
    assert action_of(first) == action_of(again)
    twiml(client.post("/voice", data=fields(CallStatus="ringing")))  # a retried first webhook
    assert [t.node for t in the_call(app).turns] == [None, "connector"]


def test_a_later_turn_is_not_undone_by_a_late_repeat(client, app):
    root = start(client)
    url, form = action_of(root), fields(Digits="1")
    root = twiml(client.post(url, data=form))
    answer(client, root, Digits="1")             # now at ccs_soft
    twiml(client.post(url, data=form))           # the first answer's retry arrives late
    assert the_call(app).last_node == "ccs_soft"


def test_a_turn_rewrites_the_calls_indexed_columns_only_when_they_change(app):
    """SQLite rewrites an index for every column an UPDATE sets, changed or not: the
    language, connector, outcome and hazard are set only when a turn changes one."""
    recorder = app.extensions["ivr"].recorder
    recorder.call_started(CALL_SID, "+15555550123", "+18005550199", "en-US")
    moves = []

    def turn(key, **changes):
        recorder.turn(CALL_SID, key, node="connector", speech=None, digits="1", confidence=None,
                      intent="ccs", action="next", next_node=key, **changes)
        with engine_of(app).connect() as conn:
            moves.append(tuple(conn.execute(select(db.calls.c.connector, db.calls.c.language, db.calls.c.outcome,
                                                   db.calls.c.hazard)).one()))

    turn("a", language="en-US", connector="ccs")
    turn("b", language="en-US", connector="ccs")            # nothing indexed changes
    turn("c", language="en-US", connector="chademo")        # the caller corrected the plug
    turn("d", language="en-US", connector=None, hazard="damage")
    turn("e", language="en-US", connector="chademo", outcome="released")
    assert moves == [("ccs", "en-US", "in_progress", None), ("ccs", "en-US", "in_progress", None),
                     ("chademo", "en-US", "in_progress", None), ("chademo", "en-US", "in_progress", "damage"),
                     ("chademo", "en-US", "released", "damage")]
    assert the_call(app).last_node == "e"
    if engine_of(app).dialect.name == "sqlite":
        with engine_of(app).begin() as conn:
            unchanged = conn.exec_driver_sql(db.PLAIN_SQL["move_call_indexed"], {
                "sid": CALL_SID, "language": "en-US", "connector": "chademo", "outcome": None, "hazard": None})
            assert unchanged.rowcount == 0        # the row, and so its index entries, left alone


# -- recording never breaks a call --------------------------------------------------------

def test_dropped_tables_are_logged_and_the_call_goes_on(client, app, caplog):
    with engine_of(app).begin() as conn:
        cascade = " CASCADE" if conn.dialect.name == "postgresql" else ""
        for table in ("events", *(t.name for t in db.HANDOFF_TABLES), "calls"):
            conn.execute(text(f"DROP TABLE {table}{cascade}"))
    with caplog.at_level(logging.ERROR, logger="ivr.db"):
        root = start(client)
        root = answer(client, root, Digits="1")
    assert gather(root) is not None               # the next question, not an apology
    assert "not recorded" in caplog.text and "the call goes on" in caplog.text
    assert "+15555550123" not in caplog.text


def test_an_unreachable_database_leaves_the_line_answering(env, caplog):
    env = {**env, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nothing"}
    with caplog.at_level(logging.ERROR):
        app = create_app(env)
        client = app.test_client()
        root = start(client)
        root = answer(client, root, Digits="1")
    assert gather(root) is not None
    assert client.post("/voice/status", data=fields(CallStatus="completed", SequenceNumber="1")).status_code == 204
    assert "not usable" in caplog.text and "not recorded" in caplog.text


def test_a_lost_database_is_logged_once_per_call_without_a_traceback(env, caplog):
    """Issue 12: a two-turn call with PostgreSQL down wrote 669 lines, a traceback per write."""
    env = {**env, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nothing", "IVR_RATE_LIMIT": "5/10m"}
    app = create_app(env)
    client = app.test_client()
    caplog.clear()
    with caplog.at_level(logging.DEBUG - 1):
        root = start(client)
        root = answer(client, root, Digits="1")
        root = answer(client, root, Digits="1")
        client.post("/voice/status", data=fields(CallStatus="completed", SequenceNumber="1"))
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(problems) == 1, [r.getMessage() for r in problems]
    assert "not recorded" in problems[0].getMessage() and CALL_SID in problems[0].getMessage()
    assert all(r.exc_info is None for r in caplog.records)
    assert len(caplog.text.splitlines()) < 15


def test_the_kept_sqlite_connection_follows_a_replaced_file_and_notices_a_deleted_one(tmp_path, caplog):
    """The webhooks' writes keep one SQLite connection per process (issue 16); it is
    checked before each write as a pool checkout would be: a file replaced under the
    server (a restore) is written to, a deleted one is logged, never written into the void."""
    import os
    import shutil

    path = tmp_path / "ivr.db"
    engine = db.connect(f"sqlite:///{path}")
    db.migrate(engine)
    recorder = db.Recorder(engine)

    def a_call(sid: str) -> None:
        recorder.call_started(sid, "+15555550123", "+18005550199", "en-US")
        recorder.turn(sid, "k1", node="connector", speech=None, digits="1", confidence=None, intent="ccs",
                      action="next", next_node="ccs_button", language="en-US", connector="ccs")

    a_call("CA" + "1" * 32)
    shutil.copy(path, tmp_path / "restored.db")
    os.replace(tmp_path / "restored.db", path)           # a restore lands on the same path
    a_call("CA" + "2" * 32)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(db.events)).scalar() == 2   # both in the file there now

    os.remove(path)
    with caplog.at_level(logging.ERROR, logger="ivr.db"):
        a_call("CA" + "3" * 32)
    assert "not recorded" in caplog.text and "is gone" in caplog.text
    assert not path.exists()                              # no new empty file in its place
    engine.dispose()


def test_recording_that_resumes_logs_the_gap(app, client, caplog):
    recorder = app.extensions["ivr"].recorder
    recorder.health.failed("CA" + "1" * 32, "OperationalError: the server closed the connection")
    assert not recorder.health.ok
    with caplog.at_level(logging.INFO, logger="ivr.db"):
        start(client)
    assert recorder.health.ok
    assert "recording resumed: 1 write lost" in caplog.text


def test_a_malformed_database_url_stops_start_up_with_its_name(env):
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        create_app({**env, "DATABASE_URL": "not a url at all"})


@pytest.mark.parametrize("given, expected", [
    ("postgres://u:p@h:5432/d", "postgresql+psycopg://u:p@h:5432/d"),
    ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
    ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
    ("sqlite:///ivr.db", "sqlite:///ivr.db"),
])
def test_heroku_style_urls_use_psycopg(given, expected):
    assert db.normalize_url(given) == expected


# -- the schema ------------------------------------------------------------------------------

def test_migrations_build_exactly_the_tables_the_recorder_uses(app):
    engine = engine_of(app)
    assert db.revision(engine) == db.head()
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert differences == []


def test_the_newest_revision_is_known_without_alembic():
    assert db.head_revision() == db.head()


def test_a_database_at_the_newest_schema_starts_without_loading_alembic(tmp_path):
    """The usual start (every worker, every restart): one query, and alembic with mako
    and pygments stays out of the worker's memory."""
    import subprocess
    import sys
    url = f"sqlite:///{tmp_path}/ivr.db"
    check = (f"import sys; from ivr.records import db; db.migrate(db.connect({url!r})); "
             "print('alembic' in sys.modules)")
    first = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    again = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert first.stdout.split() == ["True"] and again.stdout.split() == ["False"]


def test_the_procfile_master_migrates_in_a_child_and_never_loads_alembic(env):
    """gunicorn forks its workers from the master: whatever the master loads, every
    worker carries (issue 16: each worker under 80 MB). The Procfile asks create_app
    to upgrade a new database in a child process."""
    import subprocess
    import sys
    check = ("import sys; from ivr.app import create_app; "
             f"create_app({env!r}, migrate_in_child=True); print('alembic' in sys.modules)")
    started = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert started.stdout.split() == ["False"]
    assert "database schema created: revision" in started.stderr   # the child's own log line
    engine = db.connect(env["DATABASE_URL"])
    assert db.revision(engine) == db.head()
    engine.dispose()


def test_a_migration_that_fails_in_the_child_says_why(database_url, monkeypatch):
    def locked_out(_engine):
        raise RuntimeError("permission denied for schema public")

    monkeypatch.setattr(db, "_upgrade", locked_out)
    engine = db.connect(database_url)
    with pytest.raises(db.MigrationFailed, match="RuntimeError: permission denied for schema public"):
        db.migrate(engine, in_child=True)
    engine.dispose()


def test_a_migration_child_that_dies_fails_the_migration(database_url, monkeypatch):
    import os
    monkeypatch.setattr(db, "_upgrade", lambda _engine: os._exit(3))   # killed mid-way, says nothing
    engine = db.connect(database_url)
    with pytest.raises(db.MigrationFailed, match="the migration process died"):
        db.migrate(engine, in_child=True)
    engine.dispose()


def test_a_failed_migration_in_the_child_leaves_the_line_answering(env, monkeypatch, caplog):
    monkeypatch.setattr(db, "_upgrade", lambda _engine: (_ for _ in ()).throw(RuntimeError("disk full")))
    app = create_app(env, migrate_in_child=True)
    assert "the database at DATABASE_URL is not usable (RuntimeError: disk full)" in caplog.text
    response = app.test_client().post("/voice", data=fields(CallSid=CALL_SID))
    assert response.status_code == 200 and gather(twiml(response)) is not None


def test_upgrading_a_database_from_before_migrations_keeps_its_calls(database_url):
    from alembic import command

    engine = db.connect(database_url)
    with engine.begin() as conn:           # the schema as the first recorder left it
        command.upgrade(db._alembic_config(conn), "0001")
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(insert(db.calls).values(call_sid="CA" + "1" * 32, started_at=db.now(), outcome="released"))
    db.migrate(engine)
    db.migrate(engine)                      # a second start changes nothing
    assert db.revision(engine) == db.head()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(db.calls)).scalar() == 1
        assert "ix_calls_started_at" in {i["name"] for i in inspect(conn).get_indexes("calls")}
    engine.dispose()


def test_purge_deletes_old_calls_and_their_turns(client, app):
    engine = engine_of(app)
    start(client)
    old_sid = "CA" + "0" * 32
    with engine.begin() as conn:
        conn.execute(insert(db.calls).values(call_sid=old_sid, started_at=db.now() - timedelta(days=100),
                                             outcome="released"))
        conn.execute(insert(db.events).values(call_sid=old_sid, request_key="k", at=db.now(), action="start"))
    assert db.purge(engine, 30) == 1
    assert [c.call_sid for c in db.load_calls(engine)] == [CALL_SID]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(db.events)
                            .where(db.events.c.call_sid == old_sid)).scalar() == 0


def test_retention_days_purges_at_start_up(env, database_url):
    engine = db.connect(database_url)
    db.migrate(engine)
    with engine.begin() as conn:
        conn.execute(insert(db.calls).values(call_sid="CA" + "0" * 32, outcome="released",
                                             started_at=db.now() - timedelta(days=10)))
    app = create_app({**env, "IVR_RETENTION_DAYS": "7"})
    assert db.load_calls(engine_of(app)) == []
    engine.dispose()


# -- two gunicorn workers at once --------------------------------------------------------------

def _post(base: str, path: str, form: dict) -> int:
    request = urllib.request.Request(base + path, data=urllib.parse.urlencode(form).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


@pytest.mark.server
def test_two_gunicorn_workers_migrate_and_record_at_once(env, database_url):
    """The Procfile's server, two workers: both upgrade the schema as they start, then
    record concurrent calls; every call and every status lands exactly once."""
    server_env = {**env, "WEB_CONCURRENCY": "2", "IVR_AGENT_NUMBER": env["IVR_AGENT_NUMBER"]}
    sids = [f"CA{n:032x}" for n in range(1, 25)]

    def one_call(sid: str) -> tuple[int, int, int]:
        form = fields(CallSid=sid, CallStatus="ringing")
        first = _post(base, "/voice", form)
        again = _post(base, "/voice", form)                     # Twilio's retry
        done = _post(base, "/voice/status", fields(CallSid=sid, CallStatus="completed",
                                                   CallDuration="33", SequenceNumber="2"))
        return first, again, done

    with procfile_server(server_env) as (base, _process), concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one_call, sids))
    assert all(r == (200, 200, 204) for r in results)

    engine = db.connect(database_url)
    recorded = {c.call_sid: c for c in db.load_calls(engine)}
    engine.dispose()
    assert set(recorded) == set(sids)
    for call in recorded.values():
        assert call.outcome == "abandoned" and call.duration_s == 33
        assert [t.action for t in call.turns] == ["start"]
