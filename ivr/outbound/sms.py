"""Text messages through Twilio's REST API (never the deprecated <Sms> verb).

Sent from inside a webhook, so the REST call has a short timeout and no
retries: Twilio gives the whole webhook 15 seconds, and a caller who waits
in silence for a hanging API is worse off than one told "that didn't work".
Every failure comes back as a result with a reason; nothing here raises.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

log = logging.getLogger("ivr.sms")
# twilio-python logs every request (numbers included) at INFO; keep callers' numbers out of the logs.
_http_log = logging.getLogger("ivr.sms.http")
_http_log.setLevel(logging.WARNING)

REST_TIMEOUT = 4.0  # seconds; leaves room in Twilio's 15 s webhook budget
MAX_BODY = 600      # characters: a few SMS segments, never a wall of text
SENDER = re.compile(r"^(\+[1-9]\d{6,14}|MG[0-9a-fA-F]{32})$")
# Twilio error codes a caller can do something about, each told in its own words.
INVALID_NUMBER = {21211, 21614, 21217, 21401, 21407, 21408, 21612}
UNSUBSCRIBED = {21610}


@dataclass(frozen=True)
class Sender:
    """Who sends: the account, and a number or Messaging Service SID to send from."""

    account_sid: str
    auth_token: str
    from_: str

    @property
    def uses_messaging_service(self) -> bool:
        return self.from_.startswith("MG")


@dataclass(frozen=True)
class Result:
    """How a send went. `reason` is one of: sent, invalid_number, unsubscribed, unavailable."""

    reason: str
    sid: str | None = None
    error_code: int | None = None

    @property
    def ok(self) -> bool:
        return self.reason == "sent"


def sender(account_sid: str | None, auth_token: str | None, from_: str | None) -> Sender | None:
    """A Sender when texts are configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, IVR_SMS_FROM)."""
    if account_sid and auth_token and from_ and SENDER.match(from_):
        return Sender(account_sid, auth_token, from_)
    return None


def client(who: Sender) -> Client:
    http = TwilioHttpClient(timeout=REST_TIMEOUT, max_retries=0, logger=_http_log)
    return Client(who.account_sid, who.auth_token, http_client=http)


def send(who: Sender, to: str, body: str) -> Result:
    """Send one text; a REST error or a network failure becomes a Result, never an exception."""
    text = body if len(body) <= MAX_BODY else body[:MAX_BODY - 1] + "…"
    origin = {"messaging_service_sid": who.from_} if who.uses_messaging_service else {"from_": who.from_}
    try:
        message = client(who).messages.create(to=to, body=text, **origin)
    except TwilioRestException as exc:
        code = exc.code if isinstance(exc.code, int) else None
        reason = ("invalid_number" if code in INVALID_NUMBER else
                  "unsubscribed" if code in UNSUBSCRIBED else "unavailable")
        log.warning("text message refused: HTTP %s, Twilio error %s", exc.status, code)
        return Result(reason, error_code=code)
    except (TwilioException, requests.RequestException) as exc:
        log.warning("text message not sent: %s", type(exc).__name__)
        return Result("unavailable")
    return Result("sent", sid=message.sid)
