"""GET /healthz (alive: the line answers calls) and GET /readyz (records are written).

/healthz never touches the database: the line answers calls without it, so a
load balancer with nowhere else to send them must keep sending them here.
/readyz tries a write that changes nothing and answers 503 while records cannot
be written (read-only or deleted storage, a database down or read-only): for a
monitor to page someone, or a load balancer with another host to send calls to.
"""
from flask import Blueprint, jsonify

from ivr.records import db
from ivr.web.services import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    recorder = services().recorder
    problem = db.probe(recorder.engine)
    if problem is None:
        recorder.health.succeeded()
        return jsonify(status="ready", recording="ok")
    return jsonify(status="not ready", recording="failing", reason=problem), 503
