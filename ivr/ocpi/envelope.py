"""OCPI's response envelope (OCPI 2.2.1, part I, 4.1.7), as either side answers a request:
`status_code`, `status_message`, `timestamp` and the `data` if any, with the request's
X-Request-ID and X-Correlation-ID echoed back. Our own endpoints (ivr.ocpi.views) and
the simulated CPO (ivr.tools.station_sim) both answer with it."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone

from flask import Response, jsonify, request


def envelope(data=None, code: int = 1000, message: str = "Success", http: int = 200,
             headers: Mapping[str, str] | None = None) -> Response:
    body = {"status_code": code, "status_message": message,
            "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    if data is not None:
        body["data"] = data
    response = jsonify(body)
    response.status_code = http
    for name in ("X-Request-ID", "X-Correlation-ID"):
        if request.headers.get(name):
            response.headers[name] = request.headers[name][:64]
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
