"""What every webhook shares: Twilio's signature, the fail-safe, reading the
request and writing TwiML back.

Both blueprints (the call, the hand-off) install the same guards with
`guard(bp)`, so no webhook can forget the signature check or the apology.
"""
from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Mapping
from functools import lru_cache
from urllib.parse import urlencode

from flask import Response, current_app, request, url_for
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import BuildError
from werkzeug.sansio.utils import get_current_url

from ivr.basics import ids
from ivr.web import twiml
from ivr.web.security import raw_path
from ivr.web.services import services

log = logging.getLogger("ivr.voice")

# What Twilio can send, with room to spare; anything longer is cut before any
# view reads it, so no reader ever sees more (issue 12: a signed 60 kB
# SpeechResult took 21 s to read and the worker was killed). Speech: Twilio
# stops listening after maxSpeechTime, 60 s at most; very fast speech is about
# 250 words a minute, and an English word with its space about 6 characters,
# so one answer is at most about 1,500 characters. Digits: the longest keyed
# entry is a call-back number (011, a country code, up to 15 digits, '#').
# A voicemail's transcription: 120 s of speech (the most Twilio transcribes).
FIELD_CAPS = {"SpeechResult": 1500, "UnstableSpeechResult": 1500, "Digits": 32, "TranscriptionText": 3000}
OTHER_FIELD_CAP = 1000  # numbers, SIDs, statuses, URLs (RecordingUrl, ErrorUrl)


def capped(name: str, value: str) -> str:
    cap = FIELD_CAPS.get(name, OTHER_FIELD_CAP)
    if len(value) <= cap:
        return value
    cut = value[:cap]
    if name in ("SpeechResult", "UnstableSpeechResult", "TranscriptionText") and " " in cut:
        cut = cut.rsplit(" ", 1)[0]  # a whole last word
    return cut


def cap_fields() -> None:
    """Cut every form field to what Twilio can send, after the signature (which covers them whole)."""
    form = request.form
    if any(len(value) > FIELD_CAPS.get(name, OTHER_FIELD_CAP) for name, value in form.items(multi=True)):
        log.warning("webhook %s for call %s: fields longer than Twilio sends, cut", request.path,
                    (form.get("CallSid") or "?")[:64])
        request.form = ImmutableMultiDict([(name, capped(name, value)) for name, value in form.items(multi=True)])


def _field(name: str) -> str | None:
    """A form field, or None when the body itself is what failed."""
    try:
        return request.form.get(name)
    except Exception:
        return None


def xml(response) -> Response:
    return Response(twiml.render(response), status=200, mimetype="text/xml")


# How werkzeug's url_for writes a query (werkzeug.urls._urlencode): `absolute` writes it
# the same way, tests/test_twiml_cache.py holds it to url_for's own answer.
QUERY_SAFE = "!$'()*,/:;?@"
_bases: dict[tuple, str] = {}


def host_url() -> str:
    """request.host_url, worked out by werkzeug once per scheme and host: Twilio calls
    one or two hosts, and building the URL (IDNA and all) cost 2% of a webhook."""
    return _host_url(request.scheme, request.host)


@lru_cache(maxsize=64)
def _host_url(scheme: str, host: str) -> str:
    return get_current_url(scheme, host)


def absolute(endpoint: str, **params) -> str:
    """url_for(endpoint, **params), external, or under IVR_PUBLIC_URL.

    The endpoint's URL is looked up once per app and host, and the query written
    here: url_for's rule matching cost more than the rest of the reply (issue 16).
    """
    public = services().settings.public_url
    key = (current_app._get_current_object(), endpoint, public, None if public else host_url())  # type: ignore[attr-defined]
    base = _bases.get(key)
    if base is None:
        try:
            base = public + url_for(endpoint) if public else url_for(endpoint, _external=True)
        except BuildError:   # a rule with variables in its path: url_for itself, every time
            return public + url_for(endpoint, **params) if public else url_for(endpoint, _external=True, **params)
        if len(_bases) > 256:   # hosts are few; a flood of Host headers must not grow this
            _bases.clear()
        _bases[key] = base
    written = query(params)
    return f"{base}?{written}" if written else base


def query(params: Mapping[str, str | None]) -> str:
    """A call's state as a query string, as url_for writes it; None values left out.

    A turn writes the same state twice, into the next action URL and into the call's
    record (to resume a dropped call): the second costs a lookup (issue 16)."""
    return _query(tuple(params.items()))


@lru_cache(maxsize=64)
def _query(items: tuple[tuple[str, str | None], ...]) -> str:
    return urlencode([(k, v) for k, v in items if v is not None], safe=QUERY_SAFE)


def request_key() -> str:
    """Same webhook, same key: Twilio's retries are recorded once.

    The raw path and the body's fields in a fixed order, as they arrived: a retry is
    the same request again, and hashing the raw pairs skips decoding them twice."""
    pairs = sorted(request.get_data(cache=True).split(b"&"))
    return hashlib.sha256(raw_path(request.environ).encode() + b"\0" + b"&".join(pairs)).hexdigest()[:40]


def confidence() -> float | None:
    try:
        value = float(request.form.get("Confidence", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) and 0.0 <= value <= 1.0 else None


def call_sid() -> str:
    return (request.form.get("CallSid") or "unknown")[:64]


def station_id() -> str | None:
    """The station a number stands for: ?station=ID on its voice URL (ivr configure-number --station)."""
    raw = request.args.get("station", "")
    return raw if ids.is_station_id(raw) else None


def voice_for(lang: str | None) -> twiml.Voice:
    content = services().content
    catalog = content.catalogs.get(lang or "") or content.catalogs[content.default_language]
    return twiml.Voice(catalog.voice, catalog.language)
