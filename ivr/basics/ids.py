"""The shapes of the identifiers that travel between layers: language tags and station IDs.

Each pattern is defined here once; the flow, the prompts, the settings, the URL
state and the number setup all check against these.
"""
from __future__ import annotations

import re

# A language tag as the prompts files are named: en-US, es-US.
LANGUAGE_TAG = re.compile(r"^[a-z]{2}-[A-Z]{2}\Z")
# A station ID as the operator's systems write it (a number's ?station=, the
# call's state): letters, digits, _ . -, up to 32.
STATION_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}\Z")


def is_language_tag(value: object) -> bool:
    return isinstance(value, str) and LANGUAGE_TAG.match(value) is not None


def is_station_id(value: object) -> bool:
    return isinstance(value, str) and STATION_ID.match(value) is not None
