"""Point a Twilio number at this app, through Twilio's REST API.

`configure(client, number, base_url)` finds the number on the account, sets
its voice URL, status callback and fallback URL to this app's webhooks, and
returns what changed, so the operator sees exactly what was done.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from ivr.basics import ids

BASE_URL = re.compile(r"^https://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~/-]*)?$")


class NumberError(Exception):
    """The number or URL is wrong, or Twilio refused: the message says which."""


@dataclass(frozen=True)
class Change:
    field: str
    before: str | None
    after: str


def _refusal(exc: TwilioException) -> str:
    """twilio-python reports a failed list page with the HTTP response as its second argument."""
    response = exc.args[1] if len(exc.args) > 1 else None
    try:
        body = json.loads(response.text)  # type: ignore[union-attr]  # None: AttributeError, caught below
        return f"Twilio refused: {body['message']} (code {body['code']})"
    except (AttributeError, TypeError, ValueError, KeyError):
        return f"Twilio could not be reached: {exc.args[0] if exc.args else exc}"


def webhook_settings(base_url: str, station: str | None = None) -> dict[str, str]:
    """The number's Voice settings for an app at `base_url` (https only: Twilio signs it)."""
    base = base_url.strip().rstrip("/")
    if not BASE_URL.match(base):
        raise NumberError(f"{base_url!r} is not an https base URL, e.g. https://ivr.example.com")
    if station is not None and not ids.is_station_id(station):
        raise NumberError(f"{station!r} is not a station ID: letters, digits, '.', '_' or '-', at most 32")
    voice = f"{base}/voice" + (f"?{urlencode({'station': station})}" if station else "")
    return {
        "voice_url": voice,
        "voice_method": "POST",
        "voice_fallback_url": f"{base}/voice/fallback",
        "voice_fallback_method": "POST",
        "status_callback": f"{base}/voice/status",
        "status_callback_method": "POST",
    }


def configure(client: Client, number: str, base_url: str, station: str | None = None) -> list[Change]:
    """Update the number's webhooks; return the fields whose value changed."""
    wanted = webhook_settings(base_url, station)
    try:
        found = client.incoming_phone_numbers.list(phone_number=number, limit=2)
    except TwilioException as exc:
        raise NumberError(_refusal(exc)) from None
    exact = [n for n in found if n.phone_number == number]
    if not exact:
        raise NumberError(f"{number} is not a phone number on this Twilio account")
    current = exact[0]
    changes = [Change(name, getattr(current, name, None), value) for name, value in wanted.items()
               if getattr(current, name, None) != value]
    if changes:
        client.incoming_phone_numbers(current.sid).update(**wanted)
    return changes
