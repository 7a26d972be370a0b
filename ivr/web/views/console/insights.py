"""/dashboard/stations: the stations to fix; /dashboard/cars: the cars they struggle with;
/dashboard/funnel: where calls go, step by step."""
from __future__ import annotations

from flask import Blueprint, request

from ivr.records import console as records
from ivr.web.views.console import cars as car_rows
from ivr.web.views.console import charts, common, gate, words
from ivr.web.views.console import funnel as funnels

bp = gate.protect(Blueprint("console_insights", __name__, url_prefix="/dashboard", template_folder="../../templates"))
# Each column's "worst first": most calls, lowest release rate, most hazards, most transfers.
SORTS = {"calls": True, "release_rate": False, "hazards": True, "transfers": True, "hung_up": True}


@bp.get("/stations")
def stations():
    filters, problems = common.chosen()
    sort = request.args.get("sort", "calls")
    sort = sort if sort in SORTS else "calls"
    try:
        rows = records.stations_table(common.engine(), filters)
    except Exception as exc:
        return common.unreadable(exc)
    worst_first = SORTS[sort]
    rows.sort(key=lambda r: (-r[sort] if worst_first else r[sort], -r["calls"], r["station_id"]))
    return common.page("console/stations.html", filters, problems, stations=rows, sort=sort, sorts=list(SORTS))


@bp.get("/cars")
def cars():
    filters, problems = common.chosen()
    flow, catalog = common.flow(), common.operator()
    sort = request.args.get("sort", "calls")
    sort = sort if sort in car_rows.SORTS else "calls"
    released = [n.id for n in flow.nodes.values() if n.kind == "end" and n.end == "released"] or ["released"]
    try:
        found = records.cars_table(common.engine(), filters, released)
    except Exception as exc:
        return common.unreadable(exc)
    rows = car_rows.makes(found["rows"], lambda node: words.node_label(flow, catalog, node), sort)
    return common.page("console/cars.html", filters, problems, cars=rows, no_car=found["no_car"], sort=sort,
                       sorts=list(car_rows.SORTS), car_words=lambda make: words.car_words(catalog, make),
                       model_words=lambda model: words.model_words(catalog, model))


@bp.get("/funnel")
def funnel():
    filters, problems = common.chosen()
    flow = common.flow()
    try:
        counts = records.funnel_counts(common.engine(), filters, funnels.person_nodes(flow))
    except Exception as exc:
        return common.unreadable(exc)
    branches = funnels.funnels(flow, common.operator(), counts)
    return common.page("console/funnel.html", filters, problems, branches=branches,
                       chart_data={f"funnel-{b['connector']}": charts.funnel(b) for b in branches})
