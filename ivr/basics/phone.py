"""Phone numbers, in one place: E.164, masking, reading aloud, a keyed call-back number.

Built on `phonenumbers` (Google's libphonenumber): which country a number is
in, and what kind of line it is. Every layer uses this module; it imports
nothing from ivr.
"""
from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat, PhoneNumberType

# What people and spreadsheets put between digits: spaces, dots, dashes, brackets.
_SEPARATORS = re.compile(r"[\s().-]")
# The shape of E.164: a plus, a country code that does not start with 0, 7 to 15 digits in all.
E164_SHAPE = re.compile(r"^\+[1-9]\d{6,14}$")

# Lines a call back must never ring: a toll-fraud favourite (the caller keys a
# number that pays them per minute, and the operator's agents call it).
COSTLY = frozenset({PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST})

# 7 to 15 digits (E.164 without or with its +, also URL-encoded as %2B), not
# part of a longer word: CallSids (CA + hex), times and ports stay as they are.
IN_TEXT = re.compile(r"(?:(?<=%2B)|(?<=%2b)|(?<![\w+]))(\+?)\d{3,11}(\d{4})(?![\w])")


def compact(raw: str | None) -> str:
    """The number without separators: '+1 (415) 555-0123' -> '+14155550123'."""
    return _SEPARATORS.sub("", raw or "")


def _parsed(number: str) -> PhoneNumber | None:
    try:
        return phonenumbers.parse(number, None)
    except NumberParseException:
        return None


def e164(raw: str | None) -> str | None:
    """The number in E.164 form if it is one a phone could dial, else None.

    Separators are allowed ('+1 415 555 0123'); anonymous callers, SIP
    addresses and Twilio clients are not numbers."""
    number = compact(raw)
    if not E164_SHAPE.match(number):
        return None
    parsed = _parsed(number)
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


def is_e164(raw: str | None) -> bool:
    return e164(raw) is not None


def last_four(number: str | None) -> str | None:
    """The last four digits of a caller's number, or None for anonymous and SIP callers."""
    digits = re.sub(r"\D", "", number or "")
    if not (number or "").lstrip().startswith("+") or len(digits) < 4:
        return None
    return digits[-4:]


def masked(number: str | None) -> str:
    """A caller's number fit for logs and reports: only the last four digits."""
    four = last_four(number)
    return f"***{four}" if four else "unknown"


def mask_text(text: str) -> str:
    """Every number in a text masked to its last four digits (ivr.web.logs, on every log record)."""
    return IN_TEXT.sub(lambda m: f"{m.group(1)}***{m.group(2)}", text)


def spoken(number: str) -> str:
    """A phone number read the way people say it: '+18005550199' -> '1, 8 0 0, 5 5 5, 0 1 9 9'."""
    digits = re.sub(r"\D", "", number)
    if len(digits) == 11 and digits.startswith("1"):      # North America: 1, area code, 3, 4
        groups = [digits[0], digits[1:4], digits[4:7], digits[7:]]
    elif len(digits) == 10:
        groups = [digits[:3], digits[3:6], digits[6:]]
    else:
        groups = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    return ", ".join(" ".join(group) for group in groups)


def country_code(number: str | None) -> int | None:
    """The country calling code of an E.164 number (1 for North America), or None."""
    parsed = _parsed(e164(number) or "")
    return parsed.country_code if parsed is not None else None


def callback_number(keys: str | None, caller: str | None, line: str | None = None,
                    international: bool = False) -> str | None:
    """A number keyed in for a call back, in E.164 form, or None if it cannot be one.

    Read in the caller's country (the line's when the caller's number is hidden;
    North America when both are): ten digits are a North American number for a
    North American caller, a national number elsewhere ('07700 900123' from a UK
    phone); a country code may be keyed with or without 00 or 011. Refused, against
    toll fraud: premium-rate and shared-cost lines always, and a number in another
    country than the caller's unless `international` (IVR_CALLBACK_INTERNATIONAL).
    """
    digits = re.sub(r"\D", "", keys or "")
    home = country_code(caller) or country_code(line) or 1
    region = phonenumbers.region_code_for_country_code(home)
    number = _keyed(digits, home, region)
    if number is None:
        return None
    parsed = _parsed(number)
    if parsed is None or phonenumbers.number_type(parsed) in COSTLY:
        return None
    if parsed.country_code != home and not international:
        return None
    return number


def _keyed(digits: str, home: int, region: str) -> str | None:
    if home == 1 and len(digits) == 10:
        return "+1" + digits if digits[0] not in "01" else None    # an area code never starts with 0 or 1
    if home != 1 and digits.startswith("0") and not digits.startswith("00"):
        try:                                                         # a national number, trunk 0 and all
            national = phonenumbers.parse(digits, region)
        except NumberParseException:
            national = None
        if national is not None and phonenumbers.is_possible_number(national):
            return phonenumbers.format_number(national, PhoneNumberFormat.E164)
    for prefix in ("011", "00"):
        if digits.startswith(prefix):
            digits = digits[len(prefix):]
            break
    if len(digits) == 11 and digits.startswith("1") and digits[1] in "01":
        return None  # a North American area code never starts with 0 or 1
    return e164("+" + digits) if 8 <= len(digits) <= 15 else None
