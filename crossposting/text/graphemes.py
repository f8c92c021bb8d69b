"""Grapheme clusters, UTF-8 and UTF-16 positions: the units the five networks count in."""

from __future__ import annotations

from array import array

import regex

GRAPHEME_RE = regex.compile(r"\X")
# What JavaScript's \s matches (ECMAScript WhiteSpace and LineTerminator): the Bluesky detector's
# notion of a space, which differs from Python's (no U+001C-U+001F or U+0085, but U+FEFF).
JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
ELLIPSIS = "…"


def graphemes(text: str) -> list[str]:
    """The extended grapheme clusters (UAX #29) of a text, in order."""
    return GRAPHEME_RE.findall(text)


def grapheme_count(text: str) -> int:
    """How many extended grapheme clusters a text has."""
    return len(GRAPHEME_RE.findall(text))


def utf8_length(text: str) -> int:
    """UTF-8 bytes of a text (a lone surrogate counts 3, as JavaScript's encoder writes U+FFFD)."""
    return len(text.encode("utf-8", "surrogatepass"))


def utf16_length(text: str) -> int:
    """UTF-16 code units of a text (JavaScript's and Java's String length)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def utf16_units(text: str) -> str:
    """The text as one character per UTF-16 code unit (astral characters become surrogate pairs),
    so patterns written for JavaScript strings match at the same places."""
    return "".join(map(chr, array("H", text.encode("utf-16-le", "surrogatepass"))))


def utf8_offsets(text: str) -> list[int]:
    """UTF-8 byte offset of every code point index of a text, and of its end."""
    offsets = [0]
    total = 0
    for character in text:
        total += utf8_length(character)
        offsets.append(total)
    return offsets


def utf16_offsets(text: str) -> list[int]:
    """UTF-16 offset of every code point index of a text, and of its end."""
    offsets = [0]
    total = 0
    for character in text:
        total += 2 if ord(character) > 0xFFFF else 1
        offsets.append(total)
    return offsets


def grapheme_boundaries(text: str) -> list[int]:
    """Code point indices where a cut never splits a grapheme: 0, each cluster's end."""
    boundaries = [0]
    for match in GRAPHEME_RE.finditer(text):
        boundaries.append(match.end())
    return boundaries


def _blank(cluster: str) -> bool:
    return cluster.isspace()


def trim_end(text: str) -> str:
    """The text without trailing whitespace clusters (never half a grapheme, unlike rstrip)."""
    clusters = graphemes(text)
    while clusters and _blank(clusters[-1]):
        clusters.pop()
    return "".join(clusters)


def trim_start(text: str) -> str:
    """The text without leading whitespace clusters."""
    clusters = graphemes(text)
    index = 0
    while index < len(clusters) and _blank(clusters[index]):
        index += 1
    return "".join(clusters[index:])


def trim(text: str) -> str:
    """The text without leading and trailing whitespace clusters."""
    return trim_end(trim_start(text))
