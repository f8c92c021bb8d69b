"""X: twitter-text 3.1.0's weighted length (config v3), the counter X itself uses.

The algorithm is ``parseTweet`` of twitter-text 3.1.0 step by step, on UTF-16 code units as
JavaScript walks them: NFC; a URL (with or without scheme, twitter-text's extractor, ``urls``)
weighs 23; an emoji that twemoji-parser 11.0.2 finds weighs 2 (``twemoji.TWEMOJI_RE``, including
a lone U+FE0F); any other code unit weighs 1 inside the v3 ranges and 2 outside (an astral
character is one step, weighed by its low surrogate, so 2).
Valid: 0 < length <= 280 and no U+FFFE, U+FEFF or U+FFFF where twitter-text looks for them.
The PyPI port's own ``parse_tweet`` is not used: it disagrees with 3.1.0 on emoji and CR LF.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from crossposting.text.graphemes import utf16_units
from crossposting.text.rendering import Measurement, Network
from crossposting.text.twemoji import TWEMOJI_RE
from crossposting.text.urls import extract_urls_with_indices

MAX_WEIGHTED_LENGTH = 280
SCALE = 100
DEFAULT_WEIGHT = 200
TRANSFORMED_URL_LENGTH = 23
RANGES = ((0, 4351, 100), (8192, 8205, 100), (8208, 8223, 100), (8242, 8247, 100))
INVALID = frozenset("\ufffe\ufeff\uffff")


def _weight(unit: str) -> int:
    point = ord(unit)
    for start, end, weight in RANGES:
        if start <= point <= end:
            return weight
    return DEFAULT_WEIGHT


def urls(text: str) -> list[dict]:
    """twitter-text's URL entities of a (normalised) text, code point indices."""
    return extract_urls_with_indices(text)


def weighted_length(text: str) -> tuple[int, bool, list[str]]:
    """Weighted length, whether it is free of invalid characters, and the URLs of a text, exactly
    as twitter-text 3.1.0's parseTweet computes them."""
    normalized = unicodedata.normalize("NFC", text)
    units = utf16_units(normalized)
    entities = urls(normalized)
    url_ends = {}
    for entity in entities:
        start, end = entity["utf16"]
        url_ends.setdefault(start, end)
    emoji_ends = {}
    for match in TWEMOJI_RE.finditer(units):
        emoji_ends.setdefault(match.start(), match.end())
    total, valid, index, count = 0, True, 0, len(units)
    while index < count:
        if index in url_ends:
            total += TRANSFORMED_URL_LENGTH * SCALE
            index = url_ends[index] - 1
        elif index in emoji_ends:
            total += DEFAULT_WEIGHT
            index = emoji_ends[index] - 1
        else:
            high = 0xD800 <= ord(units[index]) <= 0xDBFF
            if high and index + 1 < count and 0xDC00 <= ord(units[index + 1]) <= 0xDFFF:
                index += 1
            total += _weight(units[index])
        if valid and units[index] in INVALID:
            valid = False
        index += 1
    return total // SCALE, valid, [entity["url"] for entity in entities]


@dataclass(frozen=True)
class X(Network):
    name: str = "x"
    unit: str = "weighted"
    default_limit: int = MAX_WEIGHTED_LENGTH
    max_images: int = 4
    alt_text_limit: int = 1000

    def measure(self, text: str, limit: int | None = None) -> Measurement:
        limit = limit or self.default_limit
        length, clean, links = weighted_length(text)
        valid = clean and 0 < length <= limit
        return Measurement(
            network=self.name,
            length=length,
            valid=valid,
            unit=self.unit,
            limit=limit,
            links=tuple(links),
        )


NETWORK = X()
