"""/dashboard/recordings/<RecordingSid>.mp3: a voicemail, fetched through the console.

Twilio's recording URLs can need the account's credentials (HTTP basic auth with
the account SID and auth token), which a browser must never hold: the server
fetches the MP3 and streams it to the operator, behind the console's password.
Only a recording this line recorded, from Twilio's API host, is fetched.
"""
from __future__ import annotations

import re
from urllib.parse import urlparse

import requests
from flask import Blueprint, Response, abort, stream_with_context

from ivr.records import console as records
from ivr.web.services import services
from ivr.web.views.console import common, gate

bp = gate.protect(Blueprint("console_recordings", __name__, url_prefix="/dashboard/recordings"))
RECORDING_SID = re.compile(r"RE[0-9a-fA-F]{32}")
TWILIO_HOSTS = re.compile(r"api(\.[a-z0-9-]+)*\.twilio\.com")
TIMEOUT = (3.05, 20)


@bp.get("/<recording_sid>.mp3")
def recording(recording_sid: str):
    if not RECORDING_SID.fullmatch(recording_sid):
        abort(404)
    found = records.recording_of(common.engine(), recording_sid)
    url = (found or {}).get("recording_url") or ""
    parsed = urlparse(url)
    if parsed.scheme != "https" or not TWILIO_HOSTS.fullmatch(parsed.hostname or ""):
        abort(404)
    settings = services().settings
    auth = (settings.account_sid, settings.auth_token) if settings.account_sid and settings.auth_token else None
    mp3 = url if url.endswith(".mp3") else url + ".mp3"
    try:
        upstream = requests.get(mp3, auth=auth, stream=True, timeout=TIMEOUT)
    except requests.RequestException as exc:
        common.log.warning("dashboard: recording %s could not be fetched (%s)", recording_sid, type(exc).__name__)
        return Response("Twilio could not be reached for this recording.\n", 502, mimetype="text/plain")
    if upstream.status_code != 200:
        upstream.close()
        common.log.warning("dashboard: recording %s: Twilio answered %s", recording_sid, upstream.status_code)
        return Response("Twilio did not give this recording.\n", 502, mimetype="text/plain")
    return Response(stream_with_context(upstream.iter_content(16384)), mimetype="audio/mpeg",
                    headers={"Cache-Control": "no-store"})
