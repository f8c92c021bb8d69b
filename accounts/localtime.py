"""How Podium shows a moment to people: on the institution's clock, with that clock named.

A quote from a public page must say when, so every visible time carries its zone ("7 Dec 2026,
16:49 CET", "7. Dez. 2026, 16:49 CET"). The zone's name is the time zone database's
abbreviation in both languages (CET/CEST, EST, IST); zones without one ("+04") are written as
an offset from UTC ("UTC+04"). Times are stored in UTC and converted here, at the edge.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from django.utils import dateformat, translation

# Day, abbreviated month, year and a 24-hour time: short, unambiguous, and the same order the
# newspapers of each language use.
DATETIME_FORMATS = {"en": "j M Y, H:i", "de": "j. N Y, H:i"}
DATE_FORMATS = {"en": "j M Y", "de": "j. N Y"}


def datetime_format(language: str | None = None) -> str:
    """The date-and-time format (Django's format characters) of a language."""
    language = (language or translation.get_language() or "en")[:2]
    return DATETIME_FORMATS.get(language, DATETIME_FORMATS["en"])


def zone_name(local: datetime) -> str:
    """The abbreviation of the zone a local time is in, or its offset from UTC."""
    name = local.tzname() or ""
    if name and name[0] not in "+-":
        return name
    offset = int(local.utcoffset().total_seconds()) if local.utcoffset() is not None else 0
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset) // 60, 60)
    return f"UTC{sign}{hours:02d}" + (f":{minutes:02d}" if minutes else "")


def machine_time(value: datetime, zone: tzinfo) -> str:
    """The ISO 8601 time in the zone, with its offset (the ``datetime`` of ``<time>``)."""
    return value.astimezone(zone).isoformat(timespec="seconds")


def local_time_text(value: datetime, zone: tzinfo, language: str | None = None) -> str:
    """A moment as people read it, in the zone and the (active) language, zone named."""
    local = value.astimezone(zone)
    return f"{dateformat.format(local, datetime_format(language))} {zone_name(local)}"
