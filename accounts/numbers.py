"""Numbers from the outside world (query strings, cursors, form fields), parsed in one place.

Only ASCII digits count: ``str.isdigit()`` also accepts ``²`` and ``①``, which ``int()`` then
refuses, and ``int()`` itself accepts ``" 7\\n"``, ``"+7"``, ``"7_000"`` and Arabic-Indic digits.
A value that is not the canonical spelling of a number in range is not a number.
"""

from __future__ import annotations

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
