"""Settings read from the environment, checked once at start-up.

A phone line that starts with a wrong agent number fails the one caller who
needs a person most, so every value is validated here and a bad one stops
start-up with the variable's name and the form it should take.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ivr.basics import ids, phone
from ivr.config.ratelimit import BadLimit, RateLimit
from ivr.config.ratelimit import parse as parse_rate_limit

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # ivr/
DEFAULT_DATABASE_URL = "sqlite:///ivr.db"


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    auth_token: str | None
    account_sid: str | None
    agent_number: str | None
    database_url: str
    public_url: str | None
    dev: bool
    support_number: str | None
    caller_id: str | None
    flows_dir: Path
    prompts_dir: Path
    dial_timeout: int
    agent_language: str = "en-US"
    number_languages: dict = field(default_factory=dict)
    dashboard_password: str | None = None
    retention_days: int | None = None
    sms_from: str | None = None  # a number or Messaging Service SID texts are sent from
    rate_limit: RateLimit | None = None  # calls per caller number; None: no limit
    agent_cap: RateLimit | None = None   # how often one number may ring the agents; None: no cap
    resume_minutes: int = 15             # a caller back within this long is offered to carry on
    callback_international: bool = False  # a call back may ring another country than the caller's
    alert_sms_to: str | None = None      # the operator's on-call number for hazard alerts
    alert_webhook_url: str | None = None
    alert_webhook_secret: str | None = None

    @property
    def check_signatures(self) -> bool:
        return bool(self.auth_token)


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _phone(env: Mapping[str, str], name: str) -> str | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    number = phone.e164(raw)
    if number is None:
        raise ConfigError(
            f"{name}={raw!r} is not a phone number in E.164 form: "
            "a plus sign, the country code and the number, e.g. +14155550123"
        )
    return number


def _data_dir(env: Mapping[str, str], name: str, folder: str) -> Path:
    """Find flows/ or prompts/: the variable, then the working directory, then the checkout."""
    if env.get(name):
        path = Path(env[name])
        if not path.is_dir():
            raise ConfigError(f"{name}={env[name]!r} is not a directory")
        return path
    for candidate in (Path.cwd() / folder, PACKAGE_ROOT.parent / folder, PACKAGE_ROOT / f"_{folder}"):
        if candidate.is_dir():
            return candidate
    raise ConfigError(
        f"no {folder}/ directory found: run from the project folder or set {name}"
    )


def _public_url(env: Mapping[str, str]) -> str | None:
    raw = (env.get("IVR_PUBLIC_URL") or "").strip().rstrip("/")
    if not raw:
        return None
    if not re.match(r"^https?://[^/\s]+(/\S*)?$", raw):
        raise ConfigError(
            f"IVR_PUBLIC_URL={raw!r} is not a base URL: expected e.g. https://ivr.example.com"
        )
    return raw


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is out of range: expected {low} to {high}")
    return value


def load(env: Mapping[str, str]) -> Settings:
    """Build Settings from an environment mapping, or raise ConfigError."""
    auth_token = (env.get("TWILIO_AUTH_TOKEN") or "").strip() or None
    dev = _flag(env.get("IVR_DEV"))
    if not auth_token and not dev:
        raise ConfigError(
            "TWILIO_AUTH_TOKEN is not set, so webhook signatures cannot be checked. "
            "Set it to your Twilio auth token, or set IVR_DEV=1 for local development."
        )
    account_sid = (env.get("TWILIO_ACCOUNT_SID") or "").strip() or None
    if account_sid and not re.match(r"^AC[0-9a-fA-F]{32}$", account_sid):
        raise ConfigError(
            f"TWILIO_ACCOUNT_SID={account_sid!r} is not an account SID: expected AC and 32 hex digits"
        )
    return Settings(
        auth_token=auth_token,
        account_sid=account_sid,
        agent_number=_phone(env, "IVR_AGENT_NUMBER"),
        database_url=(env.get("DATABASE_URL") or DEFAULT_DATABASE_URL).strip(),
        public_url=_public_url(env),
        dev=dev,
        support_number=_phone(env, "IVR_SUPPORT_NUMBER"),
        caller_id=_phone(env, "IVR_CALLER_ID"),
        flows_dir=_data_dir(env, "IVR_FLOWS_DIR", "flows"),
        prompts_dir=_data_dir(env, "IVR_PROMPTS_DIR", "prompts"),
        dial_timeout=_int(env, "IVR_DIAL_TIMEOUT", 25, 5, 120),
        agent_language=_language(env, "IVR_AGENT_LANGUAGE") or "en-US",
        number_languages=_number_languages(env),
        dashboard_password=(env.get("IVR_DASHBOARD_PASSWORD") or "").strip() or None,
        retention_days=_int(env, "IVR_RETENTION_DAYS", 0, 1, 36500) or None,
        sms_from=_sms_from(env),
        rate_limit=_rate_limit(env),
        agent_cap=_rate_limit(env, "IVR_AGENT_CAP", default="off"),
        resume_minutes=_int(env, "IVR_RESUME_MINUTES", 15, 0, 240),
        callback_international=_flag(env.get("IVR_CALLBACK_INTERNATIONAL")),
        alert_sms_to=_phone(env, "IVR_ALERT_SMS_TO"),
        alert_webhook_url=_webhook_url(env),
        alert_webhook_secret=(env.get("IVR_ALERT_WEBHOOK_SECRET") or "").strip() or None,
    )


def _rate_limit(env: Mapping[str, str], name: str = "IVR_RATE_LIMIT", default: str | None = None) -> RateLimit | None:
    try:
        return parse_rate_limit(env.get(name) or default)
    except BadLimit as exc:
        raise ConfigError(f"{name}={exc}") from None


def _webhook_url(env: Mapping[str, str]) -> str | None:
    """IVR_ALERT_WEBHOOK_URL: https, or http to this machine only (a local relay, tests)."""
    raw = (env.get("IVR_ALERT_WEBHOOK_URL") or "").strip()
    if not raw:
        return None
    if not (re.match(r"^https://[^/\s]+(/\S*)?$", raw)
            or re.match(r"^http://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?(/\S*)?$", raw)):
        raise ConfigError(f"IVR_ALERT_WEBHOOK_URL={raw!r} is not an https URL "
                          "(plain http is allowed only to localhost), e.g. https://ops.example.com/ivr-alerts")
    return raw


def check_production(settings: Settings, support_number: str | None) -> None:
    """What a line in service must have; IVR_DEV=1 waives it for local development."""
    if settings.dev:
        return
    if not settings.agent_number:
        raise ConfigError("IVR_AGENT_NUMBER is not set: the live-agent line, in E.164 form, e.g. +14155550123")
    if not support_number:
        raise ConfigError("IVR_SUPPORT_NUMBER is not set: the support line read aloud when nobody answers, "
                          "above all after a hazard, in E.164 form, e.g. +18005550199")
    if settings.alert_sms_to and not (settings.account_sid and settings.sms_from):
        raise ConfigError("IVR_ALERT_SMS_TO needs TWILIO_ACCOUNT_SID and IVR_SMS_FROM to send hazard alerts by text")


def _sms_from(env: Mapping[str, str]) -> str | None:
    """IVR_SMS_FROM: an SMS-capable Twilio number (E.164) or a Messaging Service SID (MG...)."""
    raw = phone.compact(env.get("IVR_SMS_FROM"))
    if raw and not (phone.is_e164(raw) or re.match(r"^MG[0-9a-fA-F]{32}$", raw)):
        raise ConfigError(f"IVR_SMS_FROM={raw!r} is not a number in E.164 form (+14155550123) "
                          "or a Messaging Service SID (MG and 32 hex digits)")
    return raw or None


def _language(env: Mapping[str, str], name: str) -> str | None:
    raw = (env.get(name) or "").strip()
    if raw and not ids.is_language_tag(raw):
        raise ConfigError(f"{name}={raw!r} is not a language tag: expected e.g. en-US or es-US")
    return raw or None


def _number_languages(env: Mapping[str, str]) -> dict[str, str]:
    """IVR_NUMBER_LANGUAGES="+18005550199=es-US,+18005550100=en-US": a line per language."""
    raw = (env.get("IVR_NUMBER_LANGUAGES") or "").strip()
    result = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        number, _, language = item.partition("=")
        number = phone.compact(number)
        if not phone.is_e164(number) or not ids.is_language_tag(language.strip()):
            raise ConfigError(
                f"IVR_NUMBER_LANGUAGES: {item!r} is not NUMBER=LANGUAGE, e.g. +18005550199=es-US")
        result[number] = language.strip()
    return result
