"""GET /dashboard: the operators' report as a page with charts.

Behind HTTP basic auth with IVR_DASHBOARD_PASSWORD (any user name); without
that variable the dashboard does not exist (404). The charts are Plotly's,
served from the installed plotly package, so the page fetches nothing from the
internet.
"""
from __future__ import annotations

import hmac
import logging
from datetime import datetime, timedelta, timezone
from importlib import resources

import plotly.graph_objects as go
from flask import Blueprint, Response, abort, current_app, render_template, request, send_file
from markupsafe import Markup

from ivr.records import db, reports
from ivr.web.services import services
from ivr.web.views.throttle import Throttle

log = logging.getLogger("ivr.dashboard")
bp = Blueprint("dashboard", __name__, url_prefix="/dashboard", template_folder="../templates")

DEFAULT_DAYS = 30
OUTCOME_COLOURS = {"released": "#2e7d32", "hazard": "#c62828", "transferred": "#1565c0",
                   "abandoned": "#9e9e9e", "goodbye": "#6a1b9a", "in_progress": "#f9a825"}
# Only this server: the charts' script is served here, nothing comes from elsewhere.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline'; "
                           "style-src 'self' 'unsafe-inline'; img-src 'self' data:")


@bp.before_request
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


@bp.after_request
def lock_down(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response


def since_from(raw: str | None) -> tuple[datetime, str | None]:
    """?since=YYYY-MM-DD, or the last 30 days; a bad date says so instead of failing."""
    default = datetime.now(timezone.utc) - timedelta(days=DEFAULT_DAYS)
    if not raw:
        return default, None
    try:
        return datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=timezone.utc), None
    except ValueError:
        return default, f"'{raw}' is not a date like 2026-01-31: showing the last {DEFAULT_DAYS} days."


def _chart(figure: go.Figure, div_id: str) -> Markup:
    figure.update_layout(margin={"l": 40, "r": 20, "t": 40, "b": 40}, height=360,
                         template="plotly_white")
    return Markup(figure.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                                 config={"displaylogo": False, "responsive": True}))


def outcomes_chart(report: dict) -> Markup:
    days = list(report["outcomes_by_day"])
    figure = go.Figure([
        go.Bar(name=outcome, x=days, y=[report["outcomes_by_day"][d].get(outcome, 0) for d in days],
               marker_color=OUTCOME_COLOURS.get(outcome))
        for outcome in reports.OUTCOMES if any(outcome in counts for counts in report["outcomes_by_day"].values())
    ])
    figure.update_layout(barmode="stack", title="Outcomes per day", xaxis_type="category",
                         legend={"orientation": "h", "y": -0.15})
    return _chart(figure, "outcomes-chart")


def funnel_chart(report: dict) -> Markup:
    steps = report["funnel"]
    figure = go.Figure(go.Funnel(y=[s["node"] for s in steps], x=[s["calls"] for s in steps],
                                 textinfo="value+percent initial"))
    figure.update_layout(title="Calls reaching each step", height=max(360, 28 * len(steps) + 80))
    return _chart(figure, "funnel-chart")


@bp.get("")
@bp.get("/")
def page():
    since, problem = since_from(request.args.get("since"))
    try:
        calls = db.load_calls(services().recorder.engine, since)
    except Exception as exc:
        log.error("dashboard: the database could not be read (%s)", db.describe(exc))
        return render_template("dashboard.html", error="The call records cannot be read right now; "
                               "see the server log.", since=since.date().isoformat()), 503
    report = reports.summarize(calls)
    return render_template("dashboard.html", report=report, problem=problem, since=since.date().isoformat(),
                           outcomes_chart=outcomes_chart(report), funnel_chart=funnel_chart(report),
                           recent=[reports.call_summary(c) for c in calls[-20:]][::-1])


@bp.get("/plotly.min.js")
def plotly_js():
    path = resources.files("plotly") / "package_data" / "plotly.min.js"
    return send_file(path, mimetype="text/javascript", max_age=86400)  # type: ignore[arg-type]  # a file on disk
