"""The `ivr` command: serve, call, lint."""
from __future__ import annotations

import logging
import os
import sys
import time

import click

from ivr import config, extras
from ivr import content as content_module
from ivr.config import ConfigError
from ivr.content import ContentError
from ivr.tools.records import records_engine
from ivr.tools.stations import ocpi as _ocpi
from ivr.tools.stations import stations as _stations


def _dev_env() -> dict:
    """The environment, with IVR_DEV=1 when there is no Twilio token (local use)."""
    env = dict(os.environ)
    if not env.get("TWILIO_AUTH_TOKEN"):
        env.setdefault("IVR_DEV", "1")
        # Twilio's magic test number: a local call can show the whole hand-off.
        env.setdefault("IVR_AGENT_NUMBER", "+15005550006")
    return env


def _app(env):
    from ivr.app import create_app
    try:
        return create_app(env, log_errors=False)
    except (ConfigError, ContentError) as exc:
        raise click.ClickException(str(exc)) from None


@click.group(help="The stuck-connector phone line.")
def main() -> None:
    pass


@main.command(help="Run a local server (Flask's, for development; production uses gunicorn).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=lambda: int(os.environ.get("PORT", 5000)), type=int, show_default="$PORT or 5000")
def serve(host: str, port: int) -> None:
    app = _app(_dev_env())
    app.run(host=host, port=port, debug=False)


@main.command(help="Call the bot in this terminal: type what you would say, or keys (1, 2, 0, *, #).")
@click.option("--from", "caller", default="+15555550123", show_default=True, help="The caller's number.")
@click.option("--confidence", default=0.92, show_default=True, type=click.FloatRange(0, 1),
              help="Speech confidence to report for typed answers.")
@click.option("--say", "script", multiple=True,
              help="Answer non-interactively, in order (repeatable); an empty one is silence.")
@click.option("--station-sim", type=click.Choice(["running", "wont-stop", "chademo-locked", "all", "down"]),
              default=None, help="Call a simulated station (see `ivr stations simulate --help`).")
def call(caller: str, confidence: float, script: tuple[str, ...], station_sim: str | None) -> None:
    from ivr.tools.simulator import Call

    # A call in this terminal: no server is exposed, so only errors are worth a log line here.
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    env = {**_dev_env(), "IVR_RATE_LIMIT": "off"}   # the terminal is never limited
    attached = None
    if station_sim:
        from ivr.tools.station_sim import Attached
        attached = Attached(station_sim)
        env.update(attached.env)
    app = _app(env)
    if attached is not None:
        click.secho(f"  [simulated station: {station_sim}; chargers known: {attached.serve(app)}; "
                    f"the call comes in for {attached.station}]", fg="yellow")
    answers = list(script)
    interactive = not answers and sys.stdin.isatty()
    sim = Call(app.test_client(), env.get("TWILIO_AUTH_TOKEN") or None, caller=caller, confidence=confidence,
               station=attached.station if attached else None)

    def show(event) -> None:
        if event.kind == "say":
            click.secho(f"  bot: {event.text}", fg="cyan")
        elif event.kind == "dial":
            click.secho(f"  [ringing the agent line {event.text}]", fg="yellow")
            for line in event.detail.get("whisper", []):
                click.secho(f"  [agent hears: {line}]", fg="yellow")
        elif event.kind == "queue":
            click.secho(f"  [waiting in the queue {event.text}]", fg="yellow")
            for line in event.detail.get("wait", []):
                click.secho(f"  [caller hears while waiting: {line}]", fg="yellow")
        elif event.kind == "hangup":
            click.secho("  [the bot hangs up]", fg="yellow")

    def next_typed(prompt: str) -> str | None:
        if answers:
            typed = answers.pop(0)
            click.echo(f"{prompt}{typed}")
            return typed
        if script:  # the script ran out: the caller hangs up
            return None
        try:
            typed = click.prompt(prompt, default="", show_default=False, prompt_suffix="")
            if not interactive:  # piped answers: show them, as a transcript would
                click.echo(typed)
            return typed
        except (EOFError, click.Abort):
            return None

    def answer(event):
        if event.kind == "listen":
            typed = next_typed("  you: ")
            if typed == "" and "/voice/station/wait" in event.detail.get("action", ""):
                # The station's listening wait: silence lasts the Gather's timeout, as on a phone.
                time.sleep(int(event.detail.get("timeout") or 0))
            return None if typed is None else sim.fields_for(typed)
        if event.kind == "dial":
            typed = next_typed("  [agent answers? y/n] ")
            if typed is None:
                return None
            return {"DialCallStatus": "completed" if typed.lower().startswith("y") else "no-answer",
                    "DialCallSid": "CA" + "1" * 32}
        if event.kind == "queue":
            typed = next_typed("  [an agent takes the call? y/n] ")
            if typed is None:
                return None
            return {"QueueResult": "bridged" if typed.lower().startswith("y") else "leave", "QueueTime": "60"}
        if event.kind == "record":
            typed = next_typed("  [your message, empty for none] ")
            if not typed:
                return None
            return {"RecordingUrl": "https://api.twilio.com/recordings/RE" + "0" * 32,
                    "RecordingDuration": "12", "RecordingSid": "RE" + "0" * 32}
        return None

    if interactive:
        click.secho("Calling the charging help line. Type what you'd say, or keys like 1, 2, 0, *, #.\n"
                    "An empty line is silence. Ctrl-D hangs up.", fg="green")
    try:
        ending = sim.run(answer, show)
    finally:
        if attached is not None:
            attached.stop()
    click.secho(f"  [call ended: {ending}; CallSid {sim.sid}]", fg="green")


@main.command(help="Check the flow and prompts; exit 1 with file, line and problem.")
@click.option("--flow", "flow_name", default=lambda: os.environ.get("IVR_FLOW", content_module.DEFAULT_FLOW),
              show_default="$IVR_FLOW or stuck_connector")
def lint(flow_name: str) -> None:
    env = _dev_env()
    try:
        settings = config.load(env)
        loaded = content_module.load(settings.flows_dir, settings.prompts_dir, flow_name)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    except ContentError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    questions = sum(1 for n in loaded.flow.nodes.values() if n.kind == "ask")
    cars = f"; {len(loaded.vehicles.entries)} cars in {loaded.vehicles.path}" if loaded.vehicles else ""
    click.echo(f"ok: {loaded.flow.path}: {len(loaded.flow.nodes)} nodes, {questions} questions; "
               f"prompts in {', '.join(sorted(loaded.catalogs))}{cars}")


# -- operators' tools: the call records, the flow diagram, the Twilio number --------

def printable(text: str) -> str:
    """What callers said, safe for a terminal: control characters (ESC, BEL, CR,
    newlines, C1 codes...) shown escaped, as \\x1b, instead of acting on it."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def _for_terminal(records):
    """Every text field of the calls and their turns made printable: all of it came from outside."""
    from dataclasses import fields, replace

    def clean(item):
        changes = {f.name: printable(getattr(item, f.name)) for f in fields(item)
                   if isinstance(getattr(item, f.name), str)}
        return replace(item, **changes)

    return [replace(clean(record), turns=tuple(clean(turn) for turn in record.turns)) for record in records]


def _utc(moment):
    from datetime import timezone
    return None if moment is None else moment.replace(tzinfo=timezone.utc)


SINCE = click.option("--since", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M"]), default=None,
                     help="Only calls started on or after this date (UTC), e.g. 2026-01-31.")
AS_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


@main.command(help="List the recorded calls, one line each: start, CallSid, caller (last four), "
                   "outcome, connector, duration, steps.")
@SINCE
@AS_JSON
def calls(since, as_json: bool) -> None:
    import json

    from ivr.records import db, reports

    records = db.load_calls(records_engine(), _utc(since))
    if as_json:  # json.dumps escapes control characters itself
        click.echo(json.dumps([reports.call_summary(c) for c in records], indent=2))
        return
    for record in _for_terminal(records):
        click.echo(reports.call_line(record))
    if not records:
        click.echo("no calls recorded" + (f" since {since:%Y-%m-%d}" if since else ""), err=True)


@main.command(help="What the calls say: outcomes, the step that released the connector, "
                   "where callers hung up, what the bot did not understand.")
@SINCE
@AS_JSON
def report(since, as_json: bool) -> None:
    import json

    from ivr.ocpi import report as station_report
    from ivr.records import db, reports

    engine = records_engine()
    records = db.load_calls(engine, _utc(since))
    stations = station_report.station_report(engine, _utc(since))   # the station back end's part (issue 14)
    if as_json:  # json.dumps escapes control characters itself
        click.echo(json.dumps({**reports.summarize(records), "by_car": reports.by_car(records),
                               "station_back_end": stations}, indent=2))
    else:
        shown = _for_terminal(records)
        click.echo(reports.report_text(reports.summarize(shown)) + reports.by_car_text(reports.by_car(shown)), nl=False)
        click.echo(station_report.report_text(stations), nl=False)


@main.command(help="Delete calls (and their turns) older than --days, or IVR_RETENTION_DAYS.")
@click.option("--days", type=click.IntRange(1, 36500), default=None,
              help="Keep this many days of calls.  [default: $IVR_RETENTION_DAYS]")
def purge(days: int | None) -> None:
    from ivr.records import db

    if days is None:
        raw = os.environ.get("IVR_RETENTION_DAYS", "").strip()
        if not raw.isdigit() or int(raw) < 1:
            raise click.ClickException("say how long to keep calls: --days N, or IVR_RETENTION_DAYS=N")
        days = int(raw)
    deleted = db.purge(records_engine(), days)
    click.echo(f"deleted {deleted} call{'s' if deleted != 1 else ''} older than {days} days")


@main.command(help="Copy the call records to FILE while the line runs (SQLite's online backup); "
                   "for PostgreSQL, use pg_dump.")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
def backup(file: str) -> None:
    from ivr.records import db

    engine = records_engine()
    if engine.dialect.name != "sqlite":
        raise click.ClickException("DATABASE_URL is PostgreSQL: back it up with pg_dump, e.g. "
                                   "pg_dump --format=custom --file=ivr.dump \"$DATABASE_URL\"")
    try:
        pages = db.backup(engine, file)
    except Exception as exc:
        raise click.ClickException(f"backup to {file} failed: {db.describe(exc)}") from None
    finally:
        engine.dispose()
    click.echo(f"backed up {pages} pages to {file}")


@main.command(help="Draw the flow for review: Mermaid text (paste into a Markdown file) or SVG.")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "svg"]), default="mermaid", show_default=True)
@click.option("--flow", "flow_name", default=lambda: os.environ.get("IVR_FLOW", content_module.DEFAULT_FLOW),
              show_default="$IVR_FLOW or stuck_connector")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file instead of standard output.")
def graph(fmt: str, flow_name: str, output: str | None) -> None:
    from ivr.tools import diagram

    try:
        settings = config.load(_dev_env())
        loaded = content_module.load(settings.flows_dir, settings.prompts_dir, flow_name)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    except ContentError as exc:
        raise click.ClickException(f"the flow has problems; run `ivr lint`: {exc.problems[0]}") from None
    if fmt == "svg":
        try:
            graphviz = extras.require("graphviz", "graph")
        except extras.MissingExtra as exc:
            raise click.ClickException(str(exc)) from None
        try:
            text = diagram.svg(loaded.flow)
        except graphviz.ExecutableNotFound:
            raise click.ClickException("SVG needs Graphviz's `dot`: apt-get install graphviz "
                                       "(or use --format mermaid)") from None
    else:
        text = diagram.mermaid(loaded.flow)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


def _reason(exc: BaseException) -> str:
    """The innermost cause of a network failure, on one line."""
    while exc.__cause__ is not None or (exc.args and isinstance(exc.args[0], BaseException)):
        exc = exc.__cause__ if exc.__cause__ is not None else exc.args[0]
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


@main.command("configure-number", help="Point a Twilio number at this app: voice URL, status callback "
                                       "and fallback URL, through the REST API (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN).")
@click.argument("number")
@click.option("--url", "base_url", required=True, help="The app's public base URL, e.g. https://ivr.example.com")
@click.option("--station", default=None, help="A station ID to record with every call to this number.")
def configure_number(number: str, base_url: str, station: str | None) -> None:

    import requests
    from twilio.base.exceptions import TwilioException, TwilioRestException
    from twilio.rest import Client

    from ivr.basics import phone
    from ivr.tools.numbers import NumberError, configure

    compact = phone.compact(number)
    if not phone.is_e164(compact):
        raise click.ClickException(f"{number!r} is not a phone number in E.164 form, e.g. +14155550123")
    sid, token = os.environ.get("TWILIO_ACCOUNT_SID", "").strip(), os.environ.get("TWILIO_AUTH_TOKEN", "").strip()
    if not sid or not token:
        raise click.ClickException("set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to your Twilio account's "
                                   "SID and auth token (Twilio console, Account Info)")
    try:
        changes = configure(Client(sid, token), compact, base_url, station)
    except NumberError as exc:
        raise click.ClickException(str(exc)) from None
    except TwilioRestException as exc:
        raise click.ClickException(f"Twilio refused: {exc.msg} (code {exc.code})") from None
    except (TwilioException, requests.RequestException, OSError) as exc:
        # No network, DNS, TLS, a proxy, a timeout: one line, not requests' traceback.
        raise click.ClickException(f"Twilio could not be reached: {_reason(exc)}") from None
    if not changes:
        click.echo(f"{compact}: already set, nothing changed")
    for change in changes:
        click.echo(f"{compact}: {change.field}: {change.before or '(none)'} -> {change.after}")


# The station back end's commands (issue 14): ivr/tools/stations.py.

main.add_command(_ocpi)
main.add_command(_stations)
