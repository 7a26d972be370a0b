"""An OCPI 2.2.1 client: the few calls the line makes to a CPO, over `requests`.

Every request carries `Authorization: Token <base64 of the token>`, a fresh
`X-Request-ID` and the operation's `X-Correlation-ID`; every answer is unwrapped
from OCPI's envelope (`data`, `status_code`, `timestamp`). Every request is
bounded by a `Budget`, so a slow CPO costs a webhook a few seconds at most.
Failures raise `OcpiError` with the Outcome they mean (DOWN, TIMEOUT, ...);
`service.py` turns them into values for the engine.
"""
from __future__ import annotations

import base64
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from .backend import Outcome

log = logging.getLogger("ivr.ocpi")

VERSION = "2.2.1"
# The role we want each module in: the CPO sends Locations and Sessions, receives Commands.
WANTED_ROLES = {"locations": "SENDER", "sessions": "SENDER", "commands": "RECEIVER", "credentials": None}
MAX_PAGES = 200          # a full sync of a very large CPO; inside a webhook far fewer (see callers)


class OcpiError(Exception):
    def __init__(self, outcome: Outcome, detail: str, *, status: int | None = None, ocpi_code: int | None = None):
        super().__init__(detail)
        self.outcome = outcome
        self.detail = detail
        self.status = status
        self.ocpi_code = ocpi_code


class Budget:
    """The time one operation may still take; each request gets what is left, capped."""

    def __init__(self, seconds: float, per_request: float = 4.0):
        self.deadline = time.monotonic() + seconds
        self.per_request = per_request

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def timeout(self) -> tuple[float, float]:
        left = self.left()
        if left <= 0.05:
            raise OcpiError(Outcome.TIMEOUT, "out of time before the next request to the CPO")
        read = min(left, self.per_request)
        return (min(read, 2.0), read)


def auth_header(token: str) -> str:
    """OCPI 2.2.1: `Token ` and the credentials token in Base64."""
    return "Token " + base64.b64encode(token.encode()).decode("ascii")


def token_of(header: str | None) -> str | None:
    """The token in an incoming Authorization header (2.2.1 Base64; a 2.1.1-style plain
    token is accepted too, as the spec's note on decoding allows)."""
    if not header or not header.startswith("Token "):
        return None
    raw = header[6:].strip()
    try:
        decoded = base64.b64decode(raw, validate=True).decode("ascii")
        if decoded and decoded.isprintable():
            return decoded
    except (ValueError, UnicodeDecodeError):
        pass
    return raw or None


@dataclass
class Page:
    items: list
    total: int | None
    limit: int | None
    next_url: str | None


class OcpiClient:
    """One CPO, at its versions URL, with one token."""

    def __init__(self, versions_url: str, token: str, *, http: requests.Session | None = None):
        self.versions_url = versions_url
        self.token = token
        self.http = http or requests.Session()
        self.http.trust_env = False   # no proxy from the environment between us and the CPO

    # -- the transport ---------------------------------------------------------------

    def call(self, method: str, url: str, budget: Budget, *, json=None, params=None,
             correlation_id: str | None = None) -> tuple[object, requests.Response]:
        headers = {"Authorization": auth_header(self.token), "X-Request-ID": str(uuid.uuid4()),
                   "X-Correlation-ID": correlation_id or str(uuid.uuid4()), "Accept": "application/json"}
        host = urlsplit(url).netloc
        try:
            response = self.http.request(method, url, headers=headers, json=json, params=params,
                                         timeout=budget.timeout(), allow_redirects=False)
        except requests.Timeout:
            raise OcpiError(Outcome.TIMEOUT, f"the CPO at {host} did not answer in time") from None
        except requests.RequestException as exc:
            raise OcpiError(Outcome.DOWN, f"the CPO at {host} cannot be reached ({type(exc).__name__})") from None
        if response.status_code in (401, 403):
            raise OcpiError(Outcome.DOWN, f"the CPO at {host} refused our token (HTTP {response.status_code})",
                            status=response.status_code)
        try:
            body = response.json()
        except ValueError:
            raise OcpiError(Outcome.DOWN, f"the CPO at {host} answered HTTP {response.status_code} "
                                          "without OCPI's JSON", status=response.status_code) from None
        if not isinstance(body, dict) or "status_code" not in body:
            raise OcpiError(Outcome.DOWN, f"the CPO at {host} answered HTTP {response.status_code} "
                                          "outside OCPI's envelope", status=response.status_code)
        code = body.get("status_code")
        if response.status_code >= 400 or not isinstance(code, int) or not 1000 <= code < 2000:
            message = str(body.get("status_message") or "")[:120]
            outcome = Outcome.UNKNOWN if isinstance(code, int) and 2000 <= code < 3000 else Outcome.DOWN
            raise OcpiError(outcome, f"the CPO answered OCPI {code} (HTTP {response.status_code})"
                                     + (f": {message}" if message else ""),
                            status=response.status_code, ocpi_code=code if isinstance(code, int) else None)
        return body.get("data"), response

    # -- Versions --------------------------------------------------------------------

    def version_url(self, budget: Budget) -> str:
        data, _ = self.call("GET", self.versions_url, budget)
        if not isinstance(data, list):
            raise OcpiError(Outcome.DOWN, "the versions endpoint did not answer with a list of versions")
        for entry in data:
            if isinstance(entry, dict) and entry.get("version") == VERSION and entry.get("url"):
                return entry["url"]
        offered = ", ".join(str(e.get("version")) for e in data if isinstance(e, dict)) or "none"
        raise OcpiError(Outcome.DOWN, f"the CPO offers no OCPI {VERSION} (it offers: {offered})")

    def endpoints(self, budget: Budget) -> dict[str, str]:
        """{module identifier: url} from the 2.2.1 version details, in the roles we need."""
        data, _ = self.call("GET", self.version_url(budget), budget)
        if not isinstance(data, dict) or not isinstance(data.get("endpoints"), list):
            raise OcpiError(Outcome.DOWN, "the version details have no list of endpoints")
        found: dict[str, str] = {}
        for endpoint in data["endpoints"]:
            if not isinstance(endpoint, dict):
                continue
            identifier, role, url = endpoint.get("identifier"), endpoint.get("role"), endpoint.get("url")
            if identifier not in WANTED_ROLES or not url:
                continue
            wanted = WANTED_ROLES[identifier]
            if wanted is None or role == wanted:
                found[identifier] = url
            else:
                found.setdefault(identifier, url)   # only role offered: better than nothing
        return found

    # -- lists with pagination ---------------------------------------------------------

    def page(self, url: str, budget: Budget, params=None, correlation_id=None) -> Page:
        data, response = self.call("GET", url, budget, params=params, correlation_id=correlation_id)
        if not isinstance(data, list):
            raise OcpiError(Outcome.DOWN, "a list endpoint answered without a list")

        def number(name):
            value = response.headers.get(name)
            return int(value) if value and value.isdigit() else None
        next_link = response.links.get("next", {}).get("url")
        return Page(data, number("X-Total-Count"), number("X-Limit"), next_link)

    def pages(self, url: str, budget: Budget, params=None, *, max_pages: int = MAX_PAGES,
              correlation_id: str | None = None) -> Iterator[Page]:
        """Each page in turn, following `Link: <...>; rel="next"` (which carries the
        filters), at most `max_pages`; a link seen before ends the walk."""
        seen = set()
        correlation_id = correlation_id or str(uuid.uuid4())
        page = self.page(url, budget, params, correlation_id)
        for _ in range(max_pages):
            yield page
            if not page.next_url or page.next_url in seen or not page.items:
                return
            seen.add(page.next_url)
            page = self.page(page.next_url, budget, None, correlation_id)

    # -- single objects and commands -------------------------------------------------

    def evse(self, locations_url: str, location_id: str, evse_uid: str, budget: Budget) -> dict:
        data, _ = self.call("GET", f"{locations_url.rstrip('/')}/{location_id}/{evse_uid}", budget)
        if not isinstance(data, dict):
            raise OcpiError(Outcome.DOWN, "the EVSE endpoint answered without an EVSE")
        return data

    def command(self, commands_url: str, command: str, body: dict, budget: Budget) -> dict:
        """POST a command; the synchronous CommandResponse {result, timeout, message?}."""
        data, _ = self.call("POST", f"{commands_url.rstrip('/')}/{command}", budget, json=body)
        if not isinstance(data, dict) or not isinstance(data.get("result"), str):
            raise OcpiError(Outcome.DOWN, "the CPO answered the command without a CommandResponse object")
        return data
