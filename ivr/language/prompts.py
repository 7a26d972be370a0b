"""What the bot says, per language, from prompts/<language>.yaml.

A prompts file holds the voice to speak with and a mapping of prompt keys to
sentences. The flow names keys; the engine adds the few sentences every call
needs (SYSTEM_KEYS). Lint checks that every language has every key.

A key may have variants for one connector, written `key@connector`
(`unlock_fob@tesla`): a call whose connector is known hears the variant when
there is one, else the key itself (`Catalog.text_for`). Lint checks that each
variant's key exists and that every language has the same variants.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from types import MappingProxyType
from typing import Any

from ivr.basics import ids
from ivr.language.source import LineDict, SourceError
from ivr.language.vocabulary import Vocabulary
from ivr.language.vocabulary import parse as parse_vocabulary

# What an answer tells the agent about the equipment (the whisper's "reported"):
# `tells: {no: session_running}` on a question. Each fact has a whisper_fact_<id> prompt.
FACTS = ("session_running", "ccs_soft", "ccs_rigid", "ccs_no_button", "chademo_lit", "chademo_dark",
         "adapter", "wont_stop")

VARIANT = "@"

# What the line says about the operator's station back end (ivr/call/station_actions.py,
# ivr/call/station_whisper.py), in every language, whether or not a back end is set.
STATION_RESULTS = ("ok", "pending", "rejected", "unknown_session", "not_supported", "failed", "timeout", "down")
STATION_KEYS = (
    "station_which", "station_which_again", "station_evse_confirm", "station_go_on",
    "station_connector_among", "station_connector_choice", "station_and",
    "station_still_running", "station_shows_running", "station_still_shows_running", "station_wait",
    "station_still_waiting",
    "station_stopped", "station_unlocked", *(f"station_fail_{r}" for r in STATION_RESULTS if r != "ok"),
    "station_hold_handle", "station_unlocking",
    "station_hazard_stopping", "station_hazard_stopped", "station_hazard_not_stopped",
    "station_whisper_stop", "station_whisper_unlock", *(f"station_whisper_{r}" for r in STATION_RESULTS),
    "station_whisper_offer", "station_agent_unlock_ok", "station_agent_unlock_failed", "station_agent_unlock_pending",
)

# Sentences the engine and the hand-off use whatever the flow says.
SYSTEM_KEYS = (
    "keys_yes_no", "keys_released", "keys_connector",
    "not_understood", "silence", "wait", "resume", "help", "first_step",
    "confirm_released", "keep_going", "language_switched", "language_offer",
    "apology_transfer", "transfer_no_agent",
    "rate_limited", "rate_limited_danger", "rate_limited_support", "rate_limited_connecting",
    "roadside", "hot_check", "car_noted",
    "welcome_back", "resume_where", "resume_where_unknown", "resume_offer", "resume_fresh",
    "whisper", "whisper_accept", "whisper_steps_none", "whisper_language",
    "whisper_hazard_fire", "whisper_hazard_damage", "whisper_connector", "whisper_connector_unknown", "whisper_car", "whisper_car_unknown",
    "whisper_last", "whisper_asked_at", "whisper_count",
    "whisper_result_still_stuck", "whisper_result_released", "whisper_last_check",
    *(f"whisper_fact_{fact}" for fact in FACTS),
    "dial_completed_hazard", "goodbye_hazard", "goodbye_hazard_no_number",
    "after_hours_damage", "goodbye_damage", "goodbye_damage_no_number",
    "connector_ccs", "connector_chademo", "connector_j1772", "connector_tesla",
    "connector_unsure",
    "dial_completed", "dial_failed", "voicemail_prompt", "voicemail_thanks",
    "voicemail_empty",
    # the hand-off (ivr/web/views/handoff.py): whisper, after hours, queue, fallback links
    "whisper_station", "after_hours", "after_hours_safety", "after_hours_hazard", "queue_wait", "queue_position", "queue_safety",
    "second_agent", "voicemail_offer", "callback_offer", "callback_confirm", "callback_enter",
    "callback_invalid", "callback_saved", "callback_gave_up", "sms_offer", "sms_sent",
    "sms_invalid_number", "sms_unsubscribed", "sms_unavailable", "goodbye_support",
    "goodbye_support_station", "released_goodbye",
    "station_ask", "station_ask_short", "station_invalid", "station_confirm", "station_confirm_keyed", "station_thanks",
    "station_skipped",
    "sms_steps", "sms_released", "sms_support", "sms_support_station",
    *STATION_KEYS,
)


@dataclass(frozen=True)
class Catalog:
    """Every sentence of one language."""

    language: str
    name: str
    voice: str
    path: str
    texts: Mapping[str, str]
    lines: Mapping[str, int]
    words: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    words_line: int = 1
    vocabulary: Vocabulary | None = None   # how callers answer in this language (not English)
    steps: Mapping[str, str] = field(default_factory=dict)  # node id -> step label in this language
    steps_line: int = 1
    switch_key: str | None = None  # the key that switches a call to this language ('9'), as its language_offer says

    def step_label(self, node: Any) -> str | None:
        """A step's label for texts and whispers: this language's, else the flow's own."""
        return self.steps.get(node.id, node.step) if node.step else None

    def text(self, key: str, **params: str) -> str:
        text = self.texts[key]
        return text.format(**params) if params else text

    def text_for(self, key: str, connector: str | None, **params: str) -> str:
        """The sentence for this call's connector: `key@connector` if written, else `key`."""
        if connector:
            variant = f"{key}{VARIANT}{connector}"
            if variant in self.texts:
                return self.text(variant, **params)
        return self.text(key, **params)

    def variants(self) -> dict[str, tuple[str, str]]:
        """Every `key@connector` of this language -> (key, connector)."""
        return {k: (k.split(VARIANT, 1)[0], k.split(VARIANT, 1)[1]) for k in self.texts if VARIANT in k}

    def __contains__(self, key: object) -> bool:
        return key in self.texts


def parse(data: Any, path: str) -> Catalog:
    if not isinstance(data, LineDict):
        raise SourceError(path, 1, "a prompts file is a mapping with `language`, `voice` and `prompts`")
    language = data.get("language")
    if not isinstance(language, str) or not ids.is_language_tag(language):
        raise SourceError(path, data.line_of("language"), "`language` must be a tag like en-US")
    if PurePath(path).stem != language:
        raise SourceError(path, data.line_of("language"), f"language {language!r} does not match the file name")
    voice = data.get("voice")
    if not isinstance(voice, str) or not voice.strip():
        raise SourceError(path, data.line_of("voice"), "`voice` must name a Twilio voice, e.g. Polly.Joanna-Neural")
    prompts = data.get("prompts")
    if not isinstance(prompts, LineDict) or not prompts:
        raise SourceError(path, data.line_of("prompts"), "`prompts` must map prompt keys to sentences")
    texts = {}
    for key, value in prompts.items():
        if not isinstance(value, str):
            raise SourceError(path, prompts.line_of(key), f"prompt {key!r}: expected a sentence")
        texts[str(key)] = " ".join(value.split())
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SourceError(path, data.line_of("name"), "`name` must name the language in words, e.g. Spanish")
    return Catalog(language, name.strip(), voice.strip(), path, MappingProxyType(texts),
                   MappingProxyType(dict(prompts.key_lines)), _words(data.get("words"), path),
                   data.line_of("words"),
                   parse_vocabulary(language, data.get("understanding"), data.get("hints"), path,
                                    data.line_of("understanding"), data.get("station_words"),
                                    data.line_of("station_words")),
                   _steps(data.get("steps"), path), data.line_of("steps"),
                   _switch_key(data.get("switch_key"), path, data.line_of("switch_key")))


#: Keys a language may not claim: the answers' (1-5) and the commands' (0 a person, * repeat, # wait).
TAKEN_KEYS = frozenset("012345*#")


def _switch_key(raw: Any, path: str, line: int) -> str | None:
    """`switch_key: 9`: the key a caller presses anywhere to switch to this language."""
    if raw is None:
        return None
    key = str(raw)
    if key not in set("0123456789*#") or key in TAKEN_KEYS:
        raise SourceError(path, line, f"switch_key: {raw!r} must be one phone key from 6 to 9 (the others answer questions)")
    return key


def _steps(raw: Any, path: str) -> Mapping[str, str]:
    """`steps:` node id -> the step's label in this language (the flow's labels are English)."""
    if raw is None:
        return MappingProxyType({})
    if not isinstance(raw, LineDict) or not all(isinstance(v, str) and v.strip() for v in raw.values()):
        raise SourceError(path, getattr(raw, "line", None), "`steps` must map node ids to step labels")
    return MappingProxyType({str(k): " ".join(v.split()) for k, v in raw.items()})


def _words(raw: Any, path: str) -> Mapping[str, Mapping[str, tuple[str, ...]]]:
    """`words:` node id -> answer -> phrases a caller may use for that answer."""
    if raw is None:
        return MappingProxyType({})
    if not isinstance(raw, LineDict):
        raise SourceError(path, None, "`words` must map node ids to answers and phrases")
    result = {}
    for node_id, answers in raw.items():
        if not isinstance(answers, LineDict):
            raise SourceError(path, raw.line_of(node_id), f"words.{node_id}: expected answers with lists of phrases")
        per_node = {}
        for answer, phrases in answers.items():
            if not isinstance(phrases, list) or not all(isinstance(p, str) and p.strip() for p in phrases):
                raise SourceError(path, answers.line_of(answer), f"words.{node_id}.{answer}: expected a list of phrases")
            per_node[str(answer)] = tuple(phrases)
        result[str(node_id)] = MappingProxyType(per_node)
    return MappingProxyType(result)
