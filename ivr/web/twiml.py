"""TwiML answers, built with twilio's own builders.

Knows how to speak, listen and dial; knows nothing of the flow. Every function
returns a VoiceResponse; str() of it is the XML Twilio gets.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from twilio.twiml.voice_response import Dial, Gather, Say, VoiceResponse

SLOW_RATE = "80%"
SPEECH_MODEL = "phone_call"
SPEECH_TIMEOUT = 2  # seconds of quiet that end an answer; explicit models refuse "auto"


@dataclass(frozen=True)
class Voice:
    """Who speaks and which language the recogniser listens for."""

    name: str
    language: str


def _say(line, voice: Voice) -> Say:
    text, slow = (line, False) if isinstance(line, str) else (line.text, line.slow)
    if getattr(line, "voice", None):  # a line in another language speaks with its own voice
        voice = Voice(line.voice, line.language or voice.language)
    say = Say(voice=voice.name, language=voice.language)
    if slow:
        say.prosody(text, rate=SLOW_RATE)
    else:
        say.value = text
    return say


def speak(parent, lines: Iterable, voice: Voice) -> None:
    for line in lines:
        parent.append(_say(line, voice))


def question(lines: Sequence, *, action: str, voice: Voice, timeout: int,
             hints: Sequence[str] = (), digits: int = 1) -> VoiceResponse:
    """Ask and listen to keypad and speech at once; the caller may cut in.

    One key answers (finishOnKey is off, so # is the "wait" key like any other).
    """
    return _listen(lines, action=action, voice=voice, timeout=timeout, hints=hints,
                   num_digits=digits, finish_on_key="")


def _listen(lines: Sequence, *, action: str, voice: Voice, timeout: int, hints: Sequence[str],
            **keys) -> VoiceResponse:
    """A Gather for keypad and phone speech, with the prompt nested for barge-in.

    actionOnEmptyResult makes Twilio post to `action` even on silence, so a
    quiet caller is asked again instead of being hung up on. The Redirect is
    a second guard for the same.
    """
    response = VoiceResponse()
    gather = Gather(input="dtmf speech", action=action, method="POST", action_on_empty_result=True,
                    timeout=timeout, speech_timeout=SPEECH_TIMEOUT, speech_model=SPEECH_MODEL,
                    language=voice.language, profanity_filter=False, **keys)
    if hints:
        gather.attrs["hints"] = ", ".join(hints)
    speak(gather, lines, voice)
    response.append(gather)
    response.redirect(action, method="POST")
    return response


def transfer(lines: Sequence, *, number: str, voice: Voice, action: str, whisper: str,
             timeout: int, caller_id: str | None = None) -> VoiceResponse:
    """Put the caller through to a person; the agent hears `whisper` first.

    answerOnBridge keeps the caller hearing ringing rather than silence; the
    action URL is told how the dial ended (DialCallStatus).
    """
    response = VoiceResponse()
    speak(response, lines, voice)
    dial = Dial(action=action, method="POST", timeout=timeout, answer_on_bridge=True,
                caller_id=caller_id)
    dial.number(number, url=whisper, method="POST")
    response.append(dial)
    return response


def goodbye(lines: Sequence, voice: Voice) -> VoiceResponse:
    response = VoiceResponse()
    speak(response, lines, voice)
    response.hangup()
    return response


def whisper(lines: Sequence, *, accept: str, voice: Voice, timeout: int = 8) -> VoiceResponse:
    """The agent's leg: the context, then a key to take the call.

    Without a key press (a voicemail box answered) the agent's leg hangs up, so
    the caller's Dial ends unanswered and the caller is looked after instead
    of being bridged into a recording.
    """
    response = VoiceResponse()
    gather = Gather(input="dtmf", num_digits=1, timeout=timeout, action=accept, method="POST")
    speak(gather, lines, voice)
    response.append(gather)
    response.hangup()
    return response


def accepted() -> VoiceResponse:
    """Empty TwiML on the agent's leg: the bridge happens when it ends."""
    return VoiceResponse()


def hangup() -> VoiceResponse:
    response = VoiceResponse()
    response.hangup()
    return response


def voicemail(lines: Sequence, *, action: str, voice: Voice, max_length: int = 120,
              empty: str | None = None, recording_callback: str | None = None,
              transcribe_callback: str | None = None) -> VoiceResponse:
    """Take a message after the tone.

    Twilio posts nothing when the recording is empty, so `empty` (a Redirect
    after the Record) carries the call on instead of leaving it in silence.
    The recording and transcription callbacks arrive later, on their own.
    """
    response = VoiceResponse()
    speak(response, lines, voice)
    options: dict[str, Any] = {}
    if recording_callback:
        options.update(recording_status_callback=recording_callback, recording_status_callback_method="POST",
                       recording_status_callback_event="completed")
    if transcribe_callback:
        options.update(transcribe=True, transcribe_callback=transcribe_callback)
    response.record(action=action, method="POST", max_length=max_length, play_beep=True,
                    timeout=5, finish_on_key="#", **options)
    if empty:
        response.redirect(empty, method="POST")
    return response


def keyed_entry(lines: Sequence, *, action: str, voice: Voice, timeout: int = 8,
                hints: Sequence[str] = ()) -> VoiceResponse:
    """Ask for several digits (a station ID, a phone number), ended by # or a pause, or spoken."""
    return _listen(lines, action=action, voice=voice, timeout=timeout, hints=hints, finish_on_key="#")


def enqueue(lines: Sequence, *, queue: str, voice: Voice, action: str, wait_url: str) -> VoiceResponse:
    """Wait in a Twilio queue for the next agent; `action` hears how the wait ended (QueueResult)."""
    response = VoiceResponse()
    speak(response, lines, voice)
    response.enqueue(queue, action=action, method="POST", wait_url=wait_url, wait_url_method="POST")
    return response


def take_from_queue(queue: str, *, url: str) -> VoiceResponse:
    """An agent's own call takes the next caller from `queue`; Twilio requests `url` for
    the queued caller's end just before the bridge (Say, Play, Pause, Redirect only)."""
    response = VoiceResponse()
    dial = Dial()
    dial.queue(queue, url=url, method="POST")
    response.append(dial)
    return response


def queue_wait(lines: Sequence, *, voice: Voice, pause: int = 20) -> VoiceResponse:
    """What a caller in the queue hears; Twilio plays it again when it ends."""
    response = VoiceResponse()
    speak(response, lines, voice)
    response.pause(length=pause)
    return response


def leave_queue() -> VoiceResponse:
    """Out of the queue: the Enqueue's action URL takes over (QueueResult=leave)."""
    response = VoiceResponse()
    response.leave()
    return response


def render(response: VoiceResponse) -> str:
    return str(response)
