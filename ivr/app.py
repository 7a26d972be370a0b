"""The application factory: settings, content and database, wired once.

Gunicorn starts it as ``ivr.app:create_app()`` (see the Procfile). Anything
wrong with the settings or the flow stops start-up with a clear message.
"""
from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from typing import Mapping

from flask import Flask
from sqlalchemy.exc import ArgumentError
from werkzeug.middleware.proxy_fix import ProxyFix

from . import alerts, config, content as content_module, db, sms
from .config import ConfigError, Settings
from .content import Content, ContentError

log = logging.getLogger("ivr")


@dataclass(frozen=True)
class Services:
    """What the webhooks need, built once per process."""

    settings: Settings
    content: Content
    recorder: db.Recorder
    alerts: alerts.Dispatcher


def services() -> Services:
    from flask import current_app
    return current_app.extensions["ivr"]


def _configure_logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _prepare_database(engine, settings: Settings) -> None:
    """Upgrade the schema, then drop calls past retention; a database that is down
    must not stop the line: calls go on unrecorded, and the log says why."""
    try:
        db.migrate(engine)
        if settings.retention_days:
            db.purge(engine, settings.retention_days)
    except Exception:  # noqa: BLE001 - the phone line matters more than its records
        log.exception("the database at DATABASE_URL is not usable; calls go on without being recorded")


def create_app(env: Mapping[str, str] | None = None, *, log_errors: bool = True) -> Flask:
    """Build the app from `env` (default: the process environment)."""
    _configure_logging()
    env = os.environ if env is None else env
    try:
        settings = config.load(env)
        content = content_module.load(settings.flows_dir, settings.prompts_dir,
                                      env.get("IVR_FLOW") or content_module.DEFAULT_FLOW)
        config.check_production(settings, content.escalation.support_number or settings.support_number)
    except (ConfigError, ContentError) as exc:
        if log_errors:  # gunicorn shows a traceback; put the reason on one clear line first
            log.error("ivr cannot start: %s", exc)
        raise
    for language in {settings.agent_language, *settings.number_languages.values()}:
        if language not in content.catalogs:
            exc = ConfigError(f"no prompts/{language}.yaml for a language named in IVR_AGENT_LANGUAGE or IVR_NUMBER_LANGUAGES")
            if log_errors:
                log.error("ivr cannot start: %s", exc)
            raise exc
    if settings.dev and not settings.auth_token:
        log.warning("IVR_DEV=1 and no TWILIO_AUTH_TOKEN: webhook signatures are NOT checked. "
                    "Never expose this server to the internet.")

    app = Flask(__name__)
    app.debug = False  # a stray FLASK_DEBUG=1 must not change error handling in production
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.json.sort_keys = True
    if not settings.public_url:
        # One trusted hop (a Heroku-style router) terminates TLS and says so.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    try:
        engine = db.connect(settings.database_url)
    except ArgumentError as exc:
        exc = ConfigError(f"DATABASE_URL is not a database URL ({exc}): expected e.g. "
                          "sqlite:///ivr.db or postgresql://user:password@host:5432/name")
        if log_errors:
            log.error("ivr cannot start: %s", exc)
        raise exc from None
    _prepare_database(engine, settings)
    recorder = db.Recorder(engine)
    channels = alerts.Channels(
        sms_to=settings.alert_sms_to, webhook_url=settings.alert_webhook_url,
        webhook_secret=settings.alert_webhook_secret,
        sender=sms.sender(settings.account_sid, settings.auth_token, settings.sms_from))
    if not channels.names and not settings.dev:
        log.warning("no hazard alert channel is set (IVR_ALERT_WEBHOOK_URL, IVR_ALERT_SMS_TO): "
                    "hazards are recorded, but nobody is told at once")
    app.extensions["ivr"] = Services(settings, content, recorder, alerts.Dispatcher(recorder, channels))

    from .views import dashboard, handoff, health, voice
    app.register_blueprint(health.bp)
    app.register_blueprint(voice.bp)
    app.register_blueprint(handoff.bp)
    app.register_blueprint(dashboard.bp)
    return app
