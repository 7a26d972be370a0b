"""ivr.basics.phone: E.164, masking, reading aloud, and a keyed call-back number."""
from __future__ import annotations

import pytest

from ivr.basics import phone


@pytest.mark.parametrize("raw, expected", [
    ("+14155550123", "+14155550123"),
    ("+1 (415) 555-0123", "+14155550123"),
    ("+44 7700 900123", "+447700900123"),
    ("14155550123", None),           # no plus: not E.164
    ("+0123456789", None),           # no country code starts with 0
    ("anonymous", None), ("sip:agent@example.com", None), ("client:alice", None), ("", None), (None, None),
])
def test_e164(raw, expected):
    assert phone.e164(raw) == expected


def test_masked_and_last_four():
    assert phone.masked("+14155550123") == "***0123"
    assert phone.masked("anonymous") == "unknown"
    assert phone.last_four("client:alice") is None
    assert phone.mask_text("from +14155550123 to %2B15555550188, CallSid CA0123456789") == \
        "from +***0123 to %2B***0188, CallSid CA0123456789"


def test_read_aloud():
    assert phone.spoken("+18005550199") == "1, 8 0 0, 5 5 5, 0 1 9 9"


US, UK = "+14155550123", "+447700900123"


@pytest.mark.parametrize("keys, caller, expected", [
    ("4155550188", US, "+14155550188"),           # ten digits from a North American phone
    ("4155550188", None, "+14155550188"),         # hidden number: North America
    ("14155550188", US, "+14155550188"),          # with the 1
    ("01114155550188", US, "+14155550188"),       # 011 and the country code
    ("1234567890", US, None),                     # an area code never starts with 0 or 1
    ("11235550188", US, None),
    ("07700900188", UK, "+447700900188"),         # a UK number keyed the UK way, trunk 0 and all
    ("447700900188", UK, "+447700900188"),        # or with its country code
    ("00447700900188", UK, "+447700900188"),      # or with 00
    ("123", US, None), ("", US, None), (None, US, None),
])
def test_callback_number_is_read_in_the_callers_country(keys, caller, expected):
    assert phone.callback_number(keys, caller) == expected


def test_a_hidden_caller_is_read_in_the_lines_country():
    assert phone.callback_number("07700900188", "anonymous", line="+441632960001") == "+447700900188"


def test_another_country_only_when_the_operator_allows_it():
    assert phone.callback_number("011447700900188", US) is None
    assert phone.callback_number("011447700900188", US, international=True) == "+447700900188"
    assert phone.callback_number("4155550188", UK) is None      # +41: Switzerland, not the UK caller's country


def test_premium_rate_numbers_are_never_called_back():
    assert phone.callback_number("9005550188", US) is None                       # US 900: premium rate
    assert phone.callback_number("09098790000", UK, international=True) is None  # UK 09: premium rate
