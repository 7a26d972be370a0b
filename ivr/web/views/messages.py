"""The hand-off's messages: a voicemail and its callbacks, a call-back request.
Thin: ivr.call.conversation decides (a text is one of its effects)."""
from __future__ import annotations

from flask import Response, request

from ivr.web.services import services
from ivr.web.views import readers, web
from ivr.web.views.converse import respond
from ivr.web.views.handoff import bp


@bp.post("/voicemail")
def voicemail():
    """The Record verb ended: keep the message (or note there was none) and go on."""
    return respond(readers.place(), readers.recording_ended())


@bp.post("/voicemail/recording")
def voicemail_recording():
    """recordingStatusCallback: the recording's final URL and length. Answer ignored: 204."""
    sid = readers.recording_sid()
    if sid and request.form.get("RecordingStatus", "completed") == "completed":
        services().recorder.voicemail(web.call_sid(), sid, request.form.get("RecordingUrl"), readers.recording_duration())
    return Response(status=204)


@bp.post("/voicemail/transcription")
def voicemail_transcription():
    """transcribeCallback: the message as text, for agents to read first. Answer ignored: 204."""
    sid = readers.recording_sid()
    if sid:
        services().recorder.voicemail(
            web.call_sid(), sid, request.form.get("RecordingUrl"),
            transcription=request.form.get("TranscriptionText") or None,
            transcription_status=(request.form.get("TranscriptionStatus") or "")[:16] or None)
    return Response(status=204)


@bp.post("/callback")
def callback():
    """Confirm the number to call back (the caller's own, or one keyed in), then keep the request."""
    return respond(readers.place(), readers.answered("callback"))
