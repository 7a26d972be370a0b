"""A caller back after a dropped call: carry on where they were, or start afresh.

Pure: the web layer looks up the caller's earlier call (within IVR_RESUME_MINUTES)
and asks `earlier_state` whether to welcome them back.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from ivr.call.engine import BadState, CallState
from ivr.call.flow import Flow


def earlier_state(last_state: Mapping[str, str], hazard: str | None, outcome: str | None, flow: Flow,
                  languages: Iterable[str]) -> CallState | None:
    """The earlier call's state to resume, if any.

    Dropped mid-flow means: Twilio reported the call over while it was still at a
    question past the first, with no ending reached ('abandoned'). A hazard in the
    earlier call always counts, whatever its ending: it holds for the rest of the call."""
    try:
        state = CallState.from_params(last_state, flow, languages, questions_only=False)
    except BadState:
        return None
    if hazard and not state.hazard:
        state = state.with_hazard(hazard)
    if state.hazard or (outcome == "abandoned" and state.path):
        return state
    return None
