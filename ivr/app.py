"""The application factory: settings, content and database, wired once.

Gunicorn starts it as ``ivr.app:create_app(migrate_in_child=True)`` (see the Procfile). Anything
wrong with the settings or the flow stops start-up with a clear message.
"""
from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime

from flask import Blueprint, Flask, Response
from sqlalchemy.exc import ArgumentError

from ivr import config, extras
from ivr import content as content_module
from ivr.config import ConfigError, Settings
from ivr.content import ContentError
from ivr.extras import MissingExtra
from ivr.ocpi import init_app as init_station
from ivr.ocpi import views as station_views
from ivr.outbound import alerts, sms
from ivr.records import db
from ivr.web import logs, proxies
from ivr.web.services import Services
from ivr.web.views import (  # noqa: F401  (messages, station: routes on handoff.bp)
    guards,
    handoff,
    health,
    messages,
    station,
    voice,
)

# The agent's unlock key is a Twilio webhook like the others: signature checked, and
# on any error the agent's leg is bridged (ivr/ocpi/views.py).
guards.guard(station_views.agent_bp, station_views.agent_fail_safe)

log = logging.getLogger("ivr")
settings_log = logging.getLogger(logs.SETTINGS_LOGGER)


def _configure_logging() -> None:
    logs.install()  # phone numbers masked in every record, whoever logs it
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _refuse(exc: Exception) -> None:
    """One clear line per problem (gunicorn.conf.py keeps the traceback that follows
    out of the log). On ivr.settings, whose records keep their numbers: they are the
    operator's own settings and the documented examples, never a caller's."""
    problems = exc.problems if isinstance(exc, ContentError) else [exc]
    for problem in problems:
        settings_log.error("ivr cannot start: %s", problem)


def _prepare_database(engine, settings: Settings, migrate_in_child: bool) -> None:
    """Upgrade the schema, then drop calls past retention; a database that is down
    must not stop the line: calls go on unrecorded, and the log says why.

    Then close every connection: gunicorn forks the workers from this process
    (preload_app), and a SQLite connection open across a fork leaves the workers
    with SQLite's in-process lock bookkeeping but none of the file locks, so
    another reader (`ivr calls`, a backup) takes itself for the last one and
    deletes the WAL under them: records silently lost (issue 12).
    """
    try:
        db.migrate(engine, in_child=migrate_in_child)
        if settings.retention_days:
            db.purge(engine, settings.retention_days)
    except Exception as exc:
        log.error("the database at DATABASE_URL is not usable (%s); calls go on without being recorded",
                  db.describe(exc))
    finally:
        engine.dispose()


def _dashboard() -> tuple[tuple[Blueprint, ...], str | None]:
    """The console's pages (the overview and ivr.web.views.console); without the
    `dashboard` extra (plotly, whose script the charts load), one page that says so,
    and that one line."""
    if not extras.present("dashboard"):
        message = str(extras.MissingExtra("dashboard"))
        stub = Blueprint("dashboard", __name__, url_prefix="/dashboard")
        for rule, name in (("", "page"), ("/", "index"), ("/<path:rest>", "rest")):
            stub.add_url_rule(rule, name, lambda **_: Response(message + "\n", 503, mimetype="text/plain"))
        return (stub,), message
    from ivr.web.views import dashboard
    from ivr.web.views.console import blueprints
    return (dashboard.bp, *blueprints.ALL), None


def create_app(env: Mapping[str, str] | None = None, *, log_errors: bool = True,
               clock: Callable[[], datetime] | None = None,
               content: content_module.Content | None = None, migrate_in_child: bool = False) -> Flask:
    """Build the app from `env` (default: the process environment).

    `migrate_in_child`: upgrade the database schema in a forked child process, so
    that this process never loads alembic. The Procfile asks for it: gunicorn's
    workers are forked from this process and would each carry alembic's memory.

    `clock`: the time now, an aware datetime (default: the system's, in UTC).
    `content`: the flow and prompts already loaded from the settings' folders (the
    tests load them once per session); by default they are loaded here."""
    _configure_logging()
    env = os.environ if env is None else env
    try:
        settings = config.load(env)
        if content is None:
            content = content_module.load(settings.flows_dir, settings.prompts_dir,
                                          env.get("IVR_FLOW") or content_module.DEFAULT_FLOW)
        config.check_production(settings, content.escalation.support_number or settings.support_number)
        trusted = proxies.trusted_networks(env)
    except (ConfigError, ContentError) as exc:
        if log_errors:
            _refuse(exc)
        raise
    for language in {settings.agent_language, *settings.number_languages.values()}:
        if language not in content.catalogs:
            missing = ConfigError(f"no prompts/{language}.yaml for a language named in IVR_AGENT_LANGUAGE or IVR_NUMBER_LANGUAGES")
            if log_errors:
                _refuse(missing)
            raise missing
    if settings.dev and not settings.auth_token:
        log.warning("IVR_DEV=1 and no TWILIO_AUTH_TOKEN: webhook signatures are NOT checked. "
                    "Never expose this server to the internet.")

    app = Flask(__name__)
    app.debug = False  # a stray FLASK_DEBUG=1 must not change error handling in production
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.json.sort_keys = True  # type: ignore[attr-defined]  # the default provider's setting
    # One proxy hop, if it is one we trust (IVR_TRUSTED_PROXIES), says who the client
    # is and, without IVR_PUBLIC_URL, the public scheme and host Twilio called.
    hop = 0 if settings.public_url else 1
    app.wsgi_app = proxies.TrustedProxies(app.wsgi_app, trusted, x_proto=hop, x_host=hop)  # type: ignore[method-assign]  # as Flask documents

    try:
        engine = db.connect(settings.database_url)
    except MissingExtra as exc:
        no_driver = ConfigError(f"DATABASE_URL: {exc}")
        if log_errors:
            _refuse(no_driver)
        raise no_driver from None
    except ArgumentError as exc:
        bad_url = ConfigError(f"DATABASE_URL is not a database URL ({exc}): expected e.g. "
                              "sqlite:///ivr.db or postgresql://user:password@host:5432/name")
        if log_errors:
            _refuse(bad_url)
        raise bad_url from None
    _prepare_database(engine, settings, migrate_in_child)
    recorder = db.Recorder(engine)
    channels = alerts.Channels(
        sms_to=settings.alert_sms_to, webhook_url=settings.alert_webhook_url,
        webhook_secret=settings.alert_webhook_secret,
        sender=sms.sender(settings.account_sid, settings.auth_token, settings.sms_from))
    if not channels.names and not settings.dev:
        log.warning("no hazard alert channel is set (IVR_ALERT_WEBHOOK_URL, IVR_ALERT_SMS_TO): "
                    "hazards are recorded, but nobody is told at once")
    services = Services(settings, content, recorder, alerts.Dispatcher(recorder, channels))
    app.extensions["ivr"] = services if clock is None else replace(services, clock=clock)

    app.register_blueprint(health.bp)
    app.register_blueprint(voice.bp)
    app.register_blueprint(handoff.bp)   # the hand-off's webhooks: handoff, messages, station
    dashboard, no_plotly = _dashboard()
    if no_plotly and settings.dashboard_password:
        log.error("IVR_DASHBOARD_PASSWORD is set, but %s", no_plotly)
    for page in dashboard:   # the operators' console (issue 17)
        app.register_blueprint(page)
    try:   # the station back end (issue 14): `none` unless configured; /ocpi endpoints
        init_station(app, env)
    except ConfigError as exc:
        if log_errors:
            log.error("ivr cannot start: %s", exc)
        raise
    return app
