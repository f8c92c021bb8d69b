"""Dates as the public pages show them: in the institution's time zone, in the active
language, written as Django's ``date`` filter writes them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import ClassVar

from django.utils import dateformat, translation
from django.utils.formats import get_format

from accounts import localtime as localtime_formats


# Shortcut, earns its place (bench.public_shortcuts, 7 Dec 2026, two runs): Dates/DateText
# against django.utils.dateformat (the date filter): institution page +25%/+9%, permalink
# +4%/+14% (noisy machine; the best page of each run gains at least 10%). Held equal to
# Django's in English and German in every time zone by tests/feeds/test_public_shortcuts.py.
class DateText:
    """Text of a Django date format, as ``django.utils.dateformat.format`` writes it.

    A page shows dozens of dates in one format and language, so the format is split once and
    what depends on the language (month names, "p.m.", "noon") is looked up once per value.
    """

    # Specifiers Django computes from the date alone, written the same way here.
    _PLAIN: ClassVar[dict[str, Callable[[datetime], str]]] = {
        "d": lambda d: f"{d.day:02d}",
        "j": lambda d: str(d.day),
        "m": lambda d: f"{d.month:02d}",
        "n": lambda d: str(d.month),
        "Y": lambda d: f"{d.year:04d}",
        "y": lambda d: f"{d.year % 100:02d}",
        "G": lambda d: str(d.hour),
        "H": lambda d: f"{d.hour:02d}",
        "i": lambda d: f"{d.minute:02d}",
        "s": lambda d: f"{d.second:02d}",
    }
    # Specifiers whose (translated) text depends only on these fields.
    _BY: ClassVar[dict[str, Callable[[datetime], object]]] = {
        "N": lambda d: d.month,
        "M": lambda d: d.month,
        "b": lambda d: d.month,
        "F": lambda d: d.month,
        "P": lambda d: (d.hour, d.minute),
        "a": lambda d: d.hour > 11,
        "A": lambda d: d.hour > 11,
    }

    def __init__(self, format_string: str) -> None:
        self.pieces: list[tuple[str | None, str]] = []  # (specifier, "") or (None, text)
        for i, piece in enumerate(dateformat.re_formatchars.split(str(format_string))):
            if i % 2:
                self.pieces.append((piece, ""))
            elif piece:
                self.pieces.append((None, dateformat.re_escaped.sub(r"\1", piece)))
        self.known: dict[tuple, str] = {}

    def __call__(self, local: datetime) -> str:
        out = []
        formatter = None
        for specifier, text in self.pieces:
            if specifier is None:
                out.append(text)
            elif specifier in self._PLAIN:
                out.append(self._PLAIN[specifier](local))
            else:
                key = (specifier, self._BY[specifier](local)) if specifier in self._BY else None
                if key is None or key not in self.known:
                    formatter = formatter or dateformat.DateFormat(local)
                    value = str(getattr(formatter, specifier)())
                    if key is None:
                        out.append(value)
                        continue
                    self.known[key] = value
                out.append(self.known[key])
        return "".join(out)


@lru_cache(maxsize=64)
def _date_text(format_string: str, language: str | None) -> DateText:
    """One ``DateText`` per format and language in a process: the texts it keeps (month names,
    "p.m.") are the language's, and splitting the format anew cost every page more than
    writing its dates did."""
    return DateText(format_string)


class Dates:
    """Dates as the pages show them: in the institution's time zone, in the active language.

    ``machine`` is the ``datetime`` attribute of ``<time>`` (``Y-m-d\\TH:i:sO``); ``text`` is
    the time with its zone named (``accounts.localtime``), ``day`` the date alone.
    """

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        language = translation.get_language()
        self._text = _date_text(localtime_formats.datetime_format(language), language)
        self._day = _date_text(get_format("DATE_FORMAT"), language)

    def machine(self, value: datetime) -> str:
        local = value.astimezone(self.zone)
        offset = int(local.utcoffset().total_seconds())
        sign = "-" if offset < 0 else "+"
        offset = abs(offset)
        return f"{local:%Y-%m-%dT%H:%M:%S}{sign}{offset // 3600:02d}{offset // 60 % 60:02d}"

    def text(self, value: datetime) -> str:
        # The zone's name is looked up for each moment: one offset has had several names
        # (Pacific/Guam: GST until 2000, ChST since).
        local = value.astimezone(self.zone)
        return f"{self._text(local)} {localtime_formats.zone_name(local)}"

    def day(self, value: datetime) -> str:
        return self._day(value.astimezone(self.zone))
