"""The station's webhooks: the station ID (keyed or spoken, read back, confirmed), and
the station in the loop (issue 14): a turn of the listening wait for a command, the
caller holding the handle before an unlock, "did it come out?" after it.
ivr.call.conversation decides."""
from __future__ import annotations

from ivr.web.views import readers
from ivr.web.views.converse import respond
from ivr.web.views.handoff import bp


@bp.post("/station")
def station_id():
    """The station ID, keyed or spoken; confirmed by reading it back. Never blocks the steps."""
    return respond(readers.place(questions_only=True), readers.answered("station"))


@bp.post("/station/wait")
def station_wait():
    """A turn of the wait for a station command: what the caller said, or the command now."""
    return respond(readers.place(), readers.answered("station_wait"))


@bp.post("/station/hold")
def station_hold():
    """Automatic unlock: is the caller holding the handle with the cable's weight off?"""
    return respond(readers.place(), readers.answered("hold"))


@bp.post("/station/pulled")
def station_pulled():
    """After the station unlocked: did the plug come out?"""
    return respond(readers.place(), readers.answered("pulled"))


@bp.post("/station/which")
def station_which():
    """A whole site: which charger (its own label), read back once."""
    return respond(readers.place(), readers.answered("which"))
