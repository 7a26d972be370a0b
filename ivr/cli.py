"""The `ivr` command: serve, call, lint."""
from __future__ import annotations

import os
import sys

import click

from . import config, content as content_module
from .config import ConfigError
from .content import ContentError


def _dev_env() -> dict:
    """The environment, with IVR_DEV=1 when there is no Twilio token (local use)."""
    env = dict(os.environ)
    if not env.get("TWILIO_AUTH_TOKEN"):
        env.setdefault("IVR_DEV", "1")
        # Twilio's magic test number: a local call can show the whole hand-off.
        env.setdefault("IVR_AGENT_NUMBER", "+15005550006")
    return env


def _app(env):
    from .app import create_app
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
def call(caller: str, confidence: float, script: tuple[str, ...]) -> None:
    from .simulator import Call

    env = _dev_env()
    app = _app(env)
    answers = list(script)
    interactive = not answers and sys.stdin.isatty()
    sim = Call(app.test_client(), env.get("TWILIO_AUTH_TOKEN") or None, caller=caller, confidence=confidence)

    def show(event) -> None:
        if event.kind == "say":
            click.secho(f"  bot: {event.text}", fg="cyan")
        elif event.kind == "dial":
            click.secho(f"  [ringing the agent line {event.text}]", fg="yellow")
            for line in event.detail.get("whisper", []):
                click.secho(f"  [agent hears: {line}]", fg="yellow")
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
            return click.prompt(prompt, default="", show_default=False, prompt_suffix="")
        except (EOFError, click.Abort):
            return None

    def answer(event):
        if event.kind == "listen":
            typed = next_typed("  you: ")
            return None if typed is None else sim.fields_for(typed)
        if event.kind == "dial":
            typed = next_typed("  [agent answers? y/n] ")
            if typed is None:
                return None
            return {"DialCallStatus": "completed" if typed.lower().startswith("y") else "no-answer",
                    "DialCallSid": "CA" + "1" * 32}
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
    ending = sim.run(answer, show)
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
    click.echo(f"ok: {loaded.flow.path}: {len(loaded.flow.nodes)} nodes, {questions} questions; "
               f"prompts in {', '.join(sorted(loaded.catalogs))}")
