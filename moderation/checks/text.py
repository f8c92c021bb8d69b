"""The prepared text the checks read: normalised copies with a map back to the text as given.

Checks match on ``folded`` (case folded, accents stripped, compatibility forms such as ligatures,
full-width letters and no-break spaces replaced, soft hyphens and zero-width characters removed)
or on ``plain`` (the same but with case kept, for names). Both have the same length, and
``span()`` turns a span of them into code points of the original text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Removed outright: soft hyphen, zero-width space/joiners, word joiner, BOM, bidi marks.
_IGNORED = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u034f")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_SPECIAL = {
    "ß": "ss",
    "ẞ": "SS",
    "\u2019": "'",
    "\u2018": "'",
    "\u02bc": "'",
    "\u2010": "-",
    "\u2011": "-",
    "\u00a0": " ",
    "\u202f": " ",
    "\u2007": " ",
}


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> tuple[str, str]:
    """One character of the original as (plain, folded) text of equal length."""
    if char in _IGNORED:
        return "", ""
    special = _SPECIAL.get(char)
    if special is None:
        if unicodedata.category(char) == "Cs":  # lone surrogate: keep its place, match nothing
            return "\ufffd", "\ufffd"
        decomposed = unicodedata.normalize("NFKD", char)
        special = "".join(c for c in decomposed if not unicodedata.combining(c))
        if not special and decomposed:  # a lone combining mark belongs to the letter before it
            return "", ""
    folded = "".join(c.lower() if len(c.lower()) == 1 else c for c in special)
    return special, folded


class PreparedText:
    """The text as given with its normalised forms and the index map between them."""

    __slots__ = ("cache", "folded", "original", "plain", "starts")

    def __init__(self, original: str) -> None:
        self.original = original
        self.cache: dict[str, object] = {}  # analyses several checks share (names, sentences)
        if original.isascii():
            self.plain = original
            self.folded = original.lower()
            self.starts = None  # the identity map
            return
        plain: list[str] = []
        folded: list[str] = []
        starts: list[int] = []
        done = 0
        # ASCII runs are copied whole; only the other characters go one by one.
        for run in _NON_ASCII.finditer(original):
            if run.start() > done:
                chunk = original[done : run.start()]
                plain.append(chunk)
                folded.append(chunk.lower())
                starts.extend(range(done, run.start()))
            for index in range(run.start(), run.end()):
                p, f = _fold_char(original[index])
                if p:
                    plain.append(p)
                    folded.append(f)
                    starts.extend([index] * len(p))
            done = run.end()
        if done < len(original):
            chunk = original[done:]
            plain.append(chunk)
            folded.append(chunk.lower())
            starts.extend(range(done, len(original)))
        self.plain = "".join(plain)
        self.folded = "".join(folded)
        self.starts = starts

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original code-point span of the normalised span [start, end)."""
        if self.starts is None:
            return start, end
        if end <= start:
            position = self.starts[start] if start < len(self.starts) else len(self.original)
            return position, position
        first = self.starts[start]
        last = self.starts[end - 1] + 1
        # Take the combining marks of the last letter (NFD text) and the rest of a ligature.
        original = self.original
        while last < len(original) and (
            unicodedata.combining(original[last]) and unicodedata.category(original[last]) != "Cs"
        ):
            last += 1
        return first, last
