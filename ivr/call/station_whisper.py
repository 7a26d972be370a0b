"""What the station back end adds to the words: the whisper's line for a command's
result, the unlock offer that replaces "press 1", the agent's one line after their
unlock key, and the connector question among an EVSE's own plugs.

Pure, beside ivr/call/handoff.py (whose `whisper_lines` stays the station-less
whisper): the engine adds these lines where it builds the whisper.
"""
from __future__ import annotations

from ivr.call.station import read_back
from ivr.call.station_actions import AskAmong, OfferToAgent, StationResult
from ivr.language.prompts import Catalog


def result_line(catalog: Catalog, result: StationResult | None) -> str | None:
    """'Remote stop: refused.' for the whisper, in the agent's language; None without a command."""
    if result is None:
        return None
    return catalog.text(f"station_whisper_{result.command}", result=catalog.text(f"station_whisper_{result.result}"))


def whisper_extra(catalog: Catalog, result: StationResult | None, offer: OfferToAgent | None) -> tuple[list[str], str | None]:
    """(lines to put before the accept line, the accept line to use instead of
    whisper_accept or None to keep it). The result comes early: it is what the agent
    acts on; the offer is the accept line itself ("press 1 ..., or 2 to unlock ...")."""
    lines = [line for line in (result_line(catalog, result),) if line]
    accept = offer_line(catalog, offer) if offer is not None else None
    return lines, accept


def offer_line(catalog: Catalog, offer: OfferToAgent) -> str:
    """'Press 1 to take the call, or 2 to unlock connector 2 at E 1 2 first.'"""
    return catalog.text("station_whisper_offer", connector=offer.connector_id, label=spoken_label(offer.label))


def spoken_label(label: str) -> str:
    """A label as text-to-speech should read it: 'DE*ABC*E12345' -> 'E, 1 2 3, 4 5' (its
    last part, the one on the charger), letters one by one, digits in threes."""
    tail = label.rsplit("*", 1)[-1]
    cleaned = "".join(ch for ch in tail.upper() if ch.isalnum())
    return read_back(cleaned) if cleaned else label


def agent_unlock_line(catalog: Catalog, result: StationResult) -> str:
    """What the agent hears after pressing 2, before the bridge: one line."""
    if result.succeeded:
        return catalog.text("station_agent_unlock_ok")
    if result.result == "pending":
        return catalog.text("station_agent_unlock_pending")
    return catalog.text("station_agent_unlock_failed", why=catalog.text(f"station_whisper_{result.result}"))


def connector_choice_lines(catalog: Catalog, ask: AskAmong) -> list[str]:
    """'This charger has C C S and Chademo. Which one are you using? Press 1 for C C S. Press 2 for Chademo.'
    The keys are the connector question's own, so the answer is understood as today."""
    names = [catalog.text(f"connector_{key}") for key, _ in ask.choices]
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" {catalog.text('station_and')} {names[-1]}"
    lines = [catalog.text("station_connector_among", choices=joined)]
    lines += [catalog.text("station_connector_choice", digit=digit, name=catalog.text(f"connector_{key}"))
              for key, digit in ask.choices]
    return lines
