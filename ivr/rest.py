"""The Twilio REST client for use while a caller waits: it gives up in time.

twilio-python waits for an answer forever by default. A REST call made inside
a webhook (a text message, an update to the call) must end well inside the 15
seconds Twilio gives the webhook, so the fail-safe can still apologise and put
the caller through to a person.
"""
from __future__ import annotations

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

REST_TIMEOUT_S = 4


def client(account_sid: str | None, auth_token: str | None, timeout: float = REST_TIMEOUT_S) -> Client:
    return Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
