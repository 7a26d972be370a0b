"""The escalation file: parsing with file:line errors, business hours, the next link."""
from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from ivr import content
from ivr.call import escalation
from ivr.call.escalation import next_link
from ivr.content.yamlfile import SourceError

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "escalation.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_file_loads():
    loaded = content.load_escalation(ROOT / "flows" / "escalation.yaml")
    assert loaded.fallback[-1] == "sms" and "voicemail" in loaded.fallback
    assert "second_agent" not in loaded.after_hours


def test_a_missing_file_means_a_voicemail_only(tmp_path):
    loaded = content.load_escalation(tmp_path / "nope.yaml")
    assert loaded.fallback == ("voicemail",) and loaded.hours is None and loaded.queue is None


def test_every_key(tmp_path):
    loaded = content.load_escalation(write(tmp_path, """
agent: {timeout: 30, queue: support, queue_max_wait: 120}
hours:
  timezone: America/New_York
  weekdays: "08:00-20:00"
  saturday: ["09:00-12:00", "13:00-17:00"]
  sunday: closed
  holidays: [2026-12-25, "2027-01-01"]
fallback:
  - second_agent: {number: "+1 415 555 0111", timeout: 15}
  - voicemail: {max_length: 90, transcribe: false}
  - callback
  - sms
after_hours: [voicemail, sms]
support_number: "+18005550199"
"""))
    assert loaded.agent_timeout == 30 and loaded.queue == "support" and loaded.queue_max_wait == 120
    assert loaded.second_agent == "+14155550111" and loaded.second_agent_timeout == 15
    assert loaded.voicemail_max_length == 90 and loaded.transcribe is False
    assert loaded.fallback == ("second_agent", "voicemail", "callback", "sms")
    assert loaded.after_hours == ("voicemail", "sms")
    assert loaded.support_number == "+18005550199"
    assert date(2026, 12, 25) in loaded.hours.holidays and date(2027, 1, 1) in loaded.hours.holidays
    assert len(loaded.hours.week[5]) == 2 and loaded.hours.week[6] == ()


@pytest.mark.parametrize("text, line, words", [
    ("agent: {timeout: 2}\n", 1, "agent.timeout"),
    ("fallback:\n  - voicemail\n  - pager\n", 1, "'pager' is not a link"),
    ("fallback: [voicemail, voicemail]\n", 1, "listed twice"),
    ("fallback: [second_agent]\n", 1, "needs a number"),
    ("\n\nafter_hours: [second_agent]\nfallback: [second_agent: {number: '+14155550111'}]\n", 3, "nobody is there"),
    ("hours:\n  timezone: Mars/Olympus\n  weekdays: '08:00-20:00'\n", 2, "not a time zone"),
    ("hours:\n  timezone: UTC\n  weekdays: '8 to 8'\n", 3, "not an opening time"),
    ("hours:\n  timezone: UTC\n  monday: '20:00-08:00'\n", 3, "ends before it starts"),
    ("hours:\n  timezone: UTC\n  funday: '08:00-09:00'\n", 3, "not a day"),
    ("hours:\n  timezone: UTC\n  weekdays: '08:00-20:00'\n  holidays: [christmas]\n", 4, "not a date"),
    ("hours:\n  timezone: UTC\n  weekdays: '08:00-20:00'\n  holidays: {country: XX}\n", 4, "no public holidays"),
    ("support_number: 555-0199\n", 1, "E.164"),
    ("fallback:\n  - voicemail: {max_lenght: 60}\n", 2, "unknown key 'max_lenght'"),
    ("fallback:\n  - voicemail:\n      max_length: 300\n", 3, "up to 120 seconds"),
    ("agent: {queue: 'a/b'}\n", 1, "queue name"),
    ("escalate: yes\n", 1, "unknown key 'escalate'"),
])
def test_problems_point_at_file_and_line(tmp_path, text, line, words):
    path = write(tmp_path, text)
    with pytest.raises(SourceError) as caught:
        content.load_escalation(path)
    assert caught.value.line == line, str(caught.value)
    assert words in str(caught.value) and str(caught.value).startswith(f"{path}:{line}:")


HOURS = """
hours:
  timezone: America/Los_Angeles
  weekdays: "08:00-20:00"
  saturday: "10:00-14:00"
  holidays:
    country: US
    subdivision: CA
    dates: [2026-12-24]
"""


@pytest.mark.parametrize("utc, is_open", [
    (datetime(2026, 11, 23, 16, 0, tzinfo=timezone.utc), True),    # Monday 08:00 in Los Angeles
    (datetime(2026, 11, 23, 15, 59, tzinfo=timezone.utc), False),  # Monday 07:59
    (datetime(2026, 11, 24, 4, 0, tzinfo=timezone.utc), False),    # Monday 20:00: closed at the end
    (datetime(2026, 11, 28, 19, 0, tzinfo=timezone.utc), True),    # Saturday 11:00
    (datetime(2026, 11, 29, 19, 0, tzinfo=timezone.utc), False),   # Sunday: not listed, closed
    (datetime(2026, 11, 26, 19, 0, tzinfo=timezone.utc), False),   # Thanksgiving, a Thursday
    (datetime(2026, 12, 24, 19, 0, tzinfo=timezone.utc), False),   # a date of the operator's own
    (datetime(2026, 12, 23, 19, 0, tzinfo=timezone.utc), True),
])
def test_business_hours_in_the_local_time_zone_with_holidays(tmp_path, utc, is_open):
    loaded = content.load_escalation(write(tmp_path, HOURS))
    assert loaded.is_open(utc) is is_open


def test_summer_time_moves_the_opening_hour(tmp_path):
    loaded = content.load_escalation(write(tmp_path, HOURS))
    assert loaded.is_open(datetime(2026, 7, 6, 15, 0, tzinfo=timezone.utc))        # 08:00 PDT
    assert not loaded.is_open(datetime(2026, 1, 5, 15, 0, tzinfo=timezone.utc))     # 07:00 PST


def test_no_hours_means_always_open():
    assert escalation.DEFAULT.is_open(datetime(2026, 12, 25, 3, 0, tzinfo=timezone.utc))


CHAIN = ("second_agent", "voicemail", "callback", "sms")


def test_next_link_walks_the_chain_in_order():
    assert next_link(CHAIN, -1, "") == (0, "second_agent")
    assert next_link(CHAIN, 0, "2") == (1, "voicemail")
    assert next_link(CHAIN, 1, "2") == (2, "callback")   # a message declined: offer a call back
    assert next_link(CHAIN, 3, "2s") is None              # then goodbye


def test_a_message_left_skips_the_call_back_and_the_other_way_round():
    assert next_link(CHAIN, 1, "2v") == (3, "sms")
    assert next_link(("callback", "voicemail", "sms"), 0, "c") == (2, "sms")


def test_links_that_cannot_run_are_skipped():
    assert next_link(CHAIN, -1, "", unavailable={"second_agent"}) == (1, "voicemail")
    assert next_link(("sms",), -1, "", unavailable={"sms"}) is None


def test_each_link_can_be_left_out():
    for link in CHAIN:
        chain = tuple(other for other in CHAIN if other != link)
        walked, at, done = [], -1, ""
        while (step := next_link(chain, at, done)) is not None:
            at, name = step
            walked.append(name)
        assert link not in walked and walked == list(chain)


def test_the_readme_example_loads(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The hand-off to a person"):]
    example = section[section.index("```yaml") + len("```yaml"):]
    example = example[:example.index("```")]
    loaded = content.load_escalation(write(tmp_path, example))
    assert loaded.queue == "stuck-connector" and loaded.hours.country == "US"
    assert loaded.fallback == ("second_agent", "voicemail", "callback", "sms")
