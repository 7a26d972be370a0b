"""The console's door: the dashboard's password (HTTP basic auth, any user name),
its throttle on wrong guesses, and a strict Content-Security-Policy, on every
blueprint of the console: pages, live JSON, exports, recordings alike.

Without IVR_DASHBOARD_PASSWORD the console does not exist (404).
"""
from __future__ import annotations

import hmac
import logging

from flask import Blueprint, Response, abort, current_app, request

from ivr.web.services import services
from ivr.web.views.throttle import Throttle

log = logging.getLogger("ivr.dashboard")

# Scripts only from files on this server: no inline script, no eval. Styles allow
# inline because Plotly styles its SVG from JavaScript; nothing else is inline.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; media-src 'self'; connect-src 'self'; object-src 'none'; "
                           "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def require_password():
    password = services().settings.dashboard_password
    if not password:
        abort(404)
    client = request.remote_addr or "?"
    throttle = current_app.extensions.setdefault("ivr.dashboard.throttle", Throttle())  # one per app
    wait = throttle.blocked(client)
    if wait is not None:
        return Response("Too many wrong passwords: try again in a minute.\n", 429,
                        {"Retry-After": str(max(1, round(wait)))}, mimetype="text/plain")
    auth = request.authorization
    given = (auth.password or "") if auth is not None and auth.type == "basic" else None
    if given is None or not hmac.compare_digest(given.encode(), password.encode()):
        if given is not None:  # a browser's first request carries no password: not a guess
            mine, everyone = throttle.failed(client)
            log.warning("dashboard: wrong password from %s (%d from there, %d in all, in the last minute)",
                        client, mine, everyone)
        return Response("The dashboard needs the operators' password.\n", 401,
                        {"WWW-Authenticate": 'Basic realm="ivr dashboard", charset="UTF-8"'},
                        mimetype="text/plain")
    return None


def lock_down(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if response.mimetype != "text/javascript" and response.mimetype != "text/css":
        response.headers["Cache-Control"] = "no-store"   # call data stays off shared caches and disks
    return response


def protect(bp: Blueprint) -> Blueprint:
    """The password before every view of `bp`, the headers after."""
    bp.before_request(require_password)
    bp.after_request(lock_down)
    return bp
