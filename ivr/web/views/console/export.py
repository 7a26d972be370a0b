"""/dashboard/calls.csv and /dashboard/calls.json: the filtered calls, streamed.

Rows are read in batches and written as they come, so the first byte leaves at
once whatever the number of calls, and memory stays flat. Callers' numbers are
masked, as everywhere in the console.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from flask import Blueprint, Response

from ivr.records import console as records
from ivr.web.views.console import common, gate, words

bp = gate.protect(Blueprint("console_export", __name__, url_prefix="/dashboard"))
COLUMNS = ("call_sid", "started_at", "ended_at", "caller", "station_id", "connector", "language", "outcome",
           "outcome_words", "last_step", "duration_s", "hazard", "car_make", "car_model")


def _rows() -> Iterator[dict]:
    """The rows to write; what they need is read now, inside the request, the rows as the response goes."""
    filters, _ = common.chosen()
    flow, catalog, engine = common.flow(), common.operator(), common.engine()
    return (_row(row, flow, catalog) for row in records.export_rows(engine, filters))


def _row(row: dict, flow, catalog) -> dict:
    return {**{k: row.get(k) for k in COLUMNS if k in row},
            "started_at": row["started_at"].isoformat() if row["started_at"] else None,
            "ended_at": row["ended_at"].isoformat() if row["ended_at"] else None,
            "outcome_words": words.outcome_words(catalog, row["outcome"]),
            "last_step": words.node_label(flow, catalog, row["last_node"]) if row["last_node"] else None}


def _csv_cell(value) -> str:
    """No cell starts a formula when opened in a spreadsheet."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/calls.csv")
def calls_csv():
    rows = _rows()

    def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(COLUMNS)
        yield buffer.getvalue()          # the header before the query: the first byte at once
        buffer.seek(0)
        buffer.truncate()
        for row in rows:
            writer.writerow([_csv_cell(row.get(c)) for c in COLUMNS])
            if buffer.tell() > 8192:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()
    return Response(lines(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="calls.csv"'})


@bp.get("/calls.json")
def calls_json():
    rows = _rows()

    def parts():
        yield '{"calls": ['
        for index, row in enumerate(rows):
            yield ("," if index else "") + json.dumps(row, ensure_ascii=False)
        yield "]}\n"
    return Response(parts(), mimetype="application/json")

