"""GET /dashboard: the overview: figures, outcomes per day, the calls in progress and
the latest calls, for the filters in the URL. Its scripts are files (Plotly's from
the installed package, the console's own from ivr/web/static), its chart data JSON.

The other views are in ivr/web/views/console/; all share the password (gate.py).
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from flask import Blueprint, abort, send_file

from ivr.records import console as records
from ivr.web.views.console import charts, common, gate

bp = gate.protect(Blueprint("dashboard", __name__, url_prefix="/dashboard", template_folder="../templates"))
STATIC = Path(__file__).resolve().parent.parent / "static"
ASSETS = {"console.js": "text/javascript", "console.css": "text/css"}


@bp.get("")
@bp.get("/")
def page():
    filters, problems = common.chosen()
    catalog = common.operator()
    try:
        figures = records.figures(common.engine(), filters)
        by_day = records.outcomes_by_day(common.engine(), filters)
        recent = records.list_calls(common.engine(), filters, limit=20)
        misheard = records.not_understood(common.engine(), filters)
    except Exception as exc:
        return common.unreadable(exc)
    return common.page("console/overview.html", filters, problems, figures=figures, recent=recent, misheard=misheard,
                       chart_data={"outcomes": charts.outcomes(catalog, by_day)})


@bp.get("/plotly.min.js")
def plotly_js():
    path = resources.files("plotly") / "package_data" / "plotly.min.js"
    return send_file(path, mimetype="text/javascript", max_age=86400)  # type: ignore[arg-type]  # a file on disk


@bp.get("/static/<name>")
def asset(name: str):
    if name not in ASSETS:
        abort(404)
    return send_file(STATIC / name, mimetype=ASSETS[name], max_age=300)
