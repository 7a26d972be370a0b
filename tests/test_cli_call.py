"""`ivr call` itself: the terminal call simulator, run with scripted answers (--say, or
piped in), asserting on the transcript it prints."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from conftest import ROOT

from ivr.tools.cli import main


def ivr_call(tmp_path, *answers: str, piped: str | None = None, **options: str) -> list[str]:
    """The lines `ivr call` printed, each a speaker and what was said."""
    args = ["call", *(a for answer in answers for a in ("--say", answer))]
    for name, value in options.items():
        args += [f"--{name}", value]
    env = {"IVR_FLOWS_DIR": str(ROOT / "flows"), "IVR_PROMPTS_DIR": str(ROOT / "prompts"),
           "DATABASE_URL": f"sqlite:///{tmp_path}/call.db"}   # a fresh caller: no call to resume
    result = CliRunner().invoke(main, args, env=env, input=piped, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return [line.strip() for line in result.output.splitlines() if line.strip()]


def said(lines: list[str]) -> str:
    return " ".join(line.removeprefix("bot: ") for line in lines if line.startswith("bot: "))


def test_a_keyed_release_from_the_welcome_to_the_goodbye(tmp_path):
    lines = ivr_call(tmp_path, "1", "1", "1")
    assert lines[0] == "bot: Charging help line. Let's free the connector."
    assert "bot: Para español, oprima 9, o diga español." in lines
    assert [line for line in lines if line.startswith("you: ")] == ["you: 1"] * 3
    assert "Great, it's out." in said(lines)
    assert lines[-2] == "[the bot hangs up]"
    assert re.fullmatch(r"\[call ended: hangup; CallSid CA[0-9a-f]{32}\]", lines[-1])


def test_speech_is_typed_and_a_hazard_is_handled_first(tmp_path):
    lines = ivr_call(tmp_path, "there's smoke coming out of the cable")
    assert "you: there's smoke coming out of the cable" in lines
    assert "Call 9 1 1 now." in said(lines)
    assert "Which plug is it?" not in said(lines[lines.index("you: there's smoke coming out of the cable"):])
    assert lines[-1].startswith("[call ended: caller hung up;")      # the script ran out


def test_silence_and_a_mumble_are_asked_again(tmp_path):
    lines = ivr_call(tmp_path, "", "banana")
    after = said(lines[lines.index("you:"):])
    assert "I didn't hear anything." in after and "Sorry, I didn't catch that." in after
    assert after.count("Which plug is it?") == 2


def test_a_person_the_agent_hears_the_whisper_and_answers(tmp_path):
    lines = ivr_call(tmp_path, "0", "y")
    assert any(line.startswith("[ringing the agent line ") for line in lines)
    assert any(line.startswith("[agent hears: ") for line in lines)
    assert "[agent answers? y/n] y" in lines
    assert lines[-2:-1] == ["[the bot hangs up]"]


def test_key_9_switches_to_the_language_the_prompts_name(tmp_path):
    lines = ivr_call(tmp_path, "9")
    assert "Muy bien, seguimos en español." in said(lines)


@pytest.mark.parametrize("piped", ["1\n1\n1\n"])
def test_answers_piped_in_are_shown_as_a_transcript(tmp_path, piped):
    lines = ivr_call(tmp_path, piped=piped)
    assert [line for line in lines if line.startswith("you: ")] == ["you: 1"] * 3
    assert "Great, it's out." in said(lines)


def test_the_confidence_option_is_what_the_bot_hears(tmp_path):
    """A release said at low confidence is confirmed before the call ends."""
    (tmp_path / "sure").mkdir()
    (tmp_path / "unsure").mkdir()
    sure = ivr_call(tmp_path / "sure", "1", "1", "yes it came out")
    assert "Great, it's out." in said(sure)
    unsure = ivr_call(tmp_path / "unsure", "1", "1", "yes it came out", confidence="0.3")
    assert "Great, it's out." not in said(unsure)
