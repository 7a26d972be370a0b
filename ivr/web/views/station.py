"""The station-ID webhook: keyed or spoken, read back, confirmed (ivr.call.conversation decides)."""
from __future__ import annotations

from ivr.web.views import readers
from ivr.web.views.converse import respond
from ivr.web.views.handoff import bp


@bp.post("/station")
def station_id():
    """The station ID, keyed or spoken; confirmed by reading it back. Never blocks the steps."""
    return respond(readers.place(questions_only=True), readers.answered("station"))
