"""The conversation's effects, carried out with the services: the records, the
operator's alerts, a text, the station back end (issue 14). A text's result and the
station's answers are handed back as events."""
from __future__ import annotations

import logging

from flask import current_app, request

from ivr.basics.phone import last_four
from ivr.call import events as ev
from ivr.call import outcomes as out
from ivr.call.station_model import CommandState, Evse, Lookup, Outcome, StationStatus
from ivr.config import ratelimit
from ivr.outbound import sms
from ivr.outbound.alerts import Alert
from ivr.records.db import now
from ivr.web.services import services
from ivr.web.views.readers import sender
from ivr.web.views.web import call_sid, confidence, query, request_key

log = logging.getLogger("ivr.voice")


def carry_out(effects: tuple[out.Effect, ...]) -> list[ev.Event]:
    """Each effect in order; the events their results make (a text's result)."""
    results: list[ev.Event] = []
    for effect in effects:
        result = _one(effect)
        if result is not None:
            results.append(result)
    return results


def _one(effect: out.Effect) -> ev.Event | None:
    recorder = services().recorder
    if isinstance(effect, out.RecordTurn):
        _turn(effect)
    elif isinstance(effect, out.RecordRateLimited):
        recorder.turn(call_sid(), request_key(), node=None, speech=None, digits=None, confidence=None,
                      intent=None, action=ratelimit.LIMITED_ACTION, next_node=None, outcome="transferred")
    elif isinstance(effect, out.SetOutcome):
        recorder.outcome(call_sid(), effect.outcome)
    elif isinstance(effect, out.SaveStation):
        recorder.station(call_sid(), effect.station_id)
    elif isinstance(effect, out.SaveCallback):
        recorder.callback(call_sid(), effect.number, station_id=effect.station_id, connector=effect.connector,
                          steps=effect.steps)
    elif isinstance(effect, out.SaveVoicemail):
        recorder.voicemail(call_sid(), effect.sid, effect.url, effect.duration)
    elif isinstance(effect, out.RaiseAlert):
        form = request.form
        services().alerts.raise_alert(Alert(
            call_sid=call_sid(), tier=effect.tier, at=now(), station=effect.station, connector=effect.connector,
            said=(form.get("SpeechResult") or form.get("Digits") or None), caller_last4=last_four(form.get("From")),
            note=effect.note))
        if effect.note:
            log.warning("call %s: %s (console: /dashboard/calls/%s)", call_sid(), effect.note, call_sid())
    elif isinstance(effect, out.SendText):
        return _send_text(effect)
    elif isinstance(effect, out.FindStation):
        return ev.StationFound(_guarded(lambda backend: backend.find_evse(effect.label, call_sid=call_sid()),
                                        Lookup(Outcome.DOWN, detail="the back end raised")),
                               effect.purpose, effect.then, effect.speech, effect.digits)
    elif isinstance(effect, out.ReadStation):
        return _read_station(effect)
    elif isinstance(effect, out.RunStationCommand):
        return _run_command(effect)
    elif isinstance(effect, out.ReadCommand):
        return ev.StationCommandResult(_guarded(lambda backend: backend.command(effect.command_id),
                                                CommandState(Outcome.DOWN, effect.command_id)), then=effect.then)
    elif isinstance(effect, out.TakeOutOfService):
        _out_of_service(effect)
    return None


# -- the station back end (ivr/ocpi, built by its init_app into app.extensions) --------------
# Every back-end method is bounded in time (IVR_STATION_TIMEOUT, and never past the
# webhook's 12 s) and never raises; a back end that breaks that rule still never stops a
# call: its answer is DOWN, and the conversation asks the caller as without one.

def _backend():
    return current_app.extensions.get("ivr.station")


def _guarded(act, down):
    backend = _backend()
    if backend is None:
        return down
    try:
        return act(backend)
    except Exception:
        log.exception("call %s: the station back end raised; going on without it", call_sid())
        return down


def _evse(location_id: str, evse_uid: str) -> Evse | None:
    def find(backend):
        method = getattr(backend, "evse", None)
        lookup = method(location_id, evse_uid) if method is not None else None
        return lookup.evse if lookup is not None and lookup.outcome is Outcome.OK else None
    return _guarded(find, None)


def _read_station(effect: out.ReadStation) -> ev.StationRead:
    evse = _evse(effect.location_id, effect.evse_uid)
    status = None
    if evse is not None and effect.status:
        status = _guarded(lambda backend: backend.status(evse, call_sid=call_sid()),
                          StationStatus(Outcome.DOWN, detail="the back end raised"))
    return ev.StationRead(evse, status, effect.purpose, effect.then, effect.said)


def _run_command(effect: out.RunStationCommand) -> ev.StationCommandSent:
    evse = Evse(effect.location_id, effect.evse_uid, None, None, "UNKNOWN")
    down = CommandState(Outcome.DOWN, command=effect.command, detail="the back end raised")
    if effect.command == "STOP_SESSION":
        state = _guarded(lambda backend: backend.stop_session(evse, effect.session_id or "", call_sid=call_sid()), down)
    else:
        state = _guarded(lambda backend: backend.unlock_connector(evse, effect.connector_id or "", call_sid=call_sid()),
                         down)
    log.info("call %s: %s %s/%s: %s %s", call_sid(), effect.command, effect.location_id, effect.evse_uid,
             state.outcome.value, state.detail or state.result or "")
    return ev.StationCommandSent(state, effect.purpose, effect.lead, effect.then)


def _out_of_service(effect: out.TakeOutOfService) -> None:
    """The back end's own `out_of_service` (OCPI 2.2.1 has none): ivr.ocpi.backend.take_out_of_service's rule."""
    evse = Evse(effect.location_id, effect.evse_uid, None, None, "UNKNOWN")
    method = getattr(_backend(), "out_of_service", None)
    if method is None:
        return
    try:
        state = method(evse, call_sid=call_sid())
        log.warning("call %s: charger %s/%s taken out of service: %s", call_sid(), effect.location_id,
                    effect.evse_uid, getattr(state, "outcome", "?"))
    except Exception:
        log.exception("call %s: taking the charger out of service failed", call_sid())


def _turn(turn: out.RecordTurn) -> None:
    form = request.form
    services().recorder.turn(
        call_sid(), request_key() + turn.suffix, node=turn.node,
        speech=(turn.speech or form.get("SpeechResult")) if turn.answer else None,
        digits=form.get("Digits") if turn.answer else None, confidence=confidence() if turn.answer else None,
        intent=turn.intent, action=turn.action, next_node=turn.next_node, language=turn.language,
        connector=turn.connector, outcome=turn.outcome, hazard=turn.hazard, car=turn.car,
        state=query(turn.state) if turn.state is not None else None)


def _send_text(text: out.SendText) -> ev.TextResult:
    """One text per call: a repeated webhook is told it was sent."""
    recorder = services().recorder
    if recorder.text_sent(call_sid()):
        return ev.TextResult("sent")
    who = sender()
    if who is None:
        return ev.TextResult("unavailable")
    result = sms.send(who, text.to, text.body)
    recorder.text_message(call_sid(), text.to, result.reason, result.sid, result.error_code)
    return ev.TextResult(result.reason)
