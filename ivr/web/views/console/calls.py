"""/dashboard/calls: the filtered calls, and /dashboard/calls/<CallSid>: one call's story."""
from __future__ import annotations

import re

from flask import Blueprint, abort, request

from ivr.records import console as records
from ivr.web.services import services
from ivr.web.views.console import common, gate, handoff_story, story

bp = gate.protect(Blueprint("console_calls", __name__, url_prefix="/dashboard/calls",
                            template_folder="../../templates"))
PAGE = 50
CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}|[A-Za-z0-9_-]{1,64}")


@bp.get("")
def calls():
    filters, problems = common.chosen()
    page = min(int(request.args.get("page", "1")) if request.args.get("page", "1").isdigit() else 1, 2000) or 1
    try:
        rows = records.list_calls(common.engine(), filters, limit=PAGE + 1, offset=(page - 1) * PAGE)
    except Exception as exc:
        return common.unreadable(exc)
    return common.page("console/calls.html", filters, problems, calls=rows[:PAGE], page=page,
                       more=len(rows) > PAGE)


@bp.get("/<call_sid>")
def call(call_sid: str):
    if not CALL_SID.fullmatch(call_sid):
        abort(404)
    try:
        found = records.story(common.engine(), call_sid)
    except Exception as exc:
        return common.unreadable(exc)
    if found is None:
        abort(404)
    content, operator = services().content, common.operator()
    record = found["call"]
    entries = story.tell(content.flow, content.catalogs, operator, found["turns"], record["started_at"],
                         record["language"])
    person = handoff_story.went_to_person(content.flow, found["turns"], record["outcome"])
    whisper = handoff_story.whisper(content.flow, content.catalogs, operator, record.get("last_state"),
                                    record.get("hazard")) if person else None
    filters, problems = common.chosen()
    return common.page("console/call.html", filters, problems, call=record, entries=entries, person=person,
                       whisper=whisper, dials=handoff_story.dial_results(found["turns"]),
                       voicemails=found["voicemails"], callbacks=found["callbacks"], texts=found["texts"],
                       alerts=found["alerts"], station_actions=found["station_actions"],
                       station_commands=found["station_commands"])
