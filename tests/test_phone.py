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


# -- the international forms of a keyed call-back number ------------------------------------------

DE, FR, CA = "+4915123456789", "+33612345678", "+16135550123"


@pytest.mark.parametrize("keys, caller, expected", [
    ("03012345678", DE, "+493012345678"),          # a German landline keyed the German way
    ("0612345678", FR, "+33612345678"),            # a French mobile, trunk 0
    ("33612345678", FR, "+33612345678"),           # with the country code
    ("0033612345678", FR, "+33612345678"),         # with 00, Europe's international prefix
    ("01133612345678", FR, "+33612345678"),        # with 011, North America's, as a traveller might
    ("011447700900188", UK, "+447700900188"),      # the caller's own country, whichever prefix
    ("4155550188", CA, "+14155550188"),            # +1 is one country here: a Canadian caller, a US number
    ("6135550188", US, "+16135550188"),            # and the other way round
    ("17700900188", UK, None),                     # +1 770 090...: no area code starts with 0
    ("0", UK, None), ("00", UK, None), ("0044", UK, None),   # a prefix with no number after it
])
def test_callback_number_international_forms(keys, caller, expected):
    assert phone.callback_number(keys, caller) == expected


@pytest.mark.parametrize("keys, caller", [
    ("004930123456", UK),          # a German number from a UK phone
    ("0014155550188", UK),         # a US number from a UK phone, 00 and 1
    ("00447700900188", US),        # a UK number from a US phone, with Europe's 00
])
def test_another_countrys_number_in_any_form_needs_the_operators_leave(keys, caller):
    assert phone.callback_number(keys, caller) is None
    assert phone.callback_number(keys, caller, international=True) is not None


def test_costly_numbers_are_refused_in_any_country():
    assert phone.callback_number("0891234567", FR) is None                      # France 089: premium rate
    assert phone.callback_number("08712345678", UK) is None                     # UK 0871: shared cost
    assert phone.callback_number("001", UK, international=True) is None         # a country code alone
    # A hidden caller on a UK line: ten digits are not a North American number here.
    assert phone.callback_number("4155550188", None, line="+441632960001") is None
