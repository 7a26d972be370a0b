"""The hand-off chain, decided: where a call is in it, and what comes next.

Pure, like the engine: the web layer reads the request into a Place and an
answer, asks this module, renders the decision with ivr.web.twiml and carries
out its effects (a dial, a recording, a text). Nothing here reads a clock, the
environment or the database.

Where the call is in the chain travels in the signed action URL, in the one
state every webhook carries (ivr.call.codec.Place).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from ivr.basics import phone
from ivr.call import escalation, handoff
from ivr.call.codec import Place
from ivr.call.engine import CallState, Engine, Line, Reply
from ivr.call.escalation import Escalation
from ivr.language.prompts import Catalog

OFFERS = {"voicemail": "voicemail_offer", "callback": "callback_offer", "sms": "sms_offer"}
Spoken = str | Line        # a line the caller hears: a prompt's text, or an engine Line


def stay_clear_key(tier: str | None) -> str:
    """The safety line for a hazard's tier: fire, "call 911 now"; damage, "don't use it"."""
    return "after_hours_damage" if tier == "damage" else "after_hours_hazard"

# -- what comes next -----------------------------------------------------------------------

@dataclass(frozen=True)
class Goodbye:
    """The chain is over: say these lines and hang up."""

    lines: tuple[Spoken, ...]


@dataclass(frozen=True)
class RingSecondAgent:
    """Dial the second agent line; the dial's result comes back for `place` (leg 2)."""

    lines: tuple[Spoken, ...]
    number: str
    timeout: int
    place: Place


@dataclass(frozen=True)
class Offer:
    """Ask yes or no to a link (a message, a call back, a text) at `place`."""

    lines: tuple[Spoken, ...]
    place: Place


Next = Goodbye | RingSecondAgent | Offer


def says(lines: Iterable[Spoken], sentence: str) -> bool:
    return any(sentence in (line if isinstance(line, str) else line.text) for line in lines)


def next_step(place: Place, lead: Iterable[Spoken], esc: Escalation, catalog: Catalog,
              unavailable: Iterable[str], support_number: str | None) -> Next:
    """The next link of the chain after `place.at`, or the goodbye with the support
    number read aloud. A call with a hazard is never sent back to read a number off
    the unit, and hears to stay clear before any offer."""
    lead = tuple(lead)
    found = escalation.next_link(place.links(esc), place.at, place.done, unavailable)
    if found is None:
        if place.chain == "r" and not place.state.hazard:
            return Goodbye((*lead, catalog.text("released_goodbye")))
        if place.state.hazard:
            key = "goodbye_hazard" if place.state.hazard == "fire" else "goodbye_damage"
            bye = catalog.text(key, number=phone.spoken(support_number)) if support_number \
                else catalog.text(f"{key}_no_number")
        else:
            bye = catalog.text("goodbye_support", number=phone.spoken(support_number)) if support_number \
                else catalog.text("goodbye_support_station")
        return Goodbye((*lead, bye))
    at, link = found
    here = replace(place, at=at, tries=0)
    if link == "second_agent":
        return RingSecondAgent((*lead, catalog.text("second_agent")), esc.second_agent or "",
                               esc.second_agent_timeout, here.did("second_agent"))
    stay_clear = catalog.text(stay_clear_key(place.state.hazard))
    safety = (stay_clear,) if place.state.hazard and not says(lead, stay_clear) else ()
    return Offer((*lead, *safety, catalog.text(OFFERS[link])), here)


# -- the caller's answer to an offer ---------------------------------------------------------

@dataclass(frozen=True)
class Start:
    """Yes: run the link (record a message, take a call-back number, send the text)."""

    link: str


@dataclass(frozen=True)
class AskAgain:
    """Ask the same offer again at `place`, after these lines; `alert`: a hazard was
    just said (the operator is alerted if it is new or higher)."""

    lines: tuple[Spoken, ...]
    place: Place
    alert: bool = False


@dataclass(frozen=True)
class GoOn:
    """No (or a second silence): on to the next link from `place`."""

    place: Place


OfferAnswer = Start | AskAgain | GoOn


# Why a caller who asks for a person at an offer cannot have one, per chain: nobody
# answered the agents' line (the fallback), or the line is closed (after hours).
NOBODY_FREE = {"f": "dial_failed", "a": "after_hours"}


def answer_offer(place: Place, link: str, intent: str, catalog: Catalog) -> OfferAnswer:
    """A hazard said during an offer holds for the rest of the call (the state carries
    it): the caller is told to stay clear and asked again."""
    if intent == "yes":
        return Start(link)
    if intent in ("hazard", "damage"):
        hazardous = replace(place, state=place.state.with_hazard("fire" if intent == "hazard" else "damage"),
                            tries=place.tries + 1)
        return AskAgain((catalog.text(stay_clear_key(hazardous.state.hazard)), catalog.text(f"{link}_offer")),
                        hazardous, alert=True)
    if intent == "no" or place.tries >= 1:
        return GoOn(place)       # a second silence counts as no: the call goes on
    if intent == "agent" and place.chain in NOBODY_FREE:
        # "A person, please" when nobody could answer: say so plainly, then offer again.
        return AskAgain((catalog.text(NOBODY_FREE[place.chain]), catalog.text(f"{link}_offer")), replace(place, tries=1))
    why = "silence" if intent == "silence" else "not_understood"
    return AskAgain((catalog.text(why), catalog.text(f"{link}_offer")), replace(place, tries=1))


# -- a call back: the number to call ------------------------------------------------------------

@dataclass(frozen=True)
class Save:
    """The number is confirmed: keep the request, say `callback_saved`, go on with the chain."""

    number: str


@dataclass(frozen=True)
class ConfirmNumber:
    """Read the number back and ask yes or no, after `lead` (a prompt key, or None)."""

    number: str
    tries: int
    lead: str | None = None


@dataclass(frozen=True)
class EnterNumber:
    """Ask the caller to key the number, after `lead` (a prompt key, or None)."""

    tries: int
    lead: str | None = None


@dataclass(frozen=True)
class GiveUp:
    """No number after MAX_TRIES: say `lead` and go on with the chain."""

    lead: str = "callback_gave_up"


CallbackStep = Save | ConfirmNumber | EnterNumber | GiveUp


def confirm_answer(number: str | None, intent: str, tries: int) -> CallbackStep:
    """The caller's yes or no to 'shall we call you on ...?'. Not understood once: asked
    again; a no or a silence: key another number."""
    if number and intent == "yes":
        return Save(number)
    if number and intent not in ("no", "silence") and tries < 1:
        return ConfirmNumber(number, 1, "not_understood")
    return EnterNumber(0)


def number_entered(number: str | None, tries: int, most_tries: int) -> CallbackStep:
    """A number keyed (or said), already read in the caller's country (ivr.basics.phone)."""
    if number:
        return ConfirmNumber(number, 0)
    if tries + 1 >= most_tries:
        return GiveUp()
    return EnterNumber(tries + 1, "callback_invalid")


# -- a dial or a queue ended ---------------------------------------------------------------------

def connected_goodbye(state: CallState) -> str:
    """After the agent hangs up: no "drive safely" after a hazard."""
    return "dial_completed_hazard" if state.hazard else "dial_completed"


def dial_connected(status: str, bridged: bool) -> bool:
    """DialCallStatus (not CallStatus: that is the caller's leg). A leg the whisper hung
    up (a voicemail box answered) reports completed but not bridged: nobody spoke."""
    return status in ("completed", "answered") and bridged


def from_the_start(place: Place) -> Place:
    """The fallback chain from its first link (after the agent line or the queue)."""
    return replace(place, chain="f", at=-1, done="")


# -- putting the caller through ----------------------------------------------------------------

@dataclass(frozen=True)
class BackToFlow:
    """Nobody will answer, and the end node has `unanswered:`: back to the steps."""

    reply: Reply


@dataclass(frozen=True)
class RunChain:
    """On to the chain at `place` after these lines; `after_hours`: record that the line was closed."""

    place: Place
    lines: tuple[Spoken, ...]
    after_hours: bool = False


@dataclass(frozen=True)
class Enqueue:
    """Into the agents' queue (its action URL: the queue's result for the call's place)."""

    lines: tuple[Spoken, ...]
    queue: str


@dataclass(frozen=True)
class DialAgent:
    """Ring the agent line (its action URL: the dial's result, leg 1)."""

    lines: tuple[Spoken, ...]
    number: str
    timeout: int


PutThrough = BackToFlow | RunChain | Enqueue | DialAgent


def _as_lines(lines: Iterable[Spoken]) -> tuple[Line, ...]:
    return tuple(Line(text) if isinstance(text, str) else text for text in lines)


def put_through(lines: Iterable[Spoken], state: CallState, *, is_open: bool, engine: Engine, catalog: Catalog,
                esc: Escalation, agent_number: str | None, dial_timeout: int, safety_said: bool = False) -> PutThrough:
    """Put the caller through: ring the agent line (or the queue), unless the line is
    closed (`is_open`: business hours now, read by the caller of this function).

    The connector may still be in the car: everyone put through hears not to drive
    off with it, unless there is a hazard (then: stay clear)."""
    lines = tuple(lines)
    place = Place(state)
    hazard = bool(state.hazard)
    if not is_open:
        lead = handoff.drop_end_lines(lines, engine.flow, state.node, catalog)
        back = engine.unanswered(state, _as_lines((*lead, catalog.text("after_hours"))))
        if back is not None:
            return BackToFlow(back)
        after = (catalog.text("after_hours"), catalog.text(stay_clear_key(state.hazard) if hazard else "after_hours_safety"))
        return RunChain(replace(place, chain="a"), (*lead, *after), after_hours=True)
    if not hazard and not safety_said and not says(lines, catalog.text("dont_drive_off")):
        lines = (*lines, catalog.text("dont_drive_off"))
    if esc.queue:
        return Enqueue(lines, esc.queue)
    if not agent_number:
        failed = (*lines, catalog.text("dial_failed"))
        back = engine.unanswered(state, _as_lines(failed))
        return BackToFlow(back) if back is not None else RunChain(place, failed)
    return DialAgent(lines, agent_number, esc.agent_timeout or dial_timeout)


# -- waiting in the queue ------------------------------------------------------------------------

def queue_wait(waited: str, position: str, hazard_code: str | None, max_wait: int, catalog: Catalog) -> tuple[str, ...] | None:
    """What a caller waiting in the queue hears, again and again: reassurance, where they
    are, and how to stay safe; None: they have waited long enough (`max_wait` seconds),
    and leave the queue for the fallback chain. Twilio's QueueTime and QueuePosition as sent."""
    if waited.isdigit() and int(waited) >= max_wait:
        return None
    lines = [catalog.text("queue_wait")]
    if position.isdigit() and 0 < int(position) < 1000:
        lines.append(catalog.text("queue_position", position=position))
    tier = {"f": "fire", "d": "damage"}.get(hazard_code or "")
    lines.append(catalog.text(stay_clear_key(tier) if tier else "queue_safety"))
    return tuple(lines)
