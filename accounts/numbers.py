"""Numbers and times from the outside world (query strings, cursors, forms, API bodies), checked in
one place.

Only ASCII digits count: ``str.isdigit()`` also accepts ``²`` and ``①``, which ``int()`` then
refuses, and ``int()`` itself accepts ``" 7\\n"``, ``"+7"``, ``"7_000"`` and Arabic-Indic digits.
A value that is not the canonical spelling of a number in range is not a number.
"""

from __future__ import annotations

import datetime as dt
import re

_ASCII_DIGITS = re.compile(r"(?:0|[1-9][0-9]{0,17})")


def parse_ascii_int(value: object, *, minimum: int = 0, maximum: int = 2**63 - 1) -> int | None:
    """The integer ``value`` spells in canonical ASCII digits within range, else None.

    Canonical: no sign, no leading zeros, no spaces or separators, at most 18 digits.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _ASCII_DIGITS.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if minimum <= number <= maximum else None


# Times anyone may give: wall-clock bounds, compared naive, far enough inside datetime's range that
# converting between any two time zones can never overflow.
EARLIEST_TIME = dt.datetime(1970, 1, 1)
LATEST_TIME = dt.datetime(2999, 12, 31, 23, 59, 59)


def time_in_range(value: dt.datetime) -> bool:
    """Whether a time (naive on any clock, or aware) lies within EARLIEST_TIME..LATEST_TIME."""
    if not EARLIEST_TIME <= value.replace(tzinfo=None) <= LATEST_TIME:
        return False
    if value.tzinfo is not None:
        utc = value.astimezone(dt.UTC).replace(tzinfo=None)
        return EARLIEST_TIME <= utc <= LATEST_TIME
    return True
