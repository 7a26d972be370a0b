"""The conversation's effects, carried out with the services: the records, the
operator's alerts, a text. A text's result is handed back as an event."""
from __future__ import annotations

import logging
from urllib.parse import urlencode

from flask import request

from ivr.basics.phone import last_four
from ivr.call import events as ev
from ivr.call import outcomes as out
from ivr.config import ratelimit
from ivr.outbound import sms
from ivr.outbound.alerts import Alert
from ivr.records.db import now
from ivr.web.services import services
from ivr.web.views.readers import sender
from ivr.web.views.web import call_sid, confidence, request_key

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
            said=(form.get("SpeechResult") or form.get("Digits") or None), caller_last4=last_four(form.get("From"))))
    elif isinstance(effect, out.SendText):
        return _send_text(effect)
    elif isinstance(effect, out.RunStationCommand):
        log.warning("call %s: station commands are not wired yet (issue 14)", call_sid())
        return ev.StationCommandResult(effect.command, ok=False, detail="not available")
    return None


def _turn(turn: out.RecordTurn) -> None:
    form = request.form
    services().recorder.turn(
        call_sid(), request_key() + turn.suffix, node=turn.node,
        speech=(turn.speech or form.get("SpeechResult")) if turn.answer else None,
        digits=form.get("Digits") if turn.answer else None, confidence=confidence() if turn.answer else None,
        intent=turn.intent, action=turn.action, next_node=turn.next_node, language=turn.language,
        connector=turn.connector, outcome=turn.outcome, hazard=turn.hazard, car=turn.car,
        state=urlencode(turn.state) if turn.state is not None else None)


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
