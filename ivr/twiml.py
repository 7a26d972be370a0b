"""TwiML answers, built with twilio's own builders.

Knows how to speak, listen and dial; knows nothing of the flow. Every function
returns a VoiceResponse; str() of it is the XML Twilio gets.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

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

    actionOnEmptyResult makes Twilio post to `action` even on silence, so a
    quiet caller is asked again instead of being hung up on. The Redirect is
    a second guard for the same.
    """
    response = VoiceResponse()
    gather = Gather(
        input="dtmf speech",
        action=action,
        method="POST",
        action_on_empty_result=True,
        timeout=timeout,
        speech_timeout=SPEECH_TIMEOUT,
        speech_model=SPEECH_MODEL,
        language=voice.language,
        num_digits=digits,
        finish_on_key="",
        profanity_filter=False,
    )
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


def voicemail(lines: Sequence, *, action: str, voice: Voice, max_length: int = 120) -> VoiceResponse:
    """Take a message after the tone; on an empty recording, say goodbye."""
    response = VoiceResponse()
    speak(response, lines, voice)
    response.record(action=action, method="POST", max_length=max_length, play_beep=True,
                    timeout=5, finish_on_key="#")
    return response


def render(response: VoiceResponse) -> str:
    return str(response)
